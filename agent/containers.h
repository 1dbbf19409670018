/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containers: which container a record's task is in, from the record's
 * cgroup id (the id of its cgroup in the hierarchy cgroups.h chose).
 *
 * A cgroup id is its directory's inode and is never reused, and the kernel
 * tells us each new cgroup's path (SE_CGROUP records, from the
 * cgroup_mkdir tracepoint) before any task runs in it, so the answer does
 * not depend on the process still being alive when its event is read:
 * a container's `cat` that lives 2 ms is named like its shell. Cgroups
 * that existed before the probe attached are learnt by scanning the
 * hierarchy's mount once (containers_scan), after attaching, so none falls
 * between the two.
 *
 * Fallback, for an id never learnt (its SE_CGROUP record lost to a full
 * buffer, or no mount to scan): /proc/<tgid>/cgroup, cached per process
 * for CONTAINERS_TTL_NS and asked again when the process's cgroup id
 * changes (a tgid reused by a new process must not keep the old one's
 * container). A process gone by then gets "" (counted as unknown).
 *
 * Bounded: past CONTAINERS_MAX entries in either table the oldest goes (an
 * evicted cgroup falls back to /proc). Not thread-safe: the reader thread
 * owns it.
 */
#ifndef SENTINEL_CONTAINERS_H
#define SENTINEL_CONTAINERS_H

#include <stdint.h>

#include "uthash.h"

#define CONTAINERS_MAX 16384
#define CONTAINERS_TTL_NS 2000000000ull

/* One cgroup learnt from the kernel or the scan, or one process's /proc
 * answer (then @key is the tgid). */
struct container_of {
	uint64_t key;
	uint64_t cgroup;   /* by_tgid: the cgroup id the answer was for */
	uint64_t asked_ns; /* by_tgid: the record time of the answer */
	char id[65];	   /* "" when not in a container */
	UT_hash_handle hh;
};

struct containers {
	struct container_of *by_cgroup, *by_tgid;
	unsigned n_cgroups, n_tgids;
	uint64_t learnt;   /* cgroups learnt (kernel records and the scan) */
	uint64_t fallback; /* /proc/<pid>/cgroup reads for ids never learnt */
	uint64_t unknown;  /* of those, processes already gone: no container id */
	/* The last answer: a run of one cgroup's events looks up once. */
	const struct container_of *last;
};

void containers_init(struct containers *c);
void containers_free(struct containers *c);

/* Learns that cgroup @cgroup has path @path (from its hierarchy's root,
 * @len bytes, no NUL needed). A rename replaces the answer. */
void containers_learn(struct containers *c, uint64_t cgroup, const char *path, size_t len);

/* Learns every cgroup directory under @mount (the hierarchy's root):
 * returns how many, or -errno when @mount cannot be read. Stops at
 * CONTAINERS_MAX directories. */
long containers_scan(struct containers *c, const char *mount);

/* The container id of @tgid whose record says cgroup @cgroup, at @now_ns
 * (the record's CLOCK_MONOTONIC time); "" when none or unknown. Valid
 * until the next call. */
const char *containers_id(struct containers *c, uint32_t tgid, uint64_t cgroup, uint64_t now_ns);

#endif
