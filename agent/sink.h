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
#include "sendq.h"

struct sink;

struct sink_ops {
	int (*emit)(struct sink *s, const struct envelope *e);
	int (*flush)(struct sink *s);
	void (*destroy)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	uint64_t emitted;	   /* envelopes accepted */
	uint64_t errors[EV_TYPES]; /* envelopes lost by the sink, by type */
};

/* Every type's losses added up. */
static inline uint64_t sink_errors_total(const struct sink *s)
{
	uint64_t n = 0;

	for (int t = 0; t < EV_TYPES; t++)
		n += s->errors[t];
	return n;
}

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

/* gRPC to a DetectorService (agent/sink_grpc.c). */
struct sink_grpc_opts {
	const char *endpoint;	    /* "host:port" (dns:/// added) or a gRPC target URI */
	unsigned batch_size;	    /* envelopes per EventBatch */
	unsigned queue_length;	    /* envelopes held, unsent + unacknowledged */
	unsigned flush_ms;	    /* longest wait for a batch to fill */
	unsigned shutdown_grace_ms; /* how long destroy() keeps flushing */
	/* A connected detector that answers none of what it was sent for this
	 * long is at fault (it must answer every message: the queue fills and
	 * drops): logged, counted, and the agent not ready (ack_stalled).
	 * At least 1 (config.h: grpc.ackTimeoutSeconds). */
	unsigned ack_timeout_s;
	int tls;
	const char *ca_file, *cert_file, *key_file;
	const char *agent_id; /* goes into every envelope with its seq */
};

struct sink_grpc_stats {
	uint64_t sent;		  /* envelopes handed to gRPC (incl. re-sends) */
	uint64_t acked;		  /* answered by the detector */
	uint64_t resent;	  /* rewound after a broken stream */
	uint64_t dropped;	  /* dropped unanswered, the queue full (oldest unsent first) */
	uint64_t dropped_unacked; /* of those, sent before: may have reached the detector */
	uint64_t rejected;	  /* refused by the detector every time, alone: dropped */
	uint64_t queue_depth;
	uint64_t reconnects;
	uint64_t connected;	   /* 0/1: a stream is up */
	uint64_t connect_failures; /* the channel fell into TRANSIENT_FAILURE (a failed attempt) */
	uint64_t unacked_ns;  /* how long sent events have waited for any answer (0: none owed) */
	uint64_t ack_stalled; /* 0/1: unacked_ns past ack_timeout_s while connected */
	uint64_t anomalies;   /* verdicts with anomaly=true */
	uint64_t responses;
	uint64_t not_utf8; /* envelopes whose filename or comm went with U+FFFD and _hex */
	struct sendq_type_stats type[EV_TYPES]; /* acked, dropped, rejected by type */
};

struct sink *sink_grpc_new(const struct sink_grpc_opts *o);
void sink_grpc_get_stats(struct sink *s, struct sink_grpc_stats *out);

#endif
