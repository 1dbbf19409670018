/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procscan: seed the fd table from /proc once, right after the probes are
 * attached, so fds and cwds from before the agent started are known even
 * when their process exits before its first traced event reaches us.
 *
 * Records emitted between attaching and the scan are applied after it, in
 * order, so a close or reopen in that window still wins over the scan.
 *
 * The kernel tracks none of these fds: a close of one would go unrecorded
 * and its number could come back as a pipe or socket under the old name.
 * With @track, each fd with a path is claimed in the kernel first (from
 * then on its close is recorded) and its name read again after the claim:
 * that name is one whose end the agent will hear of.
 */
#ifndef SENTINEL_PROCSCAN_H
#define SENTINEL_PROCSCAN_H

#include <stddef.h>

#include "fdtable.h"

struct procscan_stats {
	size_t procs;
	size_t fds;
	size_t claimed; /* of those, tracked by the kernel from the scan on */
};

struct procscan_track {
	/* The verdict seq the kernel now tracks (tgid, fd) under; 0: not. */
	uint64_t (*claim)(void *ctx, uint32_t tgid, int32_t fd);
	/* The entry made for a claimed fd. */
	void (*named)(void *ctx, struct fd_entry *e, uint64_t seq);
	void *ctx;
};

/* @track may be NULL (no kernel: tests). */
int procscan_run(struct fdtable *t, const struct procscan_track *track, struct procscan_stats *st);

#endif
