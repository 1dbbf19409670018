/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroups: which cgroup hierarchy names containers on this node, decided
 * once at start from /proc/self/cgroup and /proc/self/mountinfo.
 *
 *   v2      only the unified hierarchy: ids from bpf_get_current_cgroup_id().
 *   hybrid  v1 controllers, plus cgroup2 elsewhere (/sys/fs/cgroup/unified):
 *   v1      container runtimes on such nodes always make a directory per
 *           container in the v1 controllers' hierarchies, not necessarily
 *           in the unified one (where every task may sit in the root), so
 *           ids come from one v1 controller's hierarchy (memory first).
 *
 * The probe reads the task's cgroup in that hierarchy (a BTF enum value
 * names the controller's slot: subsys_enum), and the cgroup_mkdir
 * tracepoint of the same hierarchy (hierarchy) tells user space each new
 * cgroup's path, hence its container id, by id: the directory's inode.
 * Cgroups made before start are learnt by scanning the hierarchy's mount.
 */
#ifndef SENTINEL_CGROUPS_H
#define SENTINEL_CGROUPS_H

#include <limits.h>
#include <stddef.h>

enum cgroups_mode { CGROUPS_V2 = 1, CGROUPS_HYBRID, CGROUPS_V1 };

struct cgroups_layout {
	enum cgroups_mode mode;
	int hierarchy;		 /* its id, as in /proc/<pid>/cgroup (0: the unified one) */
	char controller[16];	 /* v1: the controller ("memory"); "" for v2 */
	const char *subsys_enum; /* v1: its enum cgroup_subsys_id value; NULL for v2 */
	char mount[PATH_MAX];	 /* where it is mounted here; "" when not (no scan) */
};

/*
 * Decides from the texts of /proc/self/cgroup and /proc/self/mountinfo
 * (either may be NULL: unreadable). Returns 0, or -EINVAL with @err saying
 * what was expected when /proc/self/cgroup has no line this parser knows;
 * a missing mount only leaves @out->mount empty.
 */
int cgroups_layout_parse(const char *self_cgroup, const char *mountinfo, struct cgroups_layout *out,
			 char *err, size_t errcap);

/* The same from pid 1's /proc files (the host's, with hostPID; the mount
 * then reached through /proc/1/root), else this process's. */
int cgroups_layout_read(struct cgroups_layout *out, char *err, size_t errcap);

/* "v2", "hybrid", "v1" */
const char *cgroups_mode_name(enum cgroups_mode m);

#endif
