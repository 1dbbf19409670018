/* SPDX-License-Identifier: Apache-2.0 */
#include "envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

static void copy_env(char *dst, size_t cap, const char *name)
{
	const char *v = getenv(name);

	snprintf(dst, cap, "%s", v ? v : "");
}

static int64_t ts_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void envelope_source_init(struct envelope_source *src)
{
	memset(src, 0, sizeof(*src));
	copy_env(src->hostname, sizeof(src->hostname), "NODE_NAME");
	if (!src->hostname[0] && gethostname(src->hostname, sizeof(src->hostname) - 1) != 0)
		snprintf(src->hostname, sizeof(src->hostname), "unknown");
	/* pod and namespace stay empty here: the pipeline takes them per
	 * container from podmeta.h (container_id comes from the cgroup). */
	src->mono_to_real_ns = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_MONOTONIC);
	src->next_seq = 1;
	src->rnd_used = sizeof(src->rnd);
	envelope_new_id(src, src->agent_id);
}

static void refill(struct envelope_source *src)
{
	size_t got = 0;

	while (got < sizeof(src->rnd)) {
		ssize_t n = getrandom(src->rnd + got, sizeof(src->rnd) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(src->rnd)) {
		/* getrandom cannot fail after boot; keep ids unique anyway */
		for (size_t i = got; i < sizeof(src->rnd); i++)
			src->rnd[i] = (unsigned char)(random() >> 7);
	}
	src->rnd_used = 0;
}

void envelope_new_id(struct envelope_source *src, char out[ENVELOPE_UUID_LEN + 1])
{
	uuid_t u = {0};

	if (src->rnd_used + sizeof(u) > sizeof(src->rnd))
		refill(src);
	memcpy(u, src->rnd + src->rnd_used, sizeof(u));
	src->rnd_used += sizeof(u);
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

uint64_t envelope_unix_ns(const struct envelope_source *src, uint64_t ktime_ns)
{
	return (uint64_t)((int64_t)ktime_ns + src->mono_to_real_ns);
}
