/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detwatch: when to tell operators that the detector is the problem. The
 * gRPC sink feeds it what it observes (the channel's connectivity, how many
 * events are sent and unanswered, how many were ever answered) and logs
 * what it is told to; telemetry turns the state into metrics and
 * readiness. No gRPC and no clock inside: unit tests drive it with
 * made-up times.
 *
 * Two faults are named:
 *   - the detector cannot be reached: every fall into TRANSIENT_FAILURE is
 *     a failed attempt (gRPC retries with its own backoff); the first is
 *     said at once, later ones at most once per DETWATCH_LOG_NS with the
 *     count since the previous line. Without this a wrong endpoint showed
 *     only on /readyz: `kubectl logs` said nothing for good.
 *   - the detector does not acknowledge: sent events wait longer than
 *     ack_timeout_ns for any answer while the stream is up (a detector
 *     that answers only anomalies does this). The queue then fills and
 *     drops; the fault is the detector's, and saying only "queue full"
 *     pointed nowhere. Said when it starts, repeated every
 *     DETWATCH_LOG_NS while it lasts, and once when answers resume.
 */
#ifndef SENTINEL_DETWATCH_H
#define SENTINEL_DETWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DETWATCH_LOG_NS (30 * 1000000000ULL)

/* The channel's state, as gRPC's grpc_connectivity_state names it. */
enum detwatch_conn {
	DETWATCH_IDLE,
	DETWATCH_CONNECTING,
	DETWATCH_READY,
	DETWATCH_FAILURE, /* TRANSIENT_FAILURE: an attempt failed */
	DETWATCH_SHUTDOWN,
};

/* What the caller should log after an observation. */
enum detwatch_say {
	DETWATCH_SAY_NOTHING = 0,
	DETWATCH_SAY_UNREACHABLE,  /* warn: failures_unsaid attempts failed since last said */
	DETWATCH_SAY_NOT_ACKING,   /* error: outstanding events unanswered for unacked_ns */
	DETWATCH_SAY_ACKING_AGAIN, /* info: answers resumed after NOT_ACKING */
};

struct detwatch {
	uint64_t ack_timeout_ns;
	/* reachability */
	enum detwatch_conn conn;
	uint64_t failures;	  /* failed attempts, ever */
	uint64_t failures_unsaid; /* since the last UNREACHABLE */
	uint64_t failures_said;	  /* the count the last UNREACHABLE is about */
	uint64_t fail_said_ns;	  /* when UNREACHABLE was last said; 0 never */
	uint64_t down_since_ns;	  /* first failure since the last READY; 0 if up */
	/* acknowledgements */
	uint64_t acked_seen;	/* the acked total at the last observation */
	uint64_t wait_since_ns; /* waiting since then with events owed; 0 none owed */
	bool stalled;		/* NOT_ACKING said, answers not yet resumed */
	uint64_t stall_said_ns;
	uint64_t outstanding; /* at the last observation */
};

void detwatch_init(struct detwatch *w, uint64_t ack_timeout_ns);

/* The channel's state at @now (CLOCK_MONOTONIC ns). */
enum detwatch_say detwatch_channel(struct detwatch *w, enum detwatch_conn st, uint64_t now);

/*
 * @outstanding events sent and unanswered, @acked answered ever (a
 * counter), @connected a stream is up. Only a connected detector is held
 * to account: while it is down, the reachability fault applies.
 */
enum detwatch_say detwatch_acks(struct detwatch *w, uint64_t outstanding, uint64_t acked,
				bool connected, uint64_t now);

/* How long the owed events have waited for any answer at @now; 0 if none owed. */
uint64_t detwatch_unacked_ns(const struct detwatch *w, uint64_t now);

#endif
