/* SPDX-License-Identifier: Apache-2.0 */
/*
 * envelope: one forwarded event, as every sink sees it. Field names follow
 * the EventEnvelope contract (proto/events.proto): data = filename, bytes,
 * comm, pid, tid. Strings are borrowed from the pipeline and valid only
 * during the sink's emit call.
 */
#ifndef SENTINEL_ENVELOPE_H
#define SENTINEL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "evtype.h"

#define ENVELOPE_UUID_LEN 36

/* More of data: key and value strings the sinks add as they are (the
 * values are the pipeline's, valid while the envelope is emitted). */
#define ENVELOPE_EXTRA_MAX 10
struct envelope_kv {
	const char *key;
	const char *value;
	/* A path, whose bytes may not be UTF-8: sinks that need text send it
	 * like filename, with its exact bytes under this key (key + "_hex")
	 * when needed. NULL for the pipeline's own digits and flags. */
	const char *hex_key;
};

/*
 * The data keys of a file's other names, beside filename: the one home of
 * their spelling (the pipeline adds them, the gRPC sink and tests name
 * them). Each is a path: added with envelope_extra_path().
 */
#define ENVELOPE_FILENAME_IN_ROOT "filename_in_root" /* as the process sees it, below its root */
#define ENVELOPE_FILENAME_VIA "filename_via"	     /* through the bind mount it was used by */
#define ENVELOPE_SOURCE "source" /* a rename's or link's old name (filename: the new one) */

struct envelope {
	char event_id[ENVELOPE_UUID_LEN + 1];
	enum ev_type type;	/* indexes the sinks' per-type counts */
	const char *event_type; /* ev_type_name(type): the wire name */
	uint64_t ts_unix_nano;
	const char *hostname;
	const char *pod;
	const char *namespace_;
	const char *container_id;
	const char *filename;
	bool filename_truncated; /* only its leading components: the name is > PATH_MAX */
	uint64_t bytes;
	char comm[SE_COMM_LEN + 1];
	uint32_t pid; /* tgid, as ps shows it */
	uint32_t tid;
	uint64_t rule_mask; /* rules that matched */
	uint64_t seq;	    /* per-agent sequence number, from 1 */
	uint64_t seen_ns;   /* CLOCK_MONOTONIC when the pipeline forwarded it */
	struct envelope_kv extra[ENVELOPE_EXTRA_MAX];
	unsigned n_extra;
};

/* Adds @key: @value to @e's data (dropped past ENVELOPE_EXTRA_MAX). */
static inline void envelope_extra(struct envelope *e, const char *key, const char *value)
{
	if (e->n_extra < ENVELOPE_EXTRA_MAX)
		e->extra[e->n_extra++] = (struct envelope_kv){key, value, NULL};
}

/* Adds a path under @key (a string literal, e.g. ENVELOPE_FILENAME_VIA),
 * whose exact bytes may go under @key "_hex" (see envelope_kv.hex_key). */
#define envelope_extra_path(e, key, value)                                                         \
	do {                                                                                       \
		if ((e)->n_extra < ENVELOPE_EXTRA_MAX)                                             \
			(e)->extra[(e)->n_extra++] = (struct envelope_kv){key, value, key "_hex"}; \
	} while (0)

/* Identity of this node, read once. */
struct envelope_source {
	char hostname[256]; /* $NODE_NAME, else gethostname() */
	char pod[256];	    /* when podmeta.h knows none: empty */
	char namespace_[256];
	int64_t mono_to_real_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t next_seq;
	char agent_id[ENVELOPE_UUID_LEN + 1]; /* this agent process; seq is scoped to it */
	uint64_t rng[4]; /* xoshiro256** state for event ids, seeded by getrandom() */
};

void envelope_source_init(struct envelope_source *src);
/*
 * A random (v4) UUID, unique per event. Ids need to be unique, not secret
 * (they travel in clear beside the event), so the bits come from
 * xoshiro256** seeded once from getrandom(): libuuid's generator costs
 * ~7 us a call here (a getrandom or clock-file lock each time), and
 * getrandom() itself 37 us per 4 KiB block (ChaCha in the kernel: ~145 ns
 * an id, 2.7 % of the reader thread's time flat out, `perf trace -s` at
 * stop 37); libuuid formats them.
 */
void envelope_new_id(struct envelope_source *src, char out[ENVELOPE_UUID_LEN + 1]);
uint64_t envelope_unix_ns(const struct envelope_source *src, uint64_t ktime_ns);

#endif
