/* SPDX-License-Identifier: Apache-2.0 */
#include "procscan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "path.h"

/* "123" -> 123; anything else (self, sys, ...) -> 0 */
static uint32_t parse_id(const char *s)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return 0;
	v = strtoul(s, &end, 10);
	return (*end || v > UINT32_MAX) ? 0 : (uint32_t)v;
}

static void scan_fd(struct fdtable *t, const struct procscan_track *track, uint32_t tgid, int fd,
		    struct procscan_stats *st)
{
	char path[PATH_MAX];
	struct fd_entry *e;
	uint64_t seq = 0;

	if (path_proc_fd(tgid, fd, path, sizeof(path)) <= 0)
		return;
	/* Pipes and sockets match no path rule: their reuse cannot misname. */
	if (track && path[0] == '/') {
		seq = track->claim(track->ctx, tgid, fd);
		if (seq && path_proc_fd(tgid, fd, path, sizeof(path)) <= 0)
			return; /* closed meanwhile: the claim stays pending, harmless */
	}
	/* Close-on-exec is unknown from here: FDE_FROM_PROC entries are
	 * dropped at exec and looked up again if used. */
	e = fdtable_set(t, tgid, fd, path, FDE_FROM_PROC);
	if (!e)
		return;
	st->fds++;
	if (seq) {
		track->named(track->ctx, e, seq);
		st->claimed++;
	}
}

static void scan_fds(struct fdtable *t, const struct procscan_track *track, uint32_t tgid,
		     struct procscan_stats *st)
{
	char dir[64];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%u/fd", tgid);
	d = opendir(dir);
	if (!d)
		return; /* exited, or a kernel thread we may not read */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		scan_fd(t, track, tgid, atoi(de->d_name), st);
	}
	closedir(d);
}

int procscan_run(struct fdtable *t, const struct procscan_track *track, struct procscan_stats *st)
{
	char cwd[PATH_MAX];
	uint32_t self = (uint32_t)getpid();
	struct dirent *de;
	DIR *d = opendir("/proc");

	st->procs = st->fds = st->claimed = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint32_t tgid = parse_id(de->d_name);
		struct proc_entry *p;

		if (!tgid || tgid == self)
			continue;
		if (path_proc_cwd(tgid, cwd, sizeof(cwd)) <= 0)
			continue; /* kernel threads have no cwd link */
		p = fdtable_proc(t, tgid, true);
		if (!p)
			break;
		fdtable_set_cwd(p, cwd, 0);
		st->procs++;
		scan_fds(t, track, tgid, st);
	}
	closedir(d);
	return 0;
}
