/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containers: which container a process is in, by tgid, from
 * /proc/<tgid>/cgroup (path_proc_container_id), read at a process's first
 * event and again when its cgroup id (in each record) changes or the answer
 * is older than CONTAINERS_TTL_NS: on a node with cgroup v1 every process
 * has the root's cgroup id, and a tgid reused by a new process must not
 * keep the old one's container.
 *
 * A process gone before its first event is read gets "" (counted as
 * unknown): naming containers from the cgroup id alone, which outlives
 * the process, is the next step (the cgroup:cgroup_mkdir tracepoint).
 * Bounded: past CONTAINERS_MAX processes the oldest entry goes.
 * Not thread-safe: the reader thread owns it.
 */
#ifndef SENTINEL_CONTAINERS_H
#define SENTINEL_CONTAINERS_H

#include <stdint.h>

#include "uthash.h"

#define CONTAINERS_MAX 16384
#define CONTAINERS_TTL_NS 2000000000ull

struct container_of {
	uint32_t tgid;
	uint64_t cgroup;
	uint64_t asked_ns; /* the record time of the last answer */
	char id[65];	   /* "" when the process is in no container */
	UT_hash_handle hh;
};

struct containers {
	struct container_of *by_tgid;
	unsigned n;
	uint64_t unknown; /* processes gone before /proc could be asked */
	/* The last answer: a run of one process's events asks once. */
	struct container_of *last;
};

void containers_init(struct containers *c);
void containers_free(struct containers *c);
/* The container id of @tgid in cgroup @cgroup at @now_ns (the record's
 * CLOCK_MONOTONIC time), "" when none or unknown; valid until the next call. */
const char *containers_id(struct containers *c, uint32_t tgid, uint64_t cgroup, uint64_t now_ns);

#endif
