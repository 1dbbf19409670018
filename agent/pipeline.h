/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline: the user-space half of the data path, run on the reader thread.
 * kernel record -> name (names.h) -> rules -> envelope -> sink.
 *
 * The kernel names each file it sees (an SE_NAME record, the path it
 * resolved) and tags the file's events with that name's seq. The pipeline
 * keeps the names, decides the rules for a file the kernel has no verdict
 * for and posts the verdict back, so later events of that file are
 * filtered in the kernel.
 */
#ifndef SENTINEL_PIPELINE_H
#define SENTINEL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "containers.h"
#include "envelope.h"
#include "metrics.h"
#include "nameop.h"
#include "names.h"
#include "probe.h"
#include "rules.h"
#include "sink.h"

struct pipeline_stats {
	uint64_t records;	/* kernel records handled */
	uint64_t io_records;	/* of those, reads and writes */
	uint64_t names;		/* of those, file names (SE_NAME) */
	uint64_t names_invalid; /* names refused as malformed (a probe bug: logged) */
	/* Names of renames and links (SE_RENAME, SE_LINK), both sides of
	 * each, by how they were resolved (enum nameop_how). */
	uint64_t nameop_names[NAMEOP_UNREADABLE + 1];
	uint64_t forwarded[EV_TYPES];
	uint64_t user_filtered; /* pending events no rule matched */
	/* Events under a name user space does not have: its SE_NAME record
	 * was lost (buffer full) or evicted from the names table; by enum
	 * ev_type. The kernel is told to forget the file, so its next
	 * event is named again. */
	uint64_t unresolved[EV_TYPES];
	/* Of those, events the kernel had matched (not pending): certainly
	 * lost events of a watched file. */
	uint64_t unresolved_matched[EV_TYPES];
	uint64_t truncated; /* forwarded with only the leaf-most part of a long name */
	uint64_t verdicts_posted;
	uint64_t verdict_errors;
	uint64_t rule_matches[SE_MAX_RULES]; /* by rule bit */
};

/*
 * Matches by rule *name*, kept across rule reloads so the counter behind
 * sentinel_agent_rule_matches_total{rule} never goes backwards; a rule that
 * is removed keeps its last value. Entries are only ever appended.
 */
struct rule_total {
	char *name;
	uint64_t matches;
};

/* Called on the reader thread about every PIPELINE_TICK_RECORDS records, so
 * that a long drain under load still publishes its progress. */
#define PIPELINE_TICK_RECORDS 4096
typedef void (*pipeline_tick_fn)(void *ctx);

struct pipeline {
	struct names names;
	struct containers containers;
	const struct ruleset *rules;
	uint32_t gen;
	struct probe *probe;
	struct sink *sink;
	struct envelope_source src;
	struct pipeline_stats stats;
	/* kernel timestamp -> handed to the sink, in seconds */
	struct histogram latency;
	struct rule_total *totals;
	size_t n_totals;
	uint32_t total_of_bit[SE_MAX_RULES]; /* current rules' bit -> totals index */
	pipeline_tick_fn tick;
	void *tick_ctx;
	/* Pod name and namespace of containerized processes (podmeta.h);
	 * NULL: off, the envelopes carry the source's (empty) ones. Not owned. */
	struct podmeta *pods;
	/* Where the names of renames and links are looked up (nameop.h). */
	struct nameop lookup;
	struct nameop_name nameop[2]; /* a rename's or link's names: scratch, 16 KiB */
	char nameop_mntns[11];
};

/* Upper bounds of the latency histogram, seconds. */
extern const double pipeline_latency_bounds[];
extern const unsigned pipeline_latency_n_bounds;

void pipeline_init(struct pipeline *pl, struct sink *sink);
void pipeline_free(struct pipeline *pl);
/*
 * Makes @rs the rules in force (kept by reference: it must outlive its
 * replacement) and pushes the kernel's part of them to the probe, if one is
 * set, as a new generation: the kernel's verdicts go stale, so each open
 * file's next event names it again and is decided here with @rs.
 * On error nothing changed: the previous rules stay in force, here and in
 * the kernel.
 */
int pipeline_set_rules(struct pipeline *pl, const struct ruleset *rs);
void pipeline_set_probe(struct pipeline *pl, struct probe *probe);
void pipeline_set_tick(struct pipeline *pl, pipeline_tick_fn fn, void *ctx);
/* Caps the names table at @cap files (0: NAMES_DEFAULT_CAPACITY). Call
 * before the first record. */
void pipeline_set_names_capacity(struct pipeline *pl, size_t cap);
/* probe_record_fn */
void pipeline_on_record(void *ctx, const struct se_record *rec, size_t size);

#endif
