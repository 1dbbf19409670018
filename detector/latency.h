/* SPDX-License-Identifier: Apache-2.0 */
/*
 * latency: how long events took from the traced syscall (the envelope's
 * ts_unix_nano, taken in the kernel) to the detector's receipt. Fixed
 * 100 us buckets up to 1 s, then one overflow bucket: quantiles are exact
 * to 100 us, which is what a 10 ms drain interval needs. Clocks of
 * different hosts are not synchronised: figures mean something when agent
 * and detector share a clock (same node) or run NTP.
 */
#ifndef SENTINEL_DETECTOR_LATENCY_H
#define SENTINEL_DETECTOR_LATENCY_H

#include <stdint.h>

#define LATENCY_BUCKET_NS 100000ULL
#define LATENCY_BUCKETS 10000 /* 1 s */

struct latency_hist {
	uint64_t n;
	uint64_t over; /* beyond the last bucket (or negative: clock skew) */
	uint32_t b[LATENCY_BUCKETS];
};

void latency_add(struct latency_hist *h, uint64_t sent_unix_ns, uint64_t now_unix_ns);
/* Upper bound of the bucket holding quantile q (0..1), in ms; -1 if empty,
 * +inf (1e9) when it falls in the overflow bucket. */
double latency_quantile_ms(const struct latency_hist *h, double q);
void latency_reset(struct latency_hist *h);

#endif
