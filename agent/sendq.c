/* SPDX-License-Identifier: Apache-2.0 */
#include "sendq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

int sendq_init(struct sendq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->ring = calloc(cap, sizeof(*q->ring));
	if (!q->ring)
		return -ENOMEM;
	q->cap = cap;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

static struct sendq_item *at(struct sendq *q, uint64_t pos)
{
	return &q->ring[pos % q->cap];
}

static void release(struct sendq *q, uint64_t pos)
{
	struct sendq_item *it = at(q, pos);

	free(it->data);
	it->data = NULL;
}

void sendq_free(struct sendq *q)
{
	if (!q->ring)
		return;
	for (uint64_t p = q->head; p < q->tail; p++)
		release(q, p);
	free(q->ring);
	q->ring = NULL;
	pthread_mutex_destroy(&q->lock);
}

void sendq_push(struct sendq *q, uint64_t seq, uint8_t *data, uint32_t len, const char *event_id)
{
	struct sendq_item *it;

	pthread_mutex_lock(&q->lock);
	if (q->tail - q->head == q->cap) {
		/* Full: the oldest goes, sent or not. */
		release(q, q->head);
		q->head++;
		if (q->sent < q->head)
			q->sent = q->head;
		q->st.dropped++;
	}
	it = at(q, q->tail++);
	it->seq = seq;
	it->enq_ns = mono_ns();
	it->data = data;
	it->len = len;
	memcpy(it->event_id, event_id, SENDQ_ID_LEN);
	it->event_id[SENDQ_ID_LEN] = '\0';
	pthread_mutex_unlock(&q->lock);
}

size_t sendq_unsent(struct sendq *q, uint64_t now_ns, uint64_t *oldest_age_ns)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = (size_t)(q->tail - q->sent);
	*oldest_age_ns = n ? now_ns - at(q, q->sent)->enq_ns : 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

static size_t varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static int reserve(uint8_t **out, size_t *cap, size_t need)
{
	uint8_t *p;
	size_t ncap = *cap ? *cap : 64 * 1024;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*out, ncap);
	if (!p)
		return -ENOMEM;
	*out = p;
	*cap = ncap;
	return 0;
}

size_t sendq_take(struct sendq *q, size_t max, int batch, uint8_t **out, size_t *out_cap,
		  size_t *out_len)
{
	size_t n = 0, len = 0;

	if (!batch)
		max = 1;
	pthread_mutex_lock(&q->lock);
	/* Copy under the lock: a full queue may drop (free) these entries
	 * the moment we let go. */
	while (n < max && q->sent + n < q->tail) {
		struct sendq_item *it = at(q, q->sent + n);
		size_t need = len + it->len + (batch ? 11 : 0);

		if (reserve(out, out_cap, need) != 0)
			break;
		if (batch) {
			(*out)[len++] = 0x0a; /* field 1, length-delimited */
			len += varint(*out + len, it->len);
		}
		memcpy(*out + len, it->data, it->len);
		len += it->len;
		n++;
	}
	q->sent += n;
	pthread_mutex_unlock(&q->lock);
	*out_len = len;
	return n;
}

void sendq_ack_seq(struct sendq *q, uint64_t seq)
{
	pthread_mutex_lock(&q->lock);
	while (q->head < q->sent && at(q, q->head)->seq <= seq) {
		release(q, q->head++);
		q->st.acked++;
	}
	pthread_mutex_unlock(&q->lock);
}

void sendq_ack_event_id(struct sendq *q, const char *event_id)
{
	uint64_t p;

	pthread_mutex_lock(&q->lock);
	for (p = q->head; p < q->sent; p++)
		if (strncmp(at(q, p)->event_id, event_id, SENDQ_ID_LEN) == 0)
			break;
	if (p < q->sent) {
		while (q->head <= p) {
			release(q, q->head++);
			q->st.acked++;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

size_t sendq_rewind(struct sendq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = (size_t)(q->sent - q->head);
	q->sent = q->head;
	q->st.resent += n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void sendq_get_stats(struct sendq *q, struct sendq_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->st;
	out->depth = q->tail - q->head;
	out->unsent = q->tail - q->sent;
	pthread_mutex_unlock(&q->lock);
}
