/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procscan: seed the fd table from /proc once, right after the probes are
 * attached, so fds and cwds from before the agent started are known even
 * when their process exits before its first traced event reaches us.
 *
 * Records emitted between attaching and the scan are applied after it, in
 * order, so a close or reopen in that window still wins over the scan.
 */
#ifndef SENTINEL_PROCSCAN_H
#define SENTINEL_PROCSCAN_H

#include <stddef.h>

#include "fdtable.h"

struct procscan_stats {
	size_t procs;
	size_t fds;
};

int procscan_run(struct fdtable *t, struct procscan_stats *st);

#endif
