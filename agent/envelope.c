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

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, public domain algorithm). */
static uint64_t next_u64(uint64_t s[4])
{
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static void seed(struct envelope_source *src)
{
	unsigned char *p = (unsigned char *)src->rng;
	size_t got = 0;

	while (got < sizeof(src->rng)) {
		ssize_t n = getrandom(p + got, sizeof(src->rng) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* getrandom cannot fail after boot; keep ids unique anyway. An
	 * all-zero state would stay zero. */
	if (got < sizeof(src->rng) || !(src->rng[0] | src->rng[1] | src->rng[2] | src->rng[3])) {
		src->rng[0] ^= (uint64_t)ts_ns(CLOCK_REALTIME);
		src->rng[1] ^= (uint64_t)ts_ns(CLOCK_MONOTONIC) | 1;
		src->rng[2] ^= (uint64_t)getpid() << 32 | (uint64_t)random();
	}
}

void envelope_new_id(struct envelope_source *src, char out[ENVELOPE_UUID_LEN + 1])
{
	uint64_t w[2] = {next_u64(src->rng), next_u64(src->rng)};
	uuid_t u = {0};

	memcpy(u, w, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
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
	seed(src);
	envelope_new_id(src, src->agent_id);
}

uint64_t envelope_unix_ns(const struct envelope_source *src, uint64_t ktime_ns)
{
	return (uint64_t)((int64_t)ktime_ns + src->mono_to_real_ns);
}
