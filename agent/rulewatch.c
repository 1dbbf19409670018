/* SPDX-License-Identifier: Apache-2.0 */
#include "rulewatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "yamldoc.h"

/* What a save, a rename over, a symlink swap or a chmod does to a directory
 * entry. IN_MODIFY is left out: a file is read once its writer closed it. */
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB |        \
	 IN_ONLYDIR)
#define MAX_NAMES 9 /* the file and up to 8 links inside the directory */

struct rulewatch {
	int ifd;
	int wd; /* -1: the directory's watch is gone */
	char *path;
	char *dir;
	/* The file's name in the directory, then the first component of each
	 * link target it goes through there (..data, ..2026_...). */
	char names[MAX_NAMES][NAME_MAX + 1];
	unsigned n_names;
	char *seen; /* last content read, NULL if none yet */
	size_t seen_len;
	uint64_t due_ns; /* CLOCK_MONOTONIC end of the quiet period; 0 = none */
};

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* A relative link target's first component, if it names another entry of
 * the same directory; absolute targets and ".." lead elsewhere. */
static bool first_component(const char *target, char *out)
{
	size_t c = strcspn(target, "/");

	if (c == 0 || c > NAME_MAX || (c == 1 && target[0] == '.') ||
	    (c == 2 && target[0] == '.' && target[1] == '.'))
		return false;
	memcpy(out, target, c);
	out[c] = '\0';
	return true;
}

/* Recomputed at every batch of events: a ConfigMap update changes where
 * ..data points. */
static void follow_names(struct rulewatch *w)
{
	const char *base = strrchr(w->path, '/');
	char link[PATH_MAX], target[PATH_MAX];
	unsigned n = 1;
	ssize_t len;

	snprintf(w->names[0], sizeof(w->names[0]), "%s", base ? base + 1 : w->path);
	while (n < MAX_NAMES) {
		if ((size_t)snprintf(link, sizeof(link), "%s/%s", w->dir, w->names[n - 1]) >=
		    sizeof(link))
			break;
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			break;
		target[len] = '\0';
		if (!first_component(target, w->names[n]))
			break;
		n++;
	}
	w->n_names = n;
}

static bool watched_name(const struct rulewatch *w, const char *name)
{
	for (unsigned i = 0; i < w->n_names; i++)
		if (strcmp(w->names[i], name) == 0)
			return true;
	return false;
}

static int add_watch(struct rulewatch *w)
{
	w->wd = inotify_add_watch(w->ifd, w->dir, WATCH_MASK);
	return w->wd < 0 ? -errno : 0;
}

int rulewatch_open(struct rulewatch **out, const char *path)
{
	struct rulewatch *w = calloc(1, sizeof(*w));
	char err[512];
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->ifd = -1;
	w->wd = -1;
	w->path = strdup(path);
	w->dir = dir_of(path);
	if (!w->path || !w->dir) {
		rc = -ENOMEM;
		goto err;
	}
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		rc = -errno;
		goto err;
	}
	rc = add_watch(w);
	if (rc)
		goto err;
	follow_names(w);
	/* After the watch: any later change is an event. */
	(void)rulewatch_check(w, true, err, sizeof(err));
	*out = w;
	return 0;

err:
	rulewatch_close(w);
	return rc;
}

void rulewatch_close(struct rulewatch *w)
{
	if (!w)
		return;
	if (w->ifd >= 0)
		close(w->ifd);
	free(w->path);
	free(w->dir);
	free(w->seen);
	free(w);
}

int rulewatch_fd(const struct rulewatch *w)
{
	return w->ifd;
}

const char *rulewatch_dir(const struct rulewatch *w)
{
	return w->dir;
}

bool rulewatch_consume(struct rulewatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t len;

	follow_names(w);
	for (;;) {
		len = read(w->ifd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break; /* EAGAIN: all read */
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				relevant = true; /* events were lost: look */
			} else if (ev->mask & IN_IGNORED) {
				/* The directory was removed (or unmounted). */
				if (ev->wd == w->wd) {
					log_warn("rules directory gone; live reload is off until "
						 "SIGHUP",
						 "dir=%s", w->dir);
					w->wd = -1;
				}
				relevant = true;
			} else if (ev->len && watched_name(w, ev->name)) {
				relevant = true;
			}
		}
	}
	if (relevant)
		w->due_ns = clock_mono_ns() + RULEWATCH_SETTLE_MS * 1000000ull;
	return relevant;
}

int rulewatch_timeout_ms(const struct rulewatch *w)
{
	uint64_t now;

	if (!w->due_ns)
		return -1;
	now = clock_mono_ns();
	if (now >= w->due_ns)
		return 0;
	return (int)((w->due_ns - now + 999999) / 1000000);
}

enum rulewatch_status rulewatch_check(struct rulewatch *w, bool force, char *err, size_t errcap)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	w->due_ns = 0;
	if (w->wd < 0 && add_watch(w) == 0)
		log_info("rules directory back; live reload is on", "dir=%s", w->dir);
	rc = ydoc_read_file(w->path, &text, &len, err, errcap);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return RULEWATCH_MISSING;
	if (rc)
		return RULEWATCH_ERROR;
	if (!force && w->seen && len == w->seen_len && memcmp(text, w->seen, len) == 0) {
		free(text);
		return RULEWATCH_SAME;
	}
	free(w->seen);
	w->seen = text;
	w->seen_len = len;
	return RULEWATCH_NEW;
}

void rulewatch_forget(struct rulewatch *w)
{
	free(w->seen);
	w->seen = NULL;
	w->seen_len = 0;
}
