/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe_progs: the probe's programs and the maps user space keeps, the one
 * table both sides of the hand-off read. The compile helper
 * (sentinel-probe-build, probe_build.h) loads the programs by their
 * function names and passes their fds, with the maps', to the agent
 * (handoff.h), which attaches them and works the maps (probe.h). An entry's
 * index is its identity on the wire: both binaries come from one build.
 */
#ifndef SENTINEL_PROBE_PROGS_H
#define SENTINEL_PROBE_PROGS_H

#include <stdbool.h>

struct probe_prog {
	const char *fn;	  /* function name libbcc gives the program */
	const char *name; /* raw tracepoint attached to; NULL: tail-called only */
	bool uring;	  /* built only where BTF gives io_uring's layouts (SE_URING) */
	int tail;	  /* a tail-called program's slot (enum se_tail); -1 */
	/* Attached if it can be: what goes unseen otherwise (said loudly);
	 * NULL: the agent cannot run without it. */
	const char *unseen;
};

extern const struct probe_prog probe_progs[];
extern const unsigned probe_n_progs;
#define PROBE_MAX_PROGS 24

/* The maps the agent needs after the compile. */
enum probe_map {
	PROBE_MAP_CONFIG = 0,
	PROBE_MAP_FILES,
	PROBE_MAP_EPOCH,
	PROBE_MAP_VERDICTS,
	PROBE_MAP_COMMS,
	PROBE_MAP_COUNTERS,
	PROBE_MAP_RL,
	PROBE_MAP_EVENTS,
	/*
	 * Not used by the agent, only held: the kernel empties a program
	 * array when the last file descriptor of it from user space is closed
	 * (its programs' references do not count), so with the helper gone
	 * every tail call would fail unless the agent keeps this one.
	 */
	PROBE_MAP_MOVERS,
	PROBE_MAP_N
};

/* The map's name in the BPF text. */
const char *probe_map_name(enum probe_map m);

#endif
