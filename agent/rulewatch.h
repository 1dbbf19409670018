/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rulewatch: notices when the rules file's content changes.
 *
 * inotify watches the file's *directory*, not the file: editors save by
 * writing a temporary file and renaming it over the old one, and Kubernetes
 * updates a mounted ConfigMap by swapping a symlink,
 *
 *   rules.yaml -> ..data/rules.yaml     (never touched by an update)
 *   ..data -> ..2026_11_28_10_00_00.1   (replaced by renaming ..data_tmp over it)
 *
 * so a watch on the file itself would stay on the old inode. An event is
 * relevant when it names the file or a link its path goes through inside
 * the directory (..data, the timestamped directory), or when events were
 * lost (queue overflow). Relevant events start a quiet period
 * (RULEWATCH_SETTLE_MS after the last one: a save may be several steps);
 * then rulewatch_check() reads the file through its symlinks and compares
 * the bytes with the last content it saw, so a touch, a no-op swap or a
 * neighbour's file do not count as a change.
 *
 * Not seen without SIGHUP: a symlink to a file in another directory being
 * edited there, and a ConfigMap mounted with subPath (Kubernetes never
 * updates those). If the directory itself is removed the watch is gone
 * until rulewatch_check(force) finds it again.
 *
 * Single-threaded: used by the agent's control (main) thread.
 */
#ifndef SENTINEL_RULEWATCH_H
#define SENTINEL_RULEWATCH_H

#include <stdbool.h>
#include <stddef.h>

#define RULEWATCH_SETTLE_MS 150

enum rulewatch_status {
	RULEWATCH_SAME,	   /* same bytes as last seen: nothing to do */
	RULEWATCH_NEW,	   /* different bytes (or forced): load the file */
	RULEWATCH_MISSING, /* no file (or a dangling link): mid-swap, or removed */
	RULEWATCH_ERROR,   /* present but unreadable, not a regular file, too large */
};

struct rulewatch;

/*
 * Watch @path's directory. The file's current content (if readable) is what
 * later checks compare with: open the watch *before* loading the rules, so
 * a change in between is either in that content or reported by an event.
 * Returns 0, -ENOENT when the directory does not exist, or -errno (logged
 * by the caller).
 */
int rulewatch_open(struct rulewatch **out, const char *path);
void rulewatch_close(struct rulewatch *w);
/* For poll(): readable when inotify has events. */
int rulewatch_fd(const struct rulewatch *w);
/* Reads the pending events; true if one was relevant (the quiet period
 * (re)starts). Never blocks. */
bool rulewatch_consume(struct rulewatch *w);
/* Milliseconds until the quiet period ends: -1 if no change is pending, 0
 * if rulewatch_check() is due. */
int rulewatch_timeout_ms(const struct rulewatch *w);
/*
 * Reads the file and ends the pending period. NEW when its bytes differ
 * from the last ones seen, or always with @force (SIGHUP); the new bytes
 * become the last seen. ERROR writes "path: reason" to @err.
 */
enum rulewatch_status rulewatch_check(struct rulewatch *w, bool force, char *err, size_t errcap);
/* Forget the last content seen: the next relevant event is NEW (after the
 * new content could not be applied, to retry). */
void rulewatch_forget(struct rulewatch *w);
const char *rulewatch_dir(const struct rulewatch *w);

#endif
