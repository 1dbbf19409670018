/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline: the user-space half of the data path, run on the reader thread.
 * kernel record -> fd table / path -> rules -> envelope -> sink.
 *
 * It keeps the (tgid, fd) -> path table in step with the probe's records,
 * decides the rules for fds the kernel has no verdict for and posts the
 * verdict back, so later events on that fd are filtered in the kernel.
 */
#ifndef SENTINEL_PIPELINE_H
#define SENTINEL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "fdtable.h"
#include "metrics.h"
#include "probe.h"
#include "rules.h"
#include "sink.h"

struct pipeline_stats {
	uint64_t records;	/* kernel records handled */
	uint64_t io_records;	/* of those, reads and writes */
	uint64_t forwarded[2];	/* by enum rule_event */
	uint64_t user_filtered; /* pending events no rule matched */
	uint64_t unresolved;	/* events whose fd path could not be found */
	/* fds named from the parent's (or an ancestor's) table: held since
	 * the fork, never changed, and no name of the process's own; its
	 * /proc was gone, or the fd was dup'ed (lineage.h). */
	uint64_t inherited;
	uint64_t truncated; /* forwarded with only the leading part of a name > PATH_MAX */
	uint64_t verdicts_posted;
	uint64_t verdict_errors;
	/* Dropped by the sweep (pipeline_sweep): processes found gone whose
	 * exit record never came (lost when the kernel's buffer was full, or
	 * not read yet), or whose tgid was reused; and their fds. */
	uint64_t reclaimed_procs;
	uint64_t reclaimed_fds;
	/* Kernel fds-map entries of gone processes that user space never knew
	 * (their open record lost too), found by walking the map. */
	uint64_t reclaimed_kernel_fds;
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

/* The sweep checks every process in the fd table about this often, at most
 * PIPELINE_SWEEP_BATCH per call (each check reads /proc/<tgid>/stat, ~5 us),
 * so a call never holds up the reader for more than a millisecond or so. */
#define PIPELINE_SWEEP_INTERVAL_MS 5000
#define PIPELINE_SWEEP_BATCH 256
/* Keys of the kernel's fds map walked per call: a syscall each, plus a
 * /proc check per process among them. Measured: under 1 ms per call, ~9 us
 * per entry reclaimed (release, a write flood running); 1024 keys took up to
 * 17 ms, too long to hold up the reader. */
#define PIPELINE_SWEEP_KERNEL_KEYS 128

struct pipeline {
	struct fdtable fds;
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
	fdtable_alive_fn alive; /* the sweep's liveness check */
	void *alive_ctx;
	uint64_t sweep_start_ns; /* when the current (or last) pass started */
	size_t sweep_left;	 /* processes the current pass has yet to check */
	bool sweep_kernel;	 /* the current pass still walks the kernel's fds map */
	/* The kernel's lost-record count, and when it was last seen to move
	 * (CLOCK_MONOTONIC ns; 0 never): lineage.h's @lost_ns. */
	uint64_t lost_records;
	uint64_t loss_seen_ns;
	/* Pod name and namespace of containerized processes (podmeta.h);
	 * NULL: off, the envelopes carry the source's (empty) ones. Not owned. */
	struct podmeta *pods;
};

/* Upper bounds of the latency histogram, seconds. */
extern const double pipeline_latency_bounds[];
extern const unsigned pipeline_latency_n_bounds;

void pipeline_init(struct pipeline *pl, struct sink *sink);
void pipeline_free(struct pipeline *pl);
/*
 * Makes @rs the rules in force (kept by reference: it must outlive its
 * replacement) and pushes the kernel's part of them to the probe, if one is
 * set, as a new generation: existing fd verdicts go stale, so the next event
 * on each open fd is decided here with @rs and its verdict posted again.
 * On error nothing changed: the previous rules stay in force, here and in
 * the kernel.
 */
int pipeline_set_rules(struct pipeline *pl, const struct ruleset *rs);
void pipeline_set_probe(struct pipeline *pl, struct probe *probe);
void pipeline_set_tick(struct pipeline *pl, pipeline_tick_fn fn, void *ctx);
/*
 * Caps the fd table at @max fds and @max processes (0: no cap; the agent
 * uses probe.fdTableSize, the kernel's own capacity). Inserts beyond it are
 * counted in fds.full; the events of an fd that did not fit are still
 * forwarded, its name looked up in /proc each time.
 */
void pipeline_set_table_limit(struct pipeline *pl, size_t max);
/* The sweep's liveness check (default fdtable_proc_alive: /proc). */
void pipeline_set_liveness(struct pipeline *pl, fdtable_alive_fn fn, void *ctx);
/*
 * Reader thread, between drains: reclaims the fd-table entries (and the
 * kernel's fds-map entries) of processes that are gone although no exit
 * record said so. Every PIPELINE_SWEEP_INTERVAL_MS a pass over all
 * processes starts, done PIPELINE_SWEEP_BATCH at a time per call.
 * pipeline_housekeep() reads CLOCK_MONOTONIC; pipeline_sweep() takes it.
 */
void pipeline_housekeep(struct pipeline *pl);
void pipeline_sweep(struct pipeline *pl, uint64_t now_ns);
/*
 * Seeds the fd table from /proc (procscan.h), right after attaching; with a
 * probe, the kernel tracks each fd with a path from then on and its verdict
 * is posted, so later closes are recorded and events decided in the kernel.
 */
struct procscan_stats;
int pipeline_scan_proc(struct pipeline *pl, struct procscan_stats *st);
/* probe_record_fn */
void pipeline_on_record(void *ctx, const struct se_record *rec, size_t size);

#endif
