/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* v1 controllers in the order tried, with the kernel's name for each one's
 * slot in css_set.subsys (enum cgroup_subsys_id): kubelet and every runtime
 * give each container its own memory cgroup; the others are fallbacks. */
static const struct {
	const char *name, *subsys_enum;
} controllers[] = {
	{"memory", "memory_cgrp_id"},	{"pids", "pids_cgrp_id"},	{"cpu", "cpu_cgrp_id"},
	{"cpuacct", "cpuacct_cgrp_id"}, {"cpuset", "cpuset_cgrp_id"},	{"blkio", "io_cgrp_id"},
	{"devices", "devices_cgrp_id"}, {"freezer", "freezer_cgrp_id"},
};
#define N_CONTROLLERS (sizeof(controllers) / sizeof(controllers[0]))

const char *cgroups_mode_name(enum cgroups_mode m)
{
	switch (m) {
	case CGROUPS_V2: return "v2";
	case CGROUPS_HYBRID: return "hybrid";
	case CGROUPS_V1: return "v1";
	}
	return "unknown";
}

/* Whether comma-separated @list (length @len) holds @word. */
static bool has_word(const char *list, size_t len, const char *word)
{
	size_t w = strlen(word);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == w && memcmp(p, word, w) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

/*
 * The /proc/self/cgroup lines: which hierarchies exist (@v1 per controller:
 * its hierarchy id, -1 when absent) and whether the unified one does.
 * -EINVAL when no line is "<id>:<controllers>:<path>".
 */
static int scan_self(const char *text, int v1[N_CONTROLLERS], bool *unified)
{
	int lines = 0;

	*unified = false;
	for (size_t i = 0; i < N_CONTROLLERS; i++)
		v1[i] = -1;
	for (const char *l = text; l && *l;) {
		const char *nl = strchrnul(l, '\n'), *c1 = memchr(l, ':', (size_t)(nl - l)), *c2;
		char *end;
		long id = strtol(l, &end, 10);

		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (nl != l && (end != c1 || end == l || !c2 || id < 0 || id > INT_MAX))
			return -EINVAL;
		if (nl != l) {
			lines++;
			if (id == 0 && c2 == c1 + 1)
				*unified = true;
			for (size_t i = 0; i < N_CONTROLLERS; i++)
				if (has_word(c1 + 1, (size_t)(c2 - c1 - 1), controllers[i].name))
					v1[i] = (int)id;
		}
		l = *nl ? nl + 1 : nl;
	}
	return lines ? 0 : -EINVAL;
}

/* Copies mountinfo's octal-escaped field [s, e) ("\040" for a space). */
static void unescape(const char *s, const char *e, char *out, size_t cap)
{
	size_t o = 0;

	while (s < e && o + 1 < cap) {
		if (*s == '\\' && e - s >= 4 && s[1] >= '0' && s[1] <= '3') {
			out[o++] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
}

/*
 * Whether mountinfo's root field [s, e) is a hierarchy's root: "/", or as a
 * reader inside a cgroup namespace sees the host's mount of it, "/.." once
 * per level up to it ("/../.."): the root is above the namespace's.
 */
static bool hierarchy_root(const char *s, const char *e)
{
	if (e - s == 1 && *s == '/')
		return true;
	for (; s < e; s += 3)
		if (e - s < 3 || memcmp(s, "/..", 3) != 0)
			return false;
	return true;
}

/*
 * The mount point of a hierarchy in mountinfo: fstype cgroup2 for
 * @controller NULL, else fstype cgroup with @controller among its super
 * options. Fields: "id parent maj:min root mountpoint opts [tags] - fstype
 * source superopts". Only a mount of the hierarchy's root ("/") counts:
 * a bind of a subtree would give other inodes' paths.
 */
static void find_mount(const char *mountinfo, const char *controller, char *out, size_t cap)
{
	out[0] = '\0';
	for (const char *l = mountinfo; l && *l;) {
		const char *nl = strchrnul(l, '\n'), *f[5], *p = l, *dash;
		int k = 0;

		for (; k < 5 && p < nl; k++) {
			f[k] = p;
			p = memchr(p, ' ', (size_t)(nl - p));
			if (!p)
				break;
			p++;
		}
		/* Bounded by the line: a node may have thousands of mounts. */
		dash = k == 5 && p && p < nl ? memmem(p - 1, (size_t)(nl - p + 1), " - ", 3) : NULL;
		if (dash) {
			const char *fs = dash + 3, *fs_end = memchr(fs, ' ', (size_t)(nl - fs));
			const char *src = fs_end ? fs_end + 1 : nl;
			const char *opts = src < nl ? memchr(src, ' ', (size_t)(nl - src)) : NULL;
			size_t fslen = fs_end ? (size_t)(fs_end - fs) : 0;
			bool root = hierarchy_root(f[3], f[4] - 1);
			bool v2 = fslen == 7 && memcmp(fs, "cgroup2", 7) == 0;
			bool v1 = fslen == 6 && memcmp(fs, "cgroup", 6) == 0;

			if (root && ((!controller && v2) ||
				     (controller && v1 && opts &&
				      has_word(opts + 1, (size_t)(nl - opts - 1), controller)))) {
				unescape(f[4], f[4] + (strchrnul(f[4], ' ') - f[4]), out, cap);
				return;
			}
		}
		l = *nl ? nl + 1 : nl;
	}
}

int cgroups_layout_parse(const char *self_cgroup, const char *mountinfo, struct cgroups_layout *out,
			 char *err, size_t errcap)
{
	int v1[N_CONTROLLERS];
	bool unified, any_v1 = false;

	memset(out, 0, sizeof(*out));
	if (scan_self(self_cgroup, v1, &unified) != 0) {
		snprintf(err, errcap,
			 "/proc/self/cgroup: expected lines \"<hierarchy "
			 "id>:<controllers>:<path>\"");
		return -EINVAL;
	}
	for (size_t i = 0; i < N_CONTROLLERS && !any_v1; i++) {
		if (v1[i] < 0)
			continue;
		any_v1 = true;
		out->hierarchy = v1[i];
		snprintf(out->controller, sizeof(out->controller), "%s", controllers[i].name);
		out->subsys_enum = controllers[i].subsys_enum;
	}
	if (!any_v1 && !unified) {
		snprintf(err, errcap,
			 "/proc/self/cgroup: neither the unified hierarchy (0::) nor "
			 "a v1 memory, pids, cpu, cpuacct, cpuset, blkio, devices or "
			 "freezer hierarchy");
		return -EINVAL;
	}
	out->mode = !any_v1 ? CGROUPS_V2 : unified ? CGROUPS_HYBRID : CGROUPS_V1;
	find_mount(mountinfo, any_v1 ? out->controller : NULL, out->mount, sizeof(out->mount));
	return 0;
}

/* The whole of @path (a /proc file: its size says nothing), NUL-terminated;
 * NULL when unreadable. */
static char *read_text(const char *path)
{
	size_t len = 0, cap = 16384;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!buf || fd < 0)
		goto fail;
	for (;;) {
		ssize_t r;

		if (cap - len < 2) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* The layout as process @pid ("1", "self") sees it; @prefix put before the
 * mount point (the path to that process's root from ours). */
static int layout_of(const char *pid, const char *prefix, struct cgroups_layout *out, char *err,
		     size_t errcap)
{
	char p[64], mount[PATH_MAX];
	char *self, *mi;
	int rc;

	snprintf(p, sizeof(p), "/proc/%s/cgroup", pid);
	self = read_text(p);
	snprintf(p, sizeof(p), "/proc/%s/mountinfo", pid);
	mi = read_text(p);
	rc = cgroups_layout_parse(self, mi, out, err, errcap);
	free(self);
	free(mi);
	if (rc == 0 && out->mount[0] && prefix[0]) {
		size_t pl = strlen(prefix), ml = strlen(out->mount);

		mount[0] = '\0';
		/* Not reachable (no CAP_SYS_PTRACE for pid 1's root): none. */
		if (pl + ml < sizeof(mount)) {
			memcpy(mount, prefix, pl);
			memcpy(mount + pl, out->mount, ml + 1);
			if (access(mount, R_OK | X_OK) != 0)
				mount[0] = '\0';
		}
		memcpy(out->mount, mount, sizeof(mount));
	}
	return rc;
}

int cgroups_layout_read(struct cgroups_layout *out, char *err, size_t errcap)
{
	/* The host's view first: the agent runs with the host's PID
	 * namespace, but maybe in its own mount and cgroup namespaces, where
	 * /sys/fs/cgroup shows only its own subtree. */
	struct cgroups_layout self;
	int rc = layout_of("1", "/proc/1/root", out, err, errcap);

	if (rc == 0 && out->mount[0])
		return 0;
	/* pid 1's root out of reach (no CAP_SYS_PTRACE, or another user
	 * namespace): our own view, which on a host is the same. */
	if (layout_of("self", "", &self, err, errcap) == 0) {
		*out = self;
		return 0;
	}
	return rc;
}
