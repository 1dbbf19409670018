/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: CLOCK_MONOTONIC in nanoseconds, the clock of bpf_ktime_get_ns(),
 * so kernel record times and user-space times compare directly.
 */
#ifndef SENTINEL_CLOCK_H
#define SENTINEL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

#endif
