/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SENTINEL_CPULIST_H
#define SENTINEL_CPULIST_H

/*
 * Parses a sysfs CPU list such as "0-3,8,10-11" (e.g.
 * /sys/devices/system/cpu/possible). Stores up to @cap ids in @ids (NULL to
 * only count) and returns how many CPUs the list names, or -errno.
 * Per-CPU BPF map lookups return one value per *possible* CPU; perf buffers
 * are opened per *online* CPU.
 */
int cpulist_read(const char *path, int *ids, int cap);

#endif
