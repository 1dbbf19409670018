/* SPDX-License-Identifier: Apache-2.0 */
#include "latency.h"

#include <string.h>

void latency_add(struct latency_hist *h, uint64_t sent_unix_ns, uint64_t now_unix_ns)
{
	uint64_t i;

	h->n++;
	if (!sent_unix_ns || now_unix_ns < sent_unix_ns) {
		h->over++;
		return;
	}
	i = (now_unix_ns - sent_unix_ns) / LATENCY_BUCKET_NS;
	if (i >= LATENCY_BUCKETS)
		h->over++;
	else
		h->b[i]++;
}

double latency_quantile_ms(const struct latency_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return -1;
	want = (uint64_t)(q * (double)h->n);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return (double)((i + 1) * LATENCY_BUCKET_NS) / 1e6;
	}
	return 1e9;
}

void latency_reset(struct latency_hist *h)
{
	memset(h, 0, sizeof(*h));
}
