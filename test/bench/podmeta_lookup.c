/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the pod lookup costs per forwarded event of a containerized process
 * (agent/podmeta.h): podmeta_lookup() on cached entries, for the same
 * container as the previous event (the usual run of events) and for
 * containers taken in turn (every lookup through the hash).
 *
 *   sentinel-podmeta-bench [LOOKUPS] [CONTAINERS]   (defaults 10000000, 100)
 *
 * Prints ns per lookup for both patterns. No files are read: the bundle
 * path points nowhere, so every entry is cached as missing, which is the
 * same lookup as a found one until its retry time (never reached here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "podmeta.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *paths[] = {"/nonexistent/sentinel-podmeta-bench/{id}/config.json"};
	long lookups = argc > 1 ? atol(argv[1]) : 10000000;
	int containers = argc > 2 ? atoi(argv[2]) : 100;
	volatile const char *sink;
	struct podmeta *pm;
	char(*ids)[65];
	double t;

	if (lookups <= 0 || containers <= 0 || containers > 16384) {
		fprintf(stderr, "usage: %s [LOOKUPS > 0] [CONTAINERS 1..16384]\n", argv[0]);
		return 2;
	}
	ids = calloc((size_t)containers, sizeof(*ids));
	if (!ids || podmeta_new(&pm, paths, 1, 16384))
		return 1;
	for (int i = 0; i < containers; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%064x", i);
		podmeta_lookup(pm, ids[i], 1);
	}
	t = now_ns();
	for (long i = 0; i < lookups; i++)
		sink = podmeta_lookup(pm, ids[0], 2)->name;
	printf("same container: %.1f ns per lookup\n", (now_ns() - t) / lookups);
	t = now_ns();
	for (long i = 0; i < lookups; i++)
		sink = podmeta_lookup(pm, ids[i % containers], 2)->name;
	printf("%d containers in turn: %.1f ns per lookup\n", containers, (now_ns() - t) / lookups);
	(void)sink;
	podmeta_free(pm);
	free(ids);
	return 0;
}
