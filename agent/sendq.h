/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendq: the bounded, ordered buffer between the reader thread and the gRPC
 * sender. Envelopes enter packed (protobuf bytes) in sequence order and
 * leave only when the detector has answered them. Two rings, each in seq
 * order, every seq in the first below those in the second:
 *
 *     fly:     sent, not yet answered   (the oldest)
 *     unsent:  not yet sent             (the newest)
 *
 * A completed gRPC send only means the library took the bytes; the
 * detector's responses are the acknowledgements. After a reconnect,
 * sendq_rewind() makes everything unanswered "not yet sent" again
 * (at-least-once). When full (cap entries in both), the oldest *unsent*
 * entry is dropped and counted - the producer never waits. Entries in flight
 * are kept: they are the likeliest to be answered, and dropping them would
 * count as lost what the detector then receives. Only when every entry is in
 * flight does the oldest of those go.
 *
 * Every pushed entry leaves exactly once, acknowledged, dropped or rejected
 * (sendq_reject_oldest), so at any time pushed == acked + dropped + rejected
 * + depth. Of the dropped, those that were
 * sent at least once (dropped_unacked: in flight when all were, or sent on a
 * stream that broke before the answer) may still have reached the detector;
 * the others certainly never did.
 *
 * Thread-safe: one producer, one consumer, one mutex.
 */
#ifndef SENTINEL_SENDQ_H
#define SENTINEL_SENDQ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "evtype.h"

#define SENDQ_ID_LEN 36

struct sendq_item {
	uint64_t seq;
	uint64_t enq_ns; /* CLOCK_MONOTONIC when queued */
	uint8_t *data;	 /* packed EventEnvelope, owned (a recycled buffer) */
	uint32_t len, cap;
	uint8_t type; /* enum ev_type: the per-type counts */
	char event_id[SENDQ_ID_LEN + 1];
	uint8_t was_sent; /* taken at least once (kept across rewinds) */
};

/* How entries of one event type left the queue. */
struct sendq_type_stats {
	uint64_t pushed, acked, dropped, dropped_unacked, rejected;
};

/* Entries of one type still held: pushed and not yet gone. */
static inline uint64_t sendq_type_held(const struct sendq_type_stats *t)
{
	return t->pushed - t->acked - t->dropped - t->rejected;
}

struct sendq_stats {
	uint64_t depth; /* entries held (unanswered + unsent) */
	uint64_t unsent;
	uint64_t dropped;	  /* oldest entries dropped because full, before an answer */
	uint64_t dropped_unacked; /* of those, sent at least once: may have arrived */
	uint64_t acked;
	uint64_t resent;   /* entries rewound for sending again */
	uint64_t rejected; /* dropped because the detector refused them every time */
	struct sendq_type_stats type[EV_TYPES]; /* the same, by event type */
};

/* A ring of cap items: @len of them from index @start. */
struct sendq_ring {
	struct sendq_item *items;
	size_t start, len;
};

/*
 * Buffers of answered or dropped entries, kept for the next pushes: the
 * producer and the consumer are different threads, and a malloc in one with
 * the free in the other cost ~5 % of the agent flat out (perf, stop 37).
 * At most SENDQ_SPARES are kept (each >= SENDQ_BUF_MIN bytes: ~0.5 MiB).
 */
#define SENDQ_SPARES 1024
#define SENDQ_BUF_MIN 512
struct sendq_buf {
	uint8_t *data;
	uint32_t cap;
};

struct sendq {
	pthread_mutex_t lock;
	struct sendq_ring fly, unsent;
	struct sendq_buf *spare; /* SENDQ_SPARES slots, n_spare used */
	size_t n_spare;
	size_t cap;
	struct sendq_stats st;
};

int sendq_init(struct sendq *q, size_t cap);
void sendq_free(struct sendq *q);

enum sendq_push_result {
	SENDQ_KEPT = 0,		   /* nothing dropped */
	SENDQ_DROPPED_UNSENT = 1,  /* full: an entry never sent went */
	SENDQ_DROPPED_UNACKED = 2, /* full: an entry sent before, unanswered, went */
	SENDQ_NO_MEMORY = 3,	   /* not queued: no buffer for it (nothing dropped) */
};

/* Producer. Copies the @len bytes at @data into a buffer of the queue's;
 * @now_ns (CLOCK_MONOTONIC) is when it was queued: the batch's age. */
enum sendq_push_result sendq_push(struct sendq *q, uint64_t seq, enum ev_type type,
				  const uint8_t *data, uint32_t len, const char *event_id,
				  uint64_t now_ns);

/* Consumer: how many unsent, and the age in ns of the oldest unsent. */
size_t sendq_unsent(struct sendq *q, uint64_t now_ns, uint64_t *oldest_age_ns);
/* Consumer: how many sent and not yet answered. */
size_t sendq_in_flight(struct sendq *q);

/*
 * Copies up to @max unsent entries into @out and marks them sent.
 * @batch != 0: as the body of an EventBatch (each entry as field 1,
 * length-delimited) so the entries need no re-packing; else exactly one
 * entry, as is. @out is grown with realloc; returns the entry count (0 if
 * none or out of memory).
 */
size_t sendq_take(struct sendq *q, size_t max, int batch, uint8_t **out, size_t *out_cap,
		  size_t *out_len);

/* The detector answered everything up to and including @seq. */
void sendq_ack_seq(struct sendq *q, uint64_t seq);
/* An answer without seq (older detectors): answers come in order, so
 * everything up to the entry with @event_id is answered. */
void sendq_ack_event_id(struct sendq *q, const char *event_id);
/* The stream broke: send every unanswered entry again, first. Returns how
 * many. */
size_t sendq_rewind(struct sendq *q);
/* The seq of the oldest unanswered entry that was sent. Returns 1, or 0
 * when there is none. */
int sendq_oldest_sent(struct sendq *q, uint64_t *seq);
/* Drops the oldest unanswered entry (in flight, else the first unsent that
 * was sent before), counted as rejected; copies its seq and event id out.
 * Returns 1, or 0 when there is none. */
int sendq_reject_oldest(struct sendq *q, uint64_t *seq, char event_id[SENDQ_ID_LEN + 1]);

void sendq_get_stats(struct sendq *q, struct sendq_stats *out);

#endif
