/* SPDX-License-Identifier: Apache-2.0 */
#include "fdtable.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

void fdtable_init(struct fdtable *t)
{
	t->procs = NULL;
	t->n_fds = 0;
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
}

void fdtable_free(struct fdtable *t)
{
	struct proc_entry *p, *tmp;

	HASH_ITER (hh, t->procs, p, tmp) {
		HASH_DEL(t->procs, p);
		free_proc(t, p);
	}
}

struct proc_entry *fdtable_proc(struct fdtable *t, uint32_t tgid, bool create)
{
	struct proc_entry *p;

	HASH_FIND(hh, t->procs, &tgid, sizeof(tgid), p);
	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	HASH_ADD(hh, t->procs, tgid, sizeof(p->tgid), p);
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
	char *copy;

	if (!p)
		return NULL;
	copy = strdup(path);
	if (!copy)
		return NULL;
	HASH_FIND(hh, p->fds, &fd, sizeof(fd), e);
	if (!e) {
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

void fdtable_set_cwd(struct proc_entry *p, const char *cwd)
{
	char *copy = strdup(cwd);

	if (!copy)
		return;
	free(p->cwd);
	p->cwd = copy;
}

const char *fdtable_cwd(struct proc_entry *p)
{
	char buf[PATH_MAX];

	if (!p->cwd && path_proc_cwd(p->tgid, buf, sizeof(buf)) > 0)
		fdtable_set_cwd(p, buf);
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
