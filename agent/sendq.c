/* SPDX-License-Identifier: Apache-2.0 */
#include "sendq.h"

#include "pb_envelope.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sendq_init(struct sendq *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->fly.items = calloc(cap, sizeof(*q->fly.items));
	q->unsent.items = calloc(cap, sizeof(*q->unsent.items));
	q->spare = calloc(SENDQ_SPARES, sizeof(*q->spare));
	if (!q->fly.items || !q->unsent.items || !q->spare) {
		free(q->fly.items);
		free(q->unsent.items);
		free(q->spare);
		q->fly.items = q->unsent.items = NULL;
		q->spare = NULL;
		return -ENOMEM;
	}
	q->cap = cap;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

static struct sendq_item *at(const struct sendq *q, const struct sendq_ring *r, size_t i)
{
	return &r->items[(r->start + i) % q->cap];
}

/* Takes the first item off @r; the caller frees or moves its data. */
static struct sendq_item pop_front(struct sendq *q, struct sendq_ring *r)
{
	struct sendq_item it = *at(q, r, 0);

	r->start = (r->start + 1) % q->cap;
	r->len--;
	return it;
}

static void push_back(struct sendq *q, struct sendq_ring *r, const struct sendq_item *it)
{
	*at(q, r, r->len) = *it;
	r->len++;
}

/* Keeps @data for a later push, or frees it; call with the lock held. */
static void recycle(struct sendq *q, uint8_t *data, uint32_t cap)
{
	if (q->n_spare < SENDQ_SPARES)
		q->spare[q->n_spare++] = (struct sendq_buf){data, cap};
	else
		free(data);
}

static void release_front(struct sendq *q, struct sendq_ring *r)
{
	struct sendq_item it = pop_front(q, r);

	recycle(q, it.data, it.cap);
}

/* A buffer of at least @len bytes for @it: the latest spare, grown when
 * too small. Call with the lock held; -ENOMEM leaves @it untouched. */
static int fill(struct sendq *q, struct sendq_item *it, const uint8_t *data, uint32_t len)
{
	struct sendq_buf b = q->n_spare ? q->spare[--q->n_spare] : (struct sendq_buf){NULL, 0};

	if (!b.data || b.cap < len) {
		uint32_t cap = len > SENDQ_BUF_MIN ? len : SENDQ_BUF_MIN;
		uint8_t *grown = realloc(b.data, cap);

		if (!grown) {
			recycle(q, b.data, b.cap);
			return -ENOMEM;
		}
		b.data = grown;
		b.cap = cap;
	}
	memcpy(b.data, data, len);
	it->data = b.data;
	it->cap = b.cap;
	it->len = len;
	return 0;
}

void sendq_free(struct sendq *q)
{
	if (!q->fly.items)
		return;
	while (q->fly.len)
		release_front(q, &q->fly);
	while (q->unsent.len)
		release_front(q, &q->unsent);
	while (q->n_spare)
		free(q->spare[--q->n_spare].data);
	free(q->spare);
	free(q->fly.items);
	free(q->unsent.items);
	q->fly.items = q->unsent.items = NULL;
	q->spare = NULL;
	pthread_mutex_destroy(&q->lock);
}

enum sendq_push_result sendq_push(struct sendq *q, uint64_t seq, enum ev_type type,
				  const uint8_t *data, uint32_t len, const char *event_id,
				  uint64_t now_ns)
{
	enum sendq_push_result r = SENDQ_KEPT;
	struct sendq_item it = {.seq = seq, .enq_ns = now_ns, .type = type};

	memcpy(it.event_id, event_id, SENDQ_ID_LEN);
	it.event_id[SENDQ_ID_LEN] = '\0';
	pthread_mutex_lock(&q->lock);
	/* The copy under the lock: ~300 bytes, cheaper than a second lock. */
	if (fill(q, &it, data, len) != 0) {
		pthread_mutex_unlock(&q->lock);
		return SENDQ_NO_MEMORY;
	}
	if (q->fly.len + q->unsent.len == q->cap) {
		/* Full: the oldest unsent goes; in flight only if all are. */
		struct sendq_ring *from = q->unsent.len ? &q->unsent : &q->fly;
		struct sendq_type_stats *ts = &q->st.type[at(q, from, 0)->type];

		r = at(q, from, 0)->was_sent ? SENDQ_DROPPED_UNACKED : SENDQ_DROPPED_UNSENT;
		release_front(q, from);
		q->st.dropped++;
		ts->dropped++;
		if (r == SENDQ_DROPPED_UNACKED) {
			q->st.dropped_unacked++;
			ts->dropped_unacked++;
		}
	}
	push_back(q, &q->unsent, &it);
	q->st.type[type].pushed++;
	pthread_mutex_unlock(&q->lock);
	return r;
}

size_t sendq_unsent(struct sendq *q, uint64_t now_ns, uint64_t *oldest_age_ns)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->unsent.len;
	*oldest_age_ns = n && now_ns > at(q, &q->unsent, 0)->enq_ns
				 ? now_ns - at(q, &q->unsent, 0)->enq_ns
				 : 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

size_t sendq_in_flight(struct sendq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->fly.len;
	pthread_mutex_unlock(&q->lock);
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
	while (n < max && q->unsent.len) {
		struct sendq_item *it = at(q, &q->unsent, 0), moved;
		size_t need = len + it->len + (batch ? 1 + PB_VARINT_MAX : 0);

		if (reserve(out, out_cap, need) != 0)
			break;
		if (batch) {
			(*out)[len++] = 0x0a; /* field 1, length-delimited */
			len = (size_t)(pb_put_varint(*out + len, it->len) - *out);
		}
		memcpy(*out + len, it->data, it->len);
		len += it->len;
		moved = pop_front(q, &q->unsent);
		moved.was_sent = 1;
		push_back(q, &q->fly, &moved);
		n++;
	}
	pthread_mutex_unlock(&q->lock);
	*out_len = len;
	return n;
}

/* The oldest in flight was answered; call with the lock held. */
static void ack_front(struct sendq *q)
{
	q->st.type[at(q, &q->fly, 0)->type].acked++;
	release_front(q, &q->fly);
	q->st.acked++;
}

void sendq_ack_seq(struct sendq *q, uint64_t seq)
{
	pthread_mutex_lock(&q->lock);
	while (q->fly.len && at(q, &q->fly, 0)->seq <= seq)
		ack_front(q);
	pthread_mutex_unlock(&q->lock);
}

void sendq_ack_event_id(struct sendq *q, const char *event_id)
{
	size_t i;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < q->fly.len; i++)
		if (strncmp(at(q, &q->fly, i)->event_id, event_id, SENDQ_ID_LEN) == 0)
			break;
	if (i < q->fly.len) {
		for (size_t k = 0; k <= i; k++)
			ack_front(q);
	}
	pthread_mutex_unlock(&q->lock);
}

size_t sendq_rewind(struct sendq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->fly.len;
	/* In flight, in order, back in front of the unsent: newest first. */
	while (q->fly.len) {
		q->unsent.start = (q->unsent.start + q->cap - 1) % q->cap;
		q->unsent.len++;
		*at(q, &q->unsent, 0) = *at(q, &q->fly, q->fly.len - 1);
		q->fly.len--;
	}
	q->st.resent += n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* The oldest unanswered entry that was sent: in flight, else (after a
 * rewind) the first unsent. NULL when none; call with the lock held. */
static struct sendq_item *oldest_sent(struct sendq *q)
{
	struct sendq_ring *r = q->fly.len ? &q->fly : &q->unsent;

	return r->len && at(q, r, 0)->was_sent ? at(q, r, 0) : NULL;
}

int sendq_oldest_sent(struct sendq *q, uint64_t *seq)
{
	struct sendq_item *it;

	pthread_mutex_lock(&q->lock);
	it = oldest_sent(q);
	if (it)
		*seq = it->seq;
	pthread_mutex_unlock(&q->lock);
	return it != NULL;
}

int sendq_reject_oldest(struct sendq *q, uint64_t *seq, char event_id[SENDQ_ID_LEN + 1])
{
	struct sendq_item *it;

	pthread_mutex_lock(&q->lock);
	it = oldest_sent(q);
	if (it) {
		*seq = it->seq;
		memcpy(event_id, it->event_id, SENDQ_ID_LEN + 1);
		q->st.type[it->type].rejected++;
		release_front(q, q->fly.len ? &q->fly : &q->unsent);
		q->st.rejected++;
	}
	pthread_mutex_unlock(&q->lock);
	return it != NULL;
}

void sendq_get_stats(struct sendq *q, struct sendq_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->st;
	out->depth = q->fly.len + q->unsent.len;
	out->unsent = q->unsent.len;
	pthread_mutex_unlock(&q->lock);
}
