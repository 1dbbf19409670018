/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdout sink: one JSON object per line per event, as the original agent's
 * stdout mode. Lines are built in one buffer and written with write(2) when
 * it passes 64 KiB or at each flush (every drain, ~10 ms), so `tail -f`
 * sees events promptly without a syscall per event. Our own writes are not
 * traced: the probe skips the agent's tgid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "sink.h"

#define FLUSH_AT (64 * 1024)

struct sink_stdout {
	struct sink base;
	int fd;
	int broken;		    /* write failed for good (EPIPE, EBADF...) */
	uint64_t pending[EV_TYPES]; /* envelopes in buf, by type */
	struct jbuf buf;
};

static void put_kv(struct jbuf *b, const char *key, const char *val)
{
	jbuf_raw(b, key, strlen(key));
	jbuf_str(b, val, strlen(val));
}

/* The envelopes in the buffer are lost: counted by type. */
static void lose_pending(struct sink_stdout *s)
{
	for (int t = 0; t < EV_TYPES; t++) {
		s->base.errors[t] += s->pending[t];
		s->pending[t] = 0;
	}
}

static int write_all(struct sink_stdout *s)
{
	size_t off = 0;

	while (off < s->buf.len) {
		ssize_t n = write(s->fd, s->buf.buf + off, s->buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!s->broken)
				log_error("stdout sink: write failed, events are being dropped",
					  "errno=%d", errno);
			s->broken = 1;
			lose_pending(s);
			break;
		}
		off += (size_t)n;
	}
	jbuf_reset(&s->buf);
	memset(s->pending, 0, sizeof(s->pending));
	return s->broken ? -EPIPE : 0;
}

static int stdout_emit(struct sink *base, const struct envelope *e)
{
	struct sink_stdout *s = (struct sink_stdout *)base;
	struct jbuf *b = &s->buf;

	if (s->broken) {
		base->errors[e->type]++;
		return -EPIPE;
	}
	put_kv(b, "{\"event_id\":", e->event_id);
	put_kv(b, ",\"event_type\":", e->event_type);
	jbuf_raw(b, ",\"ts_unix_nano\":", 16);
	jbuf_u64(b, e->ts_unix_nano);
	put_kv(b, ",\"hostname\":", e->hostname);
	put_kv(b, ",\"pod\":", e->pod);
	put_kv(b, ",\"namespace\":", e->namespace_);
	put_kv(b, ",\"container_id\":", e->container_id);
	jbuf_raw(b, ",\"seq\":", 7);
	jbuf_u64(b, e->seq);
	put_kv(b, ",\"data\":{\"filename\":", e->filename);
	jbuf_raw(b, ",\"bytes\":", 9);
	jbuf_u64_str(b, e->bytes);
	put_kv(b, ",\"comm\":", e->comm);
	jbuf_raw(b, ",\"pid\":", 7);
	jbuf_u64_str(b, e->pid);
	jbuf_raw(b, ",\"tid\":", 7);
	jbuf_u64_str(b, e->tid);
	for (unsigned i = 0; i < e->n_extra; i++) {
		jbuf_raw(b, ",", 1);
		jbuf_str(b, e->extra[i].key, strlen(e->extra[i].key));
		jbuf_raw(b, ":", 1);
		jbuf_str(b, e->extra[i].value, strlen(e->extra[i].value));
	}
	/* Only when set: a string, like every data value (the gRPC map). */
	if (e->filename_truncated) {
		static const char flag[] = ",\"filename_truncated\":\"true\"";

		jbuf_raw(b, flag, sizeof(flag) - 1);
	}
	jbuf_raw(b, "}}\n", 3);
	if (b->oom) {
		log_error("stdout sink: out of memory");
		jbuf_reset(b);
		b->oom = 0;
		lose_pending(s);
		base->errors[e->type]++;
		return -ENOMEM;
	}
	s->pending[e->type]++;
	base->emitted++;
	if (b->len >= FLUSH_AT)
		return write_all(s);
	return 0;
}

static int stdout_flush(struct sink *base)
{
	struct sink_stdout *s = (struct sink_stdout *)base;

	return s->buf.len ? write_all(s) : 0;
}

static void stdout_destroy(struct sink *base)
{
	struct sink_stdout *s = (struct sink_stdout *)base;

	stdout_flush(base);
	jbuf_free(&s->buf);
	free(s);
}

static const struct sink_ops stdout_ops = {
	.emit = stdout_emit,
	.flush = stdout_flush,
	.destroy = stdout_destroy,
};

struct sink *sink_stdout_new(int fd)
{
	struct sink_stdout *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &stdout_ops;
	s->fd = fd;
	jbuf_init(&s->buf, 2 * FLUSH_AT);
	return &s->base;
}
