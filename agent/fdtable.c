/* SPDX-License-Identifier: Apache-2.0 */
#include "fdtable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "path.h"

void fdtable_init(struct fdtable *t)
{
	t->procs = NULL;
	t->n_fds = 0;
	t->n_procs = 0;
	t->max_entries = 0;
	t->full = 0;
}

static void free_fd(struct fd_entry *e)
{
	free(e->path);
	free(e);
}

static void free_proc(struct fdtable *t, struct proc_entry *p)
{
	struct fd_entry *e, *tmp;

	HASH_ITER (hh, p->fds, e, tmp) {
		HASH_DEL(p->fds, e);
		free_fd(e);
		t->n_fds--;
	}
	free(p->cwd);
	free(p);
	t->n_procs--;
}

void fdtable_free(struct fdtable *t)
{
	struct proc_entry *p, *tmp;

	HASH_ITER (hh, t->procs, p, tmp) {
		HASH_DEL(t->procs, p);
		free_proc(t, p);
	}
}

/* Room for one more fd (or process, with @n = n_procs)? Counts refusals. */
static bool has_room(struct fdtable *t, size_t n)
{
	if (!t->max_entries || n < t->max_entries)
		return true;
	t->full++;
	return false;
}

struct proc_entry *fdtable_proc(struct fdtable *t, uint32_t tgid, bool create)
{
	struct proc_entry *p;

	HASH_FIND(hh, t->procs, &tgid, sizeof(tgid), p);
	if (p || !create || !has_room(t, t->n_procs))
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	HASH_ADD(hh, t->procs, tgid, sizeof(p->tgid), p);
	t->n_procs++;
	return p;
}

struct fd_entry *fdtable_get(struct fdtable *t, uint32_t tgid, int32_t fd)
{
	struct proc_entry *p = fdtable_proc(t, tgid, false);
	struct fd_entry *e = NULL;

	if (p)
		HASH_FIND(hh, p->fds, &fd, sizeof(fd), e);
	return e;
}

struct fd_entry *fdtable_set(struct fdtable *t, uint32_t tgid, int32_t fd, const char *path,
			     uint32_t flags)
{
	struct proc_entry *p = fdtable_proc(t, tgid, true);
	struct fd_entry *e;
	char *copy = NULL;

	if (!p)
		return NULL;
	if (path && !(copy = strdup(path)))
		return NULL;
	HASH_FIND(hh, p->fds, &fd, sizeof(fd), e);
	if (!e) {
		if (!has_room(t, t->n_fds)) {
			free(copy);
			return NULL;
		}
		e = calloc(1, sizeof(*e));
		if (!e) {
			free(copy);
			return NULL;
		}
		e->fd = fd;
		HASH_ADD(hh, p->fds, fd, sizeof(e->fd), e);
		t->n_fds++;
	} else {
		free(e->path);
	}
	e->path = copy;
	e->flags = flags;
	e->path_mask = 0;
	e->mask_gen = 0;
	e->posted_seq = 0;
	e->posted_gen = 0;
	e->path_over = 0;
	e->set_ns = clock_mono_ns();
	return e;
}

void fdtable_del(struct fdtable *t, uint32_t tgid, int32_t fd)
{
	struct proc_entry *p = fdtable_proc(t, tgid, false);
	struct fd_entry *e = NULL;

	if (!p)
		return;
	HASH_FIND(hh, p->fds, &fd, sizeof(fd), e);
	if (!e)
		return;
	HASH_DEL(p->fds, e);
	free_fd(e);
	t->n_fds--;
}

void fdtable_drop_proc(struct fdtable *t, uint32_t tgid)
{
	struct proc_entry *p = fdtable_proc(t, tgid, false);

	if (!p)
		return;
	HASH_DEL(t->procs, p);
	free_proc(t, p);
}

void fdtable_remove_if(struct fdtable *t, struct proc_entry *p, fd_pred_fn pred, void *pred_arg,
		       fd_gone_fn gone, void *gone_arg)
{
	struct fd_entry *e, *tmp;

	HASH_ITER (hh, p->fds, e, tmp) {
		if (!pred(e, pred_arg))
			continue;
		if (gone)
			gone(p->tgid, e->fd, gone_arg);
		HASH_DEL(p->fds, e);
		free_fd(e);
		t->n_fds--;
	}
}

int fdtable_proc_alive(uint32_t tgid, uint64_t *start_time, void *ctx)
{
	char path[32], buf[1024];
	const char *s;
	ssize_t n;
	int fd;

	(void)ctx;
	snprintf(path, sizeof(path), "/proc/%u/stat", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? 0 : -errno;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold ") ", so from the last
	 * ')'; starttime is field 22, the 20th after it. A zombie counts as
	 * alive until reaped: its tgid cannot be reused before. */
	s = strrchr(buf, ')');
	*start_time = 0;
	for (int field = 2; s && field < 22; field++) {
		s = strchr(s + 1, ' ');
		if (s && field == 21)
			*start_time = strtoull(s + 1, NULL, 10);
	}
	return 1;
}

/* Drops @p, telling @gone about each of its fds first. */
static void drop(struct fdtable *t, struct proc_entry *p, fd_gone_fn gone, void *gone_arg)
{
	struct fd_entry *e, *tmp;

	HASH_ITER (hh, p->fds, e, tmp) {
		if (gone)
			gone(p->tgid, e->fd, gone_arg);
	}
	HASH_DEL(t->procs, p);
	free_proc(t, p);
}

void fdtable_sweep(struct fdtable *t, size_t max, fdtable_alive_fn alive, void *alive_ctx,
		   fd_gone_fn gone, void *gone_arg, struct fdtable_sweep_result *res)
{
	size_t n = max < t->n_procs ? max : t->n_procs;

	for (size_t i = 0; i < n; i++) {
		/* The head of the hash's list is the least recently checked:
		 * the checked go to the tail, as do new processes. */
		struct proc_entry *p = t->procs;
		uint64_t start = 0;
		int r = alive(p->tgid, &start, alive_ctx);

		res->checked++;
		if (r == 0 || (r > 0 && p->start_time && start != p->start_time)) {
			res->procs++;
			res->fds += HASH_COUNT(p->fds);
			drop(t, p, gone, gone_arg);
			continue;
		}
		if (r > 0 && !p->start_time)
			p->start_time = start;
		HASH_DEL(t->procs, p);
		HASH_ADD(hh, t->procs, tgid, sizeof(p->tgid), p);
	}
}

void fdtable_set_cwd(struct proc_entry *p, const char *cwd, uint32_t over)
{
	char *copy = strdup(cwd);

	if (!copy)
		return;
	free(p->cwd);
	p->cwd = copy;
	p->cwd_over = over;
}

void fdtable_forget_cwd(struct proc_entry *p)
{
	free(p->cwd);
	p->cwd = NULL;
	p->cwd_over = 0;
}

const char *fdtable_cwd(struct proc_entry *p)
{
	char buf[PATH_MAX];

	if (!p->cwd && path_proc_cwd(p->tgid, buf, sizeof(buf)) > 0)
		fdtable_set_cwd(p, buf, 0);
	return p->cwd;
}

const char *fdtable_container_id(struct proc_entry *p)
{
	if (p->container == CONTAINER_UNKNOWN) {
		int n = path_proc_container_id(p->tgid, p->container_id, sizeof(p->container_id));

		p->container = n > 0 ? CONTAINER_KNOWN : CONTAINER_NONE;
		if (n <= 0)
			p->container_id[0] = '\0';
	}
	return p->container_id;
}
