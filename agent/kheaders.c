/* SPDX-License-Identifier: Apache-2.0 */
#include "kheaders.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"

#define MODULES_DIR "/lib/modules"
#define SYS_ARCHIVE "/sys/kernel/kheaders.tar.xz"

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void kheaders_env_default(struct kheaders_env *e, char *release_buf, size_t cap)
{
	struct utsname u;
	const char *tmp = getenv("TMPDIR");

	if (uname(&u) == 0)
		snprintf(release_buf, cap, "%s", u.release);
	else
		snprintf(release_buf, cap, "unknown");
	e->modules_dir = MODULES_DIR;
	e->release = release_buf;
	e->kernel_source = getenv("BCC_KERNEL_SOURCE");
	e->modules_suffix = getenv("BCC_KERNEL_MODULES_SUFFIX");
	e->sys_archive = SYS_ARCHIVE;
	e->tmpdir = tmp && *tmp ? tmp : "/tmp";
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* @p starts with @word followed by a blank. Returns what follows, or NULL. */
static const char *word(const char *p, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(p, w, n) != 0 || (p[n] != ' ' && p[n] != '\t'))
		return NULL;
	return skip_blanks(p + n);
}

int kheaders_parse_utsrelease(const char *text, char *out, size_t cap)
{
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *p = skip_blanks(line);

		if (*p == '#')
			p = word(skip_blanks(p + 1), "define");
		else
			p = NULL;
		if (p)
			p = word(p, "UTS_RELEASE");
		if (p && *p == '"') {
			const char *end = ++p;
			size_t n;

			while (*end && *end != '"' && *end != '\n')
				end++;
			n = (size_t)(end - p);
			if (*end != '"' || n == 0 || n >= cap)
				return -1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

/* The release in @dir/include/generated/utsrelease.h. */
static int read_utsrelease(const char *dir, char *out, size_t cap)
{
	char path[PATH_MAX], text[4096];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/include/generated/utsrelease.h", dir) >=
	    sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return kheaders_parse_utsrelease(text, out, cap);
}

/* The last component of @path (no trailing slashes) into @out. */
static void last_component(const char *path, size_t len, const char **start, size_t *n)
{
	while (len > 1 && path[len - 1] == '/')
		len--;
	*n = 0;
	*start = path + len;
	while (*start > path && (*start)[-1] != '/') {
		(*start)--;
		(*n)++;
	}
}

int kheaders_version_from_name(const char *path, char *out, size_t cap)
{
	static const char *const prefixes[] = {"linux-headers-", "kernel-headers-", "linux-source-",
					       "linux-", "kheaders-"};
	const char *name;
	size_t n, len = strlen(path);

	last_component(path, len, &name, &n);
	/* /lib/modules/R/build, /lib/modules/R/source: the release is the parent */
	if ((n == 5 && strncmp(name, "build", 5) == 0) ||
	    (n == 6 && strncmp(name, "source", 6) == 0))
		last_component(path, (size_t)(name - path), &name, &n);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);

		if (n > pl && strncmp(name, prefixes[i], pl) == 0) {
			name += pl;
			n -= pl;
			break;
		}
	}
	if (n == 0 || n >= cap || name[0] < '0' || name[0] > '9')
		return -1;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

enum kheaders_path_state kheaders_check_path(const char *path, char *where, size_t wcap,
					     char *target, size_t tcap)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path), i = 0;

	if (len == 0 || len >= sizeof(prefix)) {
		snprintf(where, wcap, "%s", path);
		return KHEADERS_PATH_MISSING;
	}
	while (i < len) {
		struct stat st;

		/* next component: prefix = path[0..end) */
		while (i < len && path[i] == '/')
			i++;
		while (i < len && path[i] != '/')
			i++;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (lstat(prefix, &st) != 0) {
			snprintf(where, wcap, "%s", prefix);
			return KHEADERS_PATH_MISSING;
		}
		if (S_ISLNK(st.st_mode) && stat(prefix, &st) != 0) {
			char link[PATH_MAX];
			ssize_t n = readlink(prefix, link, sizeof(link) - 1);

			link[n > 0 ? n : 0] = '\0';
			snprintf(where, wcap, "%s", prefix);
			snprintf(target, tcap, "%s", link);
			return KHEADERS_PATH_DANGLING;
		}
	}
	return KHEADERS_PATH_OK;
}

/* Says in @out->problem what stops @path from being usable. */
static void explain_path(struct kheaders_info *out, const char *path)
{
	char where[PATH_MAX], target[PATH_MAX];

	switch (kheaders_check_path(path, where, sizeof(where), target, sizeof(target))) {
	case KHEADERS_PATH_OK: return;
	case KHEADERS_PATH_MISSING:
		errbuf_append(out->problem, sizeof(out->problem), "%s does not exist", where);
		return;
	case KHEADERS_PATH_DANGLING:
		errbuf_append(
			out->problem, sizeof(out->problem),
			"%s is a dangling symlink to %s (its target is not in this file system%s)",
			where, target,
			strncmp(target, "/usr/src/", 9) == 0
				? ": mount the host's /usr/src into the container"
				: "");
		return;
	}
}

static void explain(const struct kheaders_env *e, struct kheaders_info *out, const char *kdir,
		    const char *kpath)
{
	char p[PATH_MAX + 32];
	size_t before;

	if (!e->kernel_source) {
		if (!is_dir(kdir)) {
			explain_path(out, kdir);
		} else if (!e->modules_suffix) {
			snprintf(p, sizeof(p), "%s/build", kdir);
			explain_path(out, p);
			snprintf(p, sizeof(p), "%s/source", kdir);
			before = strlen(out->problem);
			explain_path(out, p);
			/* a missing source alone is normal: libbcc then uses build */
			if (strstr(out->problem + before, "does not exist"))
				out->problem[before] = '\0';
		}
	} else if (!*e->kernel_source) {
		errbuf_append(out->problem, sizeof(out->problem),
			      "BCC_KERNEL_SOURCE is set but empty");
		return;
	}
	if (!out->problem[0])
		explain_path(out, kpath);
	if (!out->problem[0] && is_dir(kpath))
		errbuf_append(out->problem, sizeof(out->problem),
			      "%s has no include/linux/kconfig.h (not a complete headers tree)",
			      kpath);
}

static void resolve(const char *path, char *out, size_t cap)
{
	char buf[PATH_MAX];

	if (realpath(path, buf))
		snprintf(out, cap, "%s", buf);
	else
		snprintf(out, cap, "%s", path);
}

/* snprintf into a path buffer; -1 if it did not fit. */
__attribute__((format(printf, 3, 4))) static int pathf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int kheaders_find(const struct kheaders_env *e, struct kheaders_info *out)
{
	char kdir[PATH_MAX] = "", kpath[PATH_MAX], vdir[PATH_MAX], b[PATH_MAX], s[PATH_MAX],
	     probe[PATH_MAX], tmp[PATH_MAX];
	int split = 0, bad = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->running, sizeof(out->running), "%s", e->release);
	if (e->kernel_source) {
		bad |= pathf(kpath, sizeof(kpath), "%s", e->kernel_source);
		bad |= pathf(vdir, sizeof(vdir), "%s", kpath);
		bad |= pathf(out->via, sizeof(out->via), "BCC_KERNEL_SOURCE=%s", kpath);
	} else {
		bad |= pathf(kdir, sizeof(kdir), "%s/%s", e->modules_dir, e->release);
		bad |= pathf(b, sizeof(b), "%s/build", kdir);
		bad |= pathf(s, sizeof(s), "%s/source", kdir);
		split = !bad && is_dir(b) && is_dir(s);
		if (split)
			bad |= pathf(kpath, sizeof(kpath), "%s", s);
		else
			bad |= pathf(kpath, sizeof(kpath), "%s/%s", kdir,
				     e->modules_suffix ? e->modules_suffix : "build");
		bad |= pathf(vdir, sizeof(vdir), "%s", split ? b : kpath);
		bad |= pathf(out->via, sizeof(out->via), "%s", kpath);
	}
	bad |= pathf(probe, sizeof(probe), "%s/include/linux/kconfig.h", kpath);
	if (bad) {
		errbuf_append(out->problem, sizeof(out->problem), "path too long");
		return -1;
	}
	if (is_file(probe)) {
		out->kind = KHEADERS_TREE;
		resolve(vdir, out->path, sizeof(out->path));
		if (split)
			resolve(kpath, out->source, sizeof(out->source));
		if (read_utsrelease(vdir, out->version, sizeof(out->version)) != 0 &&
		    kheaders_version_from_name(out->path, out->version, sizeof(out->version)) != 0)
			out->version[0] = '\0';
		return 0;
	}
	explain(e, out, kdir, kpath);

	/* libbcc's fallback: the kernel's own headers */
	if (pathf(tmp, sizeof(tmp), "%s/kheaders-%s", e->tmpdir, e->release) == 0 && is_dir(tmp)) {
		out->kind = KHEADERS_EXTRACTED;
		memcpy(out->path, tmp, sizeof(tmp));
		if (read_utsrelease(tmp, out->version, sizeof(out->version)) != 0)
			snprintf(out->version, sizeof(out->version), "%s", e->release);
		return 0;
	}
	if (is_file(e->sys_archive)) {
		out->kind = KHEADERS_ARCHIVE;
		snprintf(out->path, sizeof(out->path), "%s", e->sys_archive);
		snprintf(out->version, sizeof(out->version), "%s", e->release);
		return 0;
	}
	out->kind = KHEADERS_NONE;
	return -1;
}

static void log_none(const struct kheaders_info *k)
{
	char msg[512], via[PATH_MAX + 8], problem[sizeof(k->problem) + 8];

	snprintf(
		msg, sizeof(msg),
		"no kernel headers for %s: install linux-headers-%s on the node, or mount the "
		"host's /lib/modules and /usr/src into the container (the Helm chart does), or set "
		"BCC_KERNEL_SOURCE",
		k->running, k->running);
	log_error(msg, "running=%s looked_at=%s problem=%s", k->running,
		  log_quote(via, sizeof(via), k->via),
		  log_quote(problem, sizeof(problem), k->problem[0] ? k->problem : "none"));
}

int kheaders_report(struct kheaders_info *out)
{
	struct kheaders_env e;
	struct kheaders_info last;
	char release[128], path[PATH_MAX + 8], extra[PATH_MAX + 16], via[PATH_MAX + 8],
		problem[sizeof(last.problem) + 8];
	int rc = 0;

	kheaders_env_default(&e, release, sizeof(release));
	kheaders_find(&e, &last);
	log_quote(path, sizeof(path), last.path);
	log_quote(via, sizeof(via), last.via);
	log_quote(problem, sizeof(problem), last.problem);
	switch (last.kind) {
	case KHEADERS_TREE:
		extra[0] = '\0';
		if (last.source[0]) {
			char q[PATH_MAX + 8];

			snprintf(extra, sizeof(extra), " source=%s",
				 log_quote(q, sizeof(q), last.source));
		}
		log_info("kernel headers", "path=%s version=%s running=%s via=%s%s", path,
			 last.version[0] ? last.version : "unknown", last.running, via, extra);
		if (last.version[0] && strcmp(last.version, last.running) != 0)
			log_warn("kernel headers are not the running kernel's",
				 "headers=%s running=%s note=\"struct layouts come from the "
				 "kernel's BTF, from headers only when it has none (and then only "
				 "from the running kernel's); expected on nodes without a "
				 "matching headers package\"",
				 last.version, last.running);
		goto out;
	case KHEADERS_EXTRACTED:
	case KHEADERS_ARCHIVE:
		log_info("kernel headers", "path=%s version=%s running=%s via=CONFIG_IKHEADERS",
			 path, last.version, last.running);
		log_info("no headers tree; libbcc uses the kernel's own archive",
			 "looked_at=%s problem=%s", via, problem);
		goto out;
	case KHEADERS_NONE: break;
	}
	log_none(&last);
	log_info("libbcc will still try the kernel's own headers (modprobe kheaders, "
		 "CONFIG_IKHEADERS=m)");
	rc = -1;
out:
	*out = last;
	return rc;
}

void kheaders_report_compile_failure(const struct kheaders_info *k)
{
	log_none(k);
}
