/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink: where forwarded envelopes go. emit() is called from the reader
 * thread for every event and must not block on the network or the
 * consumer; flush() is called after each drain of the kernel buffers.
 */
#ifndef SENTINEL_SINK_H
#define SENTINEL_SINK_H

#include <stdint.h>

#include "envelope.h"

struct sink;

struct sink_ops {
	int (*emit)(struct sink *s, const struct envelope *e);
	int (*flush)(struct sink *s);
	void (*destroy)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	uint64_t emitted; /* envelopes accepted */
	uint64_t errors;  /* envelopes lost by the sink */
};

static inline int sink_emit(struct sink *s, const struct envelope *e)
{
	return s->ops->emit(s, e);
}

static inline int sink_flush(struct sink *s)
{
	return s->ops->flush(s);
}

static inline void sink_destroy(struct sink *s)
{
	if (s)
		s->ops->destroy(s);
}

/* JSON lines on @fd (normally 1). */
struct sink *sink_stdout_new(int fd);

#endif
