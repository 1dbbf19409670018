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
	char *path;
	UT_hash_handle hh;
};

enum container_state { CONTAINER_UNKNOWN = 0, CONTAINER_NONE, CONTAINER_KNOWN };

struct proc_entry {
	uint32_t tgid;
	char *cwd; /* NULL until needed; then tracked through chdir */
	enum container_state container;
	char container_id[65];
	struct fd_entry *fds;
	UT_hash_handle hh;
};

struct fdtable {
	struct proc_entry *procs;
	size_t n_fds;
};

void fdtable_init(struct fdtable *t);
void fdtable_free(struct fdtable *t);

struct proc_entry *fdtable_proc(struct fdtable *t, uint32_t tgid, bool create);
struct fd_entry *fdtable_get(struct fdtable *t, uint32_t tgid, int32_t fd);
/* Inserts or replaces (tgid, fd); takes a copy of path. NULL on ENOMEM. */
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

/* The process's cwd, read from /proc on first use. NULL if unavailable. */
const char *fdtable_cwd(struct proc_entry *p);
void fdtable_set_cwd(struct proc_entry *p, const char *cwd);

/* Container id from /proc/<tgid>/cgroup, cached; "" when not in a container. */
const char *fdtable_container_id(struct proc_entry *p);

#endif
