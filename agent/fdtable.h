/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fdtable: what user space knows about every traced process's open files.
 * (tgid, fd) -> absolute path, fed by the probe's open/dup/close records and
 * by /proc for fds that were open before the agent started. Also keeps each
 * process's cwd (for relative opens) and container id.
 *
 * Paths are recorded at open time: a file renamed while open keeps the name
 * it was opened under (the kernel resolves the fd's current name only at
 * readlink time, which we do just for fds we never saw opened).
 *
 * Entries of a process go when its exit record comes. That record can be
 * lost (the kernel's buffer was full): fdtable_sweep() finds processes that
 * are gone by asking /proc, a bounded number at a time. The table holds at
 * most max_entries fds and as many processes; what does not fit is counted
 * in `full` and the caller carries on without it (resolving from /proc).
 *
 * Single-threaded: owned by the pipeline (the reader thread).
 */
#ifndef SENTINEL_FDTABLE_H
#define SENTINEL_FDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#define FDE_CLOEXEC 0x1	  /* closed by exec */
#define FDE_FROM_PROC 0x2 /* read from /proc: close-on-exec unknown, dropped at exec */

struct fd_entry {
	int32_t fd;
	uint32_t flags;	     /* FDE_* */
	uint64_t path_mask;  /* rules whose path part matches, for mask_gen */
	uint32_t mask_gen;   /* rules generation of path_mask; 0 = not computed */
	uint64_t posted_seq; /* last verdict seq posted to the kernel */
	uint32_t posted_gen; /* rules generation of that verdict */
	/* Components of the name beyond what @path holds (PATH_MAX): 0 when
	 * @path is the whole name, else @path is its leading part. */
	uint32_t path_over;
	/* When the table learnt this state: the kernel time of the record
	 * that set it, else when /proc was read (CLOCK_MONOTONIC, the BPF
	 * clock). An fd set after a child's fork is not the child's. */
	uint64_t set_ns;
	/*
	 * NULL: the kernel tracks this fd but its name could not be found
	 * (the process was gone before /proc was asked). Kept so that the
	 * exit (or a sweep) forgets the kernel's state; looked up again on
	 * the fd's next event.
	 */
	char *path;
	UT_hash_handle hh;
};

enum container_state { CONTAINER_UNKNOWN = 0, CONTAINER_NONE, CONTAINER_KNOWN };

/* What a process has from its parent, from the fork record (lineage.h). */
#define LINEAGE_FDS 256
struct proc_lineage {
	uint32_t parent;	 /* 0: no fork record seen */
	uint64_t parent_born_ns; /* the parent's born_ns at the fork: tells a reused tgid */
	uint64_t born_ns;	 /* the fork's kernel time; 0 unknown */
	bool execd;		 /* exec'd since: its close-on-exec fds are gone */
	bool touched_high;	 /* changed some fd >= LINEAGE_FDS since the fork */
	uint64_t touched[LINEAGE_FDS / 64]; /* fds it changed since the fork */
};

struct proc_entry {
	uint32_t tgid;
	char *cwd;	   /* NULL until needed; then tracked through chdir */
	uint32_t cwd_over; /* components of the cwd beyond @cwd (see fd_entry.path_over) */
	enum container_state container;
	char container_id[65];
	/* /proc/<tgid>/stat starttime when a sweep first saw the process
	 * (0: not yet): a later value means the tgid was reused. */
	uint64_t start_time;
	struct proc_lineage lin;
	struct fd_entry *fds;
	UT_hash_handle hh;
};

struct fdtable {
	struct proc_entry *procs; /* hash; its list runs from least recently swept */
	size_t n_fds;
	size_t n_procs;
	size_t max_entries; /* fds, and processes, held at most; 0 = no limit */
	uint64_t full;	    /* inserts refused because of max_entries */
};

void fdtable_init(struct fdtable *t);
void fdtable_free(struct fdtable *t);

/* With @create, NULL when out of memory or the table is full. */
struct proc_entry *fdtable_proc(struct fdtable *t, uint32_t tgid, bool create);
struct fd_entry *fdtable_get(struct fdtable *t, uint32_t tgid, int32_t fd);
/* Inserts or replaces (tgid, fd); takes a copy of @path, which may be NULL
 * (name unknown, see fd_entry.path). set_ns is now: a caller that knows
 * when the state began (a record's time) sets it. NULL on ENOMEM or when
 * full. */
struct fd_entry *fdtable_set(struct fdtable *t, uint32_t tgid, int32_t fd, const char *path,
			     uint32_t flags);
void fdtable_del(struct fdtable *t, uint32_t tgid, int32_t fd);
/* Drops a process and all its fds. */
void fdtable_drop_proc(struct fdtable *t, uint32_t tgid);

/* Removes every fd of @p for which @pred is true, telling @gone about each
 * before it is freed (to forget kernel state). Used by exec and close_range. */
typedef bool (*fd_pred_fn)(const struct fd_entry *e, void *arg);
typedef void (*fd_gone_fn)(uint32_t tgid, int32_t fd, void *arg);
void fdtable_remove_if(struct fdtable *t, struct proc_entry *p, fd_pred_fn pred, void *pred_arg,
		       fd_gone_fn gone, void *gone_arg);

/*
 * Is @tgid alive? 1 yes, with its start time (any value that changes when
 * the tgid is reused) in @start_time; 0 no; -errno when it cannot be told
 * (the process is then kept).
 */
typedef int (*fdtable_alive_fn)(uint32_t tgid, uint64_t *start_time, void *ctx);
/* The default: /proc/<tgid>/stat exists, and its starttime field. */
int fdtable_proc_alive(uint32_t tgid, uint64_t *start_time, void *ctx);

struct fdtable_sweep_result {
	size_t checked;
	size_t procs; /* processes dropped: gone, or their tgid reused */
	size_t fds;   /* their fds */
};

/*
 * Checks up to @max processes, those least recently checked first, and
 * drops each that @alive says is gone or whose start time changed since
 * the last check, telling @gone about each of its fds. Adds to @res.
 */
void fdtable_sweep(struct fdtable *t, size_t max, fdtable_alive_fn alive, void *alive_ctx,
		   fd_gone_fn gone, void *gone_arg, struct fdtable_sweep_result *res);

/* The process's cwd, read from /proc on first use. NULL if unavailable. */
const char *fdtable_cwd(struct proc_entry *p);
void fdtable_set_cwd(struct proc_entry *p, const char *cwd, uint32_t over);
/* Unknown from now on: the next fdtable_cwd() asks /proc. */
void fdtable_forget_cwd(struct proc_entry *p);

/* Container id from /proc/<tgid>/cgroup, cached; "" when not in a container. */
const char *fdtable_container_id(struct proc_entry *p);

#endif
