/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe_spawn: the agent's side of the compile helper. The agent must never
 * link libbcc (the dynamic linker would map libLLVM and libclang, 85 MiB
 * resident here, for the life of the pod), so the compile runs in
 * sentinel-probe-build, a short-lived executable: spawned with what to
 * build on its command line, it logs on the agent's stderr (verifier logs
 * and header hints included), hands the loaded probe back (handoff.h) and
 * exits.
 *
 * The helper is found at $SENTINEL_PROBE_BUILD, else beside the agent's own
 * executable.
 */
#ifndef SENTINEL_PROBE_SPAWN_H
#define SENTINEL_PROBE_SPAWN_H

#include <stddef.h>
#include <stdint.h>

#include "handoff.h"

/* What the helper builds. */
struct probe_build_opts {
	int transport;		   /* 0 = auto, or PROBE_RINGBUF / PROBE_PERF */
	unsigned ringbuf_kib;	   /* power of two */
	unsigned perf_pages;	   /* per CPU, power of two */
	unsigned file_entries;	   /* the files map's entries */
	const char *btf_path;	   /* NULL: /sys/kernel/btf/vmlinux */
	const char *cgroup_subsys; /* v1 controller's enum value name, NULL: unified */
	int cgroup_hierarchy;
	int log_level; /* enum log_level */
	int sock;      /* the helper's end of the socketpair */
};

/* What the helper cost, from its rusage. */
struct probe_spawn_stats {
	uint64_t wall_ms;
	uint64_t peak_rss_kib;
};

/* @o as the helper's argv (after argv[0]), into @argv (at least
 * PROBE_SPAWN_MAX_ARGS entries) with the strings in @buf. Returns argc. */
#define PROBE_SPAWN_MAX_ARGS 24
int probe_spawn_argv(const struct probe_build_opts *o, const char **argv, char *buf, size_t cap);

/* The helper's argv (argc, argv as main() got them) into @o: 0, or -1
 * with what was wrong in @err. */
int probe_spawn_parse(int argc, char **argv, struct probe_build_opts *o, char *err, size_t cap);

/* The helper is killed when it has not answered after this many seconds
 * ($SENTINEL_PROBE_BUILD_TIMEOUT overrides): the compile and load take
 * 5-7 s here; a helper stuck for minutes would otherwise leave the agent
 * unready for good, silently. */
#define PROBE_SPAWN_TIMEOUT_S 300

/* Runs the helper with @o (its sock ignored) and receives the probe into
 * @h: 0, or -errno (logged: the helper's own log says why first;
 * -ETIMEDOUT: killed at the deadline). */
int probe_spawn_run(const struct probe_build_opts *o, struct handoff *h,
		    struct probe_spawn_stats *st);

#endif
