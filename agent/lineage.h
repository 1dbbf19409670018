/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lineage: naming an fd a process inherited from its parent, once the
 * process is gone and /proc can no longer be asked.
 *
 * A short-lived child that writes to an fd it got at fork (a shell's
 * redirection, a subshell) and exits within a drain (10 ms) leaves records
 * the agent cannot name from /proc. The probe records every fork (not
 * threads) before the child runs, and while the child is young (SE_YOUNG_NS)
 * every change it makes to an fd, tracked or not (open, dup, close,
 * close_range, F_SETFD); the table notes which fds it changed and whether
 * it exec'd. An fd it never changed is still the one its parent had at the
 * fork: the parent's entry answers if it was set before the fork, is one
 * the kernel tracks (so its close would have been seen) and, after an exec,
 * is known not to be close-on-exec. A parent that never changed the fd
 * either, within its own young time, sends the question up to its parent.
 *
 * It answers only when that reasoning holds: for records from the process's
 * young time, with no record lost since the oldest fork it relies on;
 * otherwise the event stays unresolved (and counted). It cannot help when
 * the parent has exited too.
 */
#ifndef SENTINEL_LINEAGE_H
#define SENTINEL_LINEAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "fdtable.h"

/* Ancestors asked at most: a pipeline inside a subshell inside a script. */
#define LINEAGE_MAX_DEPTH 4

/*
 * @child was forked by @parent at @born_ns (kernel clock); @young: the
 * probe follows its fd changes (the young map had room). An entry already
 * held for @child belongs to a process that had the tgid before (its exit
 * record lost): its fds older than the fork are dropped, telling @gone.
 * The child starts in the parent's cwd when that is known. -ENOMEM when
 * the table has no room for the child.
 */
int lineage_fork(struct fdtable *t, uint32_t parent, uint32_t child, uint64_t born_ns, bool young,
		 fd_gone_fn gone, void *gone_arg);
/* @p changed its fds @first..@last (inclusive; last may be UINT32_MAX). */
void lineage_touch(struct proc_entry *p, uint32_t first, uint32_t last);
/* @p exec'd. */
void lineage_exec(struct proc_entry *p);
/*
 * The entry of the ancestor whose fd (@tgid, @fd) still is, at @at_ns (the
 * kernel time of the record asking), or NULL. @lost_ns: records may have
 * been lost up to then (0: none lost).
 */
const struct fd_entry *lineage_find(struct fdtable *t, uint32_t tgid, int32_t fd, uint64_t at_ns,
				    uint64_t lost_ns);

#endif
