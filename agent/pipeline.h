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
#include "probe.h"
#include "rules.h"
#include "sink.h"

struct pipeline_stats {
	uint64_t records;	/* kernel records handled */
	uint64_t io_records;	/* of those, reads and writes */
	uint64_t forwarded[2];	/* by enum rule_event */
	uint64_t user_filtered; /* pending events no rule matched */
	uint64_t unresolved;	/* events whose fd path could not be found */
	uint64_t verdicts_posted;
	uint64_t verdict_errors;
	uint64_t rule_matches[SE_MAX_RULES]; /* by rule bit */
};

struct pipeline {
	struct fdtable fds;
	const struct ruleset *rules;
	uint32_t gen;
	struct probe *probe;
	struct sink *sink;
	struct envelope_source src;
	struct pipeline_stats stats;
};

void pipeline_init(struct pipeline *pl, struct sink *sink);
void pipeline_free(struct pipeline *pl);
/* Makes @rs the rules in force (kept by reference) and pushes the kernel's
 * part of them to the probe, if one is set. Existing verdicts go stale. */
int pipeline_set_rules(struct pipeline *pl, const struct ruleset *rs);
void pipeline_set_probe(struct pipeline *pl, struct probe *probe);
/* probe_record_fn */
void pipeline_on_record(void *ctx, const struct se_record *rec, size_t size);

#endif
