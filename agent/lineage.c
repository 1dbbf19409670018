/* SPDX-License-Identifier: Apache-2.0 */
#include "lineage.h"

#include <errno.h>
#include <string.h>

#include "event.h"

static bool older_than(const struct fd_entry *e, void *arg)
{
	return e->set_ns < *(const uint64_t *)arg;
}

int lineage_fork(struct fdtable *t, uint32_t parent, uint32_t child, uint64_t born_ns, bool young,
		 fd_gone_fn gone, void *gone_arg)
{
	struct proc_entry *pp = fdtable_proc(t, parent, false);
	struct proc_entry *c = fdtable_proc(t, child, false);

	if (c) {
		/* On the ring buffer nothing of the child can come before its
		 * fork; the perf transport merges CPUs per drain, so keep
		 * what is newer than the fork. */
		fdtable_remove_if(t, c, older_than, &born_ns, gone, gone_arg);
		fdtable_forget_cwd(c);
		c->start_time = 0;
		c->container = CONTAINER_UNKNOWN;
	} else {
		c = fdtable_proc(t, child, true);
		if (!c)
			return -ENOMEM;
	}
	memset(&c->lin, 0, sizeof(c->lin));
	c->lin.parent = young ? parent : 0;
	c->lin.parent_born_ns = pp ? pp->lin.born_ns : 0;
	c->lin.born_ns = born_ns;
	if (pp && pp->cwd)
		fdtable_set_cwd(c, pp->cwd, pp->cwd_over);
	return 0;
}

void lineage_touch(struct proc_entry *p, uint32_t first, uint32_t last)
{
	if (!p->lin.parent || first > last)
		return;
	if (last >= LINEAGE_FDS) {
		p->lin.touched_high = true;
		last = LINEAGE_FDS - 1;
	}
	for (uint32_t fd = first; fd <= last; fd++)
		p->lin.touched[fd / 64] |= 1ull << (fd % 64);
}

void lineage_exec(struct proc_entry *p)
{
	p->lin.execd = true;
}

static bool touched(const struct proc_entry *p, int32_t fd)
{
	if (fd >= LINEAGE_FDS)
		return p->lin.touched_high;
	return p->lin.touched[fd / 64] & (1ull << (fd % 64));
}

/* An entry the kernel tracks: its close cannot go unseen. One read from
 * /proc that no verdict was posted for since may have been closed (and the
 * number reused) without a record. */
static bool kernel_tracked(const struct fd_entry *e)
{
	return !(e->flags & FDE_FROM_PROC) || e->posted_seq;
}

const struct fd_entry *lineage_find(struct fdtable *t, uint32_t tgid, int32_t fd, uint64_t at_ns,
				    uint64_t lost_ns)
{
	struct proc_entry *p = fdtable_proc(t, tgid, false);
	bool execd = false;

	if (fd < 0)
		return NULL;
	for (int depth = 0; p && depth < LINEAGE_MAX_DEPTH; depth++) {
		struct proc_entry *pp;
		struct fd_entry *e;

		/* Every change @p made up to @at_ns is known only when @p was
		 * young all along and nothing was lost since its fork. */
		if (!p->lin.parent || at_ns - p->lin.born_ns >= SE_YOUNG_NS ||
		    at_ns < p->lin.born_ns || lost_ns >= p->lin.born_ns || touched(p, fd))
			return NULL;
		execd |= p->lin.execd;
		pp = fdtable_proc(t, p->lin.parent, false);
		/* Gone, or its tgid now another process's. */
		if (!pp || pp->lin.born_ns != p->lin.parent_born_ns)
			return NULL;
		HASH_FIND(hh, pp->fds, &fd, sizeof(fd), e);
		if (e && e->set_ns > p->lin.born_ns)
			return NULL; /* the parent's fd changed after the fork */
		if (e && e->path) {
			if (!kernel_tracked(e))
				return NULL;
			/* Across an exec only an fd known to stay open. */
			if (execd && (e->flags & (FDE_CLOEXEC | FDE_FROM_PROC)))
				return NULL;
			return e;
		}
		/* Unknown to the parent too (never changed by it, or its name
		 * not found): ask its parent, as of the parent's fork. */
		at_ns = p->lin.born_ns;
		p = pp;
	}
	return NULL;
}
