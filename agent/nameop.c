/* SPDX-License-Identifier: Apache-2.0 */
#include "nameop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "path.h"

const char *nameop_how_name(enum nameop_how how)
{
	static const char *const names[] = {
		[NAMEOP_LOOKUP] = "lookup",	    [NAMEOP_FILE] = "file",
		[NAMEOP_LEXICAL] = "lexical",	    [NAMEOP_TRUNCATED] = "truncated",
		[NAMEOP_UNREADABLE] = "unreadable",
	};

	return (unsigned)how < sizeof(names) / sizeof(names[0]) ? names[how] : "unknown";
}

/* The inode of a mount namespace link (/proc/PID/ns/mnt): its inum; 0 unknown. */
static unsigned ns_inum(const char *link)
{
	struct stat st;

	return stat(link, &st) == 0 ? (unsigned)st.st_ino : 0;
}

void nameop_init(struct nameop *n)
{
	int fd = open("/proc/1/root/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	memset(n, 0, sizeof(*n));
	if (fd >= 0) {
		close(fd);
		n->hostroot = "/proc/1/root";
		snprintf(n->host_minfo, sizeof(n->host_minfo), "/proc/1/mountinfo");
		n->host_mntns = ns_inum("/proc/1/ns/mnt");
		return;
	}
	log_info("init's root cannot be opened: the names of renames and links are looked up "
		 "from the agent's root",
		 "path=/proc/1/root error=\"%s\"", strerror(errno));
	n->hostroot = "/";
	snprintf(n->host_minfo, sizeof(n->host_minfo), "/proc/self/mountinfo");
	n->host_mntns = ns_inum("/proc/self/ns/mnt");
}

/* "@a/@b" into @out (one '/' between, none doubled after "/"); 0 or -1 when
 * it does not fit. */
static int join(char *out, size_t cap, const char *a, const char *b)
{
	size_t al = strlen(a);
	int n;

	while (*b == '/')
		b++;
	n = snprintf(out, cap, "%s%s%s", a, al && a[al - 1] == '/' ? "" : "/", b);
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/*
 * The process's root as the path the kernel walk shows (@view: what
 * readlink gives, through a bind mount if one was used): @view without the
 * part below the root (@kp->in_root). -1 when they do not line up (the
 * walk never met the root).
 */
static int root_view(const struct kpath *kp, const char *view, char *out, size_t cap)
{
	size_t vl = strlen(view), il = strlen(kp->in_root);

	if (!(kp->flags & SE_KP_F_ROOT) || kp->in_root_partial || kp->in_root[0] != '/')
		return -1;
	if (strcmp(kp->in_root, "/") == 0)
		il = 0;
	else if (vl < il || strcmp(view + vl - il, kp->in_root) != 0)
		return -1;
	if (vl - il == 0)
		return snprintf(out, cap, "/") < (int)cap ? 0 : -1;
	if (vl - il >= cap)
		return -1;
	memcpy(out, view, vl - il);
	out[vl - il] = '\0';
	return 0;
}

/* procfs: its links name the agent's own files (/proc/self), not the caller's */
#define NAMEOP_PROC_MAGIC 0x9fa0

/* mountinfo's octal escapes (\040 for ' ', \011, \012, \134) undone in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (fields cut in place). */
struct mline {
	unsigned long id;
	char dev[32];
	char *root, *point;
};

static int mline_parse(char *line, struct mline *m)
{
	char *save = NULL, *id = strtok_r(line, " ", &save), *dev;

	if (!id || !strtok_r(NULL, " ", &save) || !(dev = strtok_r(NULL, " ", &save)) ||
	    !(m->root = strtok_r(NULL, " ", &save)) || !(m->point = strtok_r(NULL, " ", &save)))
		return -1;
	m->id = strtoul(id, NULL, 10);
	if (snprintf(m->dev, sizeof(m->dev), "%s", dev) >= (int)sizeof(m->dev))
		return -1;
	unescape(m->root);
	unescape(m->point);
	return 0;
}

/* The line of mount @id in mountinfo file @file, into @buf (fields cut in
 * place, @m pointing into it); 0, or -1 when absent. */
static int mline_find(const char *file, unsigned long long id, char *buf, size_t cap,
		      struct mline *m)
{
	FILE *f = fopen(file, "re");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(buf, (int)cap, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strtoull(buf, NULL, 10) == id) {
			ret = mline_parse(buf, m);
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Whether @prefix is @path or a directory above it ("/" is above all). */
static const char *below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path;
	if (strncmp(path, prefix, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n;
}

/*
 * @path (what readlink gives for the directory @dirfd, the last component
 * joined on: in the mount namespace @ns_minfo describes) as the host names
 * it, the way the kernel's walk names a file (pathwalk.h, walk 2): where
 * it lies in its filesystem (the mount's root, then the part below the
 * mount point), under a mount of that filesystem in the host's namespace
 * (@host_minfo) that shows it, one of the whole filesystem first. So a
 * bind mount of a directory (a container's volume) gives the name at its
 * origin, and a container's own root the host's name of it. @same_ns: the
 * lookup ran in the host's namespace, where a mount of a whole filesystem
 * already gives the host's name. 0 (@path rewritten, or already the
 * host's), -1 (unknown: a caller in another namespace keeps its own name).
 */
static int to_host(int dirfd, const char *ns_minfo, const char *host_minfo, int same_ns, char *path,
		   size_t cap)
{
	char nbuf[2 * KPATH_MAX], src[NAMEOP_PATH_MAX], out[NAMEOP_PATH_MAX], *line = NULL;
	struct mline m, h;
	const char *rest;
	size_t best = (size_t)-1; /* the root length of the mount chosen */
	struct statx stx;
	size_t lcap = 0;
	FILE *f;
	int ret = -1;

	if (statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0 ||
	    !(stx.stx_mask & STATX_MNT_ID) ||
	    mline_find(ns_minfo, stx.stx_mnt_id, nbuf, sizeof(nbuf), &m) != 0)
		return -1;
	if (same_ns && strcmp(m.root, "/") == 0)
		return 0;
	if (!(rest = below(path, m.point)) ||
	    snprintf(src, sizeof(src), "%s%s", strcmp(m.root, "/") ? m.root : "", rest) >=
		    (int)sizeof(src))
		return -1;
	f = fopen(host_minfo, "re");
	if (!f)
		return -1;
	/* The host's mount of that filesystem showing the most of it. */
	while (getline(&line, &lcap, f) > 0) {
		const char *r;

		line[strcspn(line, "\n")] = '\0';
		if (mline_parse(line, &h) != 0 || strcmp(h.dev, m.dev) != 0 ||
		    !(r = below(src[0] ? src : "/", h.root)))
			continue;
		if (strlen(h.root) < best &&
		    snprintf(out, sizeof(out), "%s%s%s", strcmp(h.point, "/") ? h.point : "",
			     r[0] ? "" : "/", r) < (int)sizeof(out)) {
			best = strlen(h.root);
			if (best == 1) /* "/": the whole filesystem */
				break;
		}
	}
	free(line);
	fclose(f);
	if (best != (size_t)-1 && path_resolve("/", out, path, cap) >= 0)
		ret = 0;
	return ret;
}

/*
 * A process in mount namespace @mntns, whose /proc/PID/root reaches the
 * files as it sees them: the caller (@tid, @tgid) while it lives, else the
 * one found last time, else the first /proc shows. 0 if none.
 */
static uint32_t ns_member(struct nameop *n, unsigned mntns, uint32_t tid, uint32_t tgid)
{
	uint32_t cand[3] = {tid, tgid, n->ns_cache == mntns ? n->ns_pid : 0}, pid = 0;
	char link[64];
	struct dirent *e;
	DIR *d;

	for (int i = 0; i < 3 && !pid; i++) {
		snprintf(link, sizeof(link), "/proc/%u/ns/mnt", cand[i]);
		if (cand[i] && ns_inum(link) == mntns)
			pid = cand[i];
	}
	if (!pid && (d = opendir("/proc"))) {
		while (!pid && (e = readdir(d))) {
			char *end;
			unsigned long p = strtoul(e->d_name, &end, 10);

			snprintf(link, sizeof(link), "/proc/%lu/ns/mnt", p);
			if (!*end && p && p <= UINT32_MAX && ns_inum(link) == mntns)
				pid = (uint32_t)p;
		}
		closedir(d);
	}
	if (pid) {
		n->ns_cache = mntns;
		n->ns_pid = pid;
	}
	return pid;
}

/*
 * Look @sd's name up as the kernel did for the call: from the process's
 * root (RESOLVE_IN_ROOT: ".." and absolute symlinks stay inside it), the
 * string after the walked directory's path below that root, every
 * component but the last followed, the last too if @follow. 0 with the
 * name in @out, or -1.
 */
static int lookup(struct nameop *no, const struct se_nameop_side *sd, const struct kpath *kp,
		  bool follow, uint32_t tgid, uint32_t tid, char *out, size_t cap)
{
	const char *view = (kp->flags & SE_KP_F_BIND) ? kp->via : kp->host;
	static const char deleted[] = " (deleted)";
	char root[KPATH_MAX], rootpath[KPATH_MAX + 64], rel[NAMEOP_PATH_MAX];
	char fdlink[64], dir[KPATH_MAX + 64], minfo[64], *last = NULL;
	int same_ns = !kp->mntns || !no->host_mntns || kp->mntns == no->host_mntns;
	uint32_t pid = 0;
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int rootfd = -1, fd = -1, ret = -1;
	struct statfs sfs;
	ssize_t n;
	size_t rl;

	if (root_view(kp, view, root, sizeof(root)) != 0)
		return -1;
	if (sd->str[0] == '/' ? snprintf(rel, sizeof(rel), "%s", sd->str) >= (int)sizeof(rel)
			      : join(rel, sizeof(rel), kp->in_root, sd->str) != 0)
		return -1;
	/* The last component is the call's own, not followed (a rename's, a
	 * link's): the parent is looked up. A trailing '/' (a directory's
	 * rename) is not a component. Followed (truncate(2), linkat's
	 * AT_SYMLINK_FOLLOW): the whole name is. */
	rl = strlen(rel);
	while (rl > 1 && rel[rl - 1] == '/')
		rel[--rl] = '\0';
	if (follow) {
		how.flags = O_PATH | O_CLOEXEC;
	} else {
		last = strrchr(rel, '/');
		if (!last || !last[1] || strcmp(last + 1, ".") == 0 || strcmp(last + 1, "..") == 0)
			return -1;
		*last++ = '\0';
	}
	/* From the host's namespace, the caller's root is the walk's; from
	 * another (a container), the host may not show the mounts it sees
	 * (a volume): its files are reached through a process of it. */
	if (same_ns) {
		if (snprintf(rootpath, sizeof(rootpath), "%s%s",
			     strcmp(no->hostroot, "/") ? no->hostroot : "",
			     root) >= (int)sizeof(rootpath))
			return -1;
		snprintf(minfo, sizeof(minfo), "%s", no->host_minfo);
	} else {
		pid = ns_member(no, kp->mntns, tid, tgid);
		if (!pid)
			return -1;
		snprintf(rootpath, sizeof(rootpath), "/proc/%u/root", pid);
		snprintf(minfo, sizeof(minfo), "/proc/%u/mountinfo", pid);
	}
	rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		goto cleanup;
	fd = (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : "/", &how, sizeof(how));
	if (fd < 0)
		goto cleanup;
	snprintf(fdlink, sizeof(fdlink), "/proc/self/fd/%d", fd);
	n = readlink(fdlink, dir, sizeof(dir) - 1);
	if (n <= 0 || (size_t)n >= sizeof(dir) - 1 || dir[0] != '/')
		goto cleanup;
	dir[n] = '\0';
	/* The directory was removed since: its name is no name. */
	if ((size_t)n >= sizeof(deleted) - 1 &&
	    strcmp(dir + n - (sizeof(deleted) - 1), deleted) == 0)
		goto cleanup;
	if (fstatfs(fd, &sfs) != 0 || sfs.f_type == NAMEOP_PROC_MAGIC)
		goto cleanup;
	if (last ? join(out, cap, dir, last) != 0 : snprintf(out, cap, "%s", dir) >= (int)cap)
		goto cleanup;
	/* A bind mount's name is kept only if its origin is unknown; a name
	 * in another namespace is no name on the host. */
	if (to_host(fd, minfo, no->host_minfo, same_ns, out, cap) == 0 || same_ns)
		ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rootfd >= 0)
		close(rootfd);
	return ret;
}

bool nameop_follows(const struct se_record *r, int side)
{
	if (r->kind == SE_TRUNCATE)
		return true;
	/* linkat(2) or io_uring's LINKAT; link(2) has no flags (arg 0) */
	return side == 0 && r->kind == SE_LINK && (r->arg & AT_SYMLINK_FOLLOW);
}

void nameop_resolve(struct nameop *no, const struct se_nameop_side *sd, bool follow, uint32_t tgid,
		    uint32_t tid, struct nameop_name *out)
{
	struct kpath kp;
	char joined[NAMEOP_PATH_MAX];
	size_t len = sd->len;

	out->path[0] = '\0';
	out->how = NAMEOP_UNREADABLE;
	out->mntns = 0;
	if (sd->base == SE_NB_NONE || sd->base > SE_NB_FILE || len == 0 || len > SE_NAMEOP_STR ||
	    sd->str[len - 1] != '\0' || strlen(sd->str) != len - 1)
		return;
	if (kpath_decode(&sd->kp, sizeof(sd->kp), &kp) != 0)
		return;
	out->mntns = kp.mntns;
	if (sd->base == SE_NB_FILE && !(kp.flags & SE_KP_F_TRUNCATED)) {
		snprintf(out->path, sizeof(out->path), "%s", kp.host);
		out->how = NAMEOP_FILE;
		return;
	}
	if (kp.flags & SE_KP_F_TRUNCATED) {
		/* Relative, as a truncated name is: it can never pass for an
		 * absolute path (and matches every rule). An escaped walk's
		 * name is "/": dropped with the leading '/'s. */
		if (sd->base == SE_NB_FILE ? snprintf(joined, sizeof(joined), "%s", kp.host) < 0
		    : kp.host[0]	   ? join(joined, sizeof(joined), kp.host, sd->str) != 0
					   : snprintf(joined, sizeof(joined), "%s", sd->str) < 0)
			joined[0] = '\0';
		snprintf(out->path, sizeof(out->path), "%s", joined + strspn(joined, "/"));
		out->how = NAMEOP_TRUNCATED;
		return;
	}
	if (lookup(no, sd, &kp, follow, tgid, tid, out->path, sizeof(out->path)) == 0) {
		out->how = NAMEOP_LOOKUP;
		return;
	}
	/* The walked directory (the root for an absolute name) and the
	 * string, by text. */
	if (join(joined, sizeof(joined), kp.host, sd->str) != 0 ||
	    path_resolve("/", joined, out->path, sizeof(out->path)) < 0) {
		out->path[0] = '\0';
		return;
	}
	out->how = NAMEOP_LEXICAL;
}
