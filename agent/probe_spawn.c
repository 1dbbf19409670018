/* SPDX-License-Identifier: Apache-2.0 */
#include "probe_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "probe.h"

#define HELPER_NAME "sentinel-probe-build"
/* The helper's end of the socketpair, in the helper. */
#define HELPER_SOCK_FD 3

extern char **environ;

/* An option and its value, appended to @argv (strings into @buf at *@off). */
__attribute__((format(printf, 7, 8))) static int add(const char **argv, int *argc, char *buf,
						     size_t cap, size_t *off, const char *name,
						     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*argc + 2 >= PROBE_SPAWN_MAX_ARGS || *off >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return -1;
	argv[(*argc)++] = name;
	argv[(*argc)++] = buf + *off;
	*off += (size_t)n + 1;
	return 0;
}

int probe_spawn_argv(const struct probe_build_opts *o, const char **argv, char *buf, size_t cap)
{
	size_t off = 0;
	int argc = 0, err = 0;

	err |= add(argv, &argc, buf, cap, &off, "--sock", "%d", o->sock);
	err |= add(argv, &argc, buf, cap, &off, "--transport", "%d", o->transport);
	err |= add(argv, &argc, buf, cap, &off, "--ringbuf-kib", "%u", o->ringbuf_kib);
	err |= add(argv, &argc, buf, cap, &off, "--perf-pages", "%u", o->perf_pages);
	err |= add(argv, &argc, buf, cap, &off, "--file-entries", "%u", o->file_entries);
	err |= add(argv, &argc, buf, cap, &off, "--log-level", "%d", o->log_level);
	if (o->btf_path)
		err |= add(argv, &argc, buf, cap, &off, "--btf", "%s", o->btf_path);
	if (o->cgroup_subsys) {
		err |= add(argv, &argc, buf, cap, &off, "--cgroup-subsys", "%s", o->cgroup_subsys);
		err |= add(argv, &argc, buf, cap, &off, "--cgroup-hierarchy", "%d",
			   o->cgroup_hierarchy);
	}
	argv[argc] = NULL;
	return err ? -1 : argc;
}

/* A decimal in [@lo, @hi] into *@out: 0, or -1. */
static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The helper's numeric options and what each accepts. */
static const struct {
	const char *name;
	long lo, hi;
} nums[] = {
	{"--sock", 0, INT_MAX},
	{"--transport", 0, PROBE_PERF}, /* 0: auto */
	{"--ringbuf-kib", 0, INT_MAX},
	{"--perf-pages", 0, INT_MAX},
	{"--file-entries", 0, INT_MAX},
	{"--log-level", LOG_DEBUG, LOG_ERROR},
	{"--cgroup-hierarchy", 0, INT_MAX},
};

int probe_spawn_parse(int argc, char **argv, struct probe_build_opts *o, char *err, size_t cap)
{
	bool seen_sock = false;

	memset(o, 0, sizeof(*o));
	o->sock = -1;
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n = 0;
		unsigned j;

		if (!v) {
			snprintf(err, cap, "%s: a value is expected after it", k);
			return -1;
		}
		if (strcmp(k, "--btf") == 0) {
			o->btf_path = v;
			continue;
		}
		if (strcmp(k, "--cgroup-subsys") == 0) {
			o->cgroup_subsys = v;
			continue;
		}
		for (j = 0; j < sizeof(nums) / sizeof(nums[0]); j++)
			if (strcmp(k, nums[j].name) == 0)
				break;
		if (j == sizeof(nums) / sizeof(nums[0])) {
			snprintf(err, cap, "%s: unknown option", k);
			return -1;
		}
		if (number(v, nums[j].lo, nums[j].hi, &n) != 0) {
			snprintf(err, cap, "%s %s: an integer in [%ld, %ld] is expected", k, v,
				 nums[j].lo, nums[j].hi);
			return -1;
		}
		switch (j) {
		case 0:
			o->sock = (int)n;
			seen_sock = true;
			break;
		case 1: o->transport = (int)n; break;
		case 2: o->ringbuf_kib = (unsigned)n; break;
		case 3: o->perf_pages = (unsigned)n; break;
		case 4: o->file_entries = (unsigned)n; break;
		case 5: o->log_level = (int)n; break;
		default: o->cgroup_hierarchy = (int)n; break;
		}
	}
	if (!seen_sock) {
		snprintf(err, cap, "--sock: required (the helper is started by sentinel-agent)");
		return -1;
	}
	return 0;
}

/* The helper's path: $SENTINEL_PROBE_BUILD, else beside the agent. */
static int helper_path(char *out, size_t cap)
{
	const char *env = getenv("SENTINEL_PROBE_BUILD");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(out, cap, "%s/%s", self, HELPER_NAME) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* How long the helper may take: $SENTINEL_PROBE_BUILD_TIMEOUT seconds, else
 * PROBE_SPAWN_TIMEOUT_S. */
static unsigned timeout_s(void)
{
	const char *env = getenv("SENTINEL_PROBE_BUILD_TIMEOUT");
	long v;

	if (!env || !*env)
		return PROBE_SPAWN_TIMEOUT_S;
	if (number(env, 1, 86400, &v) != 0) {
		log_warn("SENTINEL_PROBE_BUILD_TIMEOUT is not a number of seconds in [1, 86400]; "
			 "using the default",
			 "value=\"%s\" default_s=%u", env, PROBE_SPAWN_TIMEOUT_S);
		return PROBE_SPAWN_TIMEOUT_S;
	}
	return (unsigned)v;
}

/* Waits until the helper's message (or its exit: end of file) can be read
 * on @sock, at most @secs: 0, -ETIMEDOUT, or -errno. */
static int await_helper(int sock, unsigned secs)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	uint64_t end = clock_mono_ns() + (uint64_t)secs * 1000000000ull;

	for (;;) {
		uint64_t now = clock_mono_ns();
		uint64_t left_ms = now < end ? (end - now + 999999) / 1000000 : 0;
		int r;

		if (!left_ms)
			return -ETIMEDOUT;
		r = poll(&p, 1, left_ms > INT_MAX ? INT_MAX : (int)left_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Starts the helper at @path with its end of the socketpair @sock as fd 3. */
static int spawn(const char *path, const struct probe_build_opts *o, int sock, pid_t *pid)
{
	struct probe_build_opts ho = *o;
	const char *argv[PROBE_SPAWN_MAX_ARGS + 1];
	char buf[1024 + PATH_MAX];
	posix_spawn_file_actions_t fa;
	int err;

	ho.sock = HELPER_SOCK_FD;
	argv[0] = path;
	if (probe_spawn_argv(&ho, argv + 1, buf, sizeof(buf)) < 0)
		return -E2BIG;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	/* @sock is above 3 (F_DUPFD_CLOEXEC from 10), so the dup2 clears its
	 * close-on-exec in the helper and only there. */
	err = posix_spawn_file_actions_adddup2(&fa, sock, HELPER_SOCK_FD);
	if (!err)
		err = posix_spawn(pid, path, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -err;
}

/* Waits for the helper: 0 if it exited 0; -ECHILD otherwise, logged unless
 * it is the SIGKILL we sent (@we_killed: already logged, with the reason). */
static int reap(pid_t pid, const char *path, int we_killed, struct probe_spawn_stats *st)
{
	struct rusage ru;
	int status;
	pid_t r;

	do
		r = wait4(pid, &status, 0, &ru);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		log_error("waiting for the probe's compile helper failed", "helper=%s errno=%d",
			  path, errno);
		return -ECHILD;
	}
	st->peak_rss_kib = (uint64_t)ru.ru_maxrss;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status) && we_killed && WTERMSIG(status) == SIGKILL)
		return -ECHILD;
	if (WIFSIGNALED(status))
		log_error("the probe's compile helper was killed", "helper=%s signal=%d", path,
			  WTERMSIG(status));
	else
		log_error("the probe's compile helper failed (its log above says why)",
			  "helper=%s exit=%d", path, WEXITSTATUS(status));
	return -ECHILD;
}

int probe_spawn_run(const struct probe_build_opts *o, struct handoff *h,
		    struct probe_spawn_stats *st)
{
	char path[PATH_MAX], why[256];
	uint64_t t0 = clock_mono_ns();
	int sv[2], child = -1, err;
	unsigned limit;
	pid_t pid;

	handoff_init(h);
	memset(st, 0, sizeof(*st));
	err = helper_path(path, sizeof(path));
	if (err) {
		log_error("the probe's compile helper cannot be located",
			  "errno=%d hint=\"set SENTINEL_PROBE_BUILD to its path\"", -err);
		return err;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	close(sv[1]);
	if (child < 0) {
		err = -errno;
		close(sv[0]);
		return err;
	}
	err = spawn(path, o, child, &pid);
	close(child); /* the helper has its copy: its exit ends the socket */
	if (err) {
		log_error("the probe's compile helper cannot be started",
			  "helper=%s errno=%d error=\"%s\" hint=\"it is installed beside "
			  "sentinel-agent; or set SENTINEL_PROBE_BUILD\"",
			  path, -err, strerror(-err));
		close(sv[0]);
		return err;
	}
	limit = timeout_s();
	err = await_helper(sv[0], limit);
	if (err) {
		/* A helper that never answers would leave the agent unready
		 * forever with nothing in its log. */
		log_error("the probe's compile helper did not finish in time; killing it",
			  "helper=%s timeout_s=%u errno=%d hint=\"the compile takes seconds; "
			  "SENTINEL_PROBE_BUILD_TIMEOUT sets the limit\"",
			  path, limit, -err);
		kill(pid, SIGKILL);
		close(sv[0]);
		reap(pid, path, 1, st);
		return err;
	}
	err = handoff_recv(sv[0], h, why, sizeof(why));
	close(sv[0]);
	if (reap(pid, path, 0, st) != 0) {
		handoff_close(h);
		return -ECHILD;
	}
	st->wall_ms = (clock_mono_ns() - t0) / 1000000;
	if (err) {
		log_error("the probe's compile helper sent no usable probe",
			  "helper=%s error=\"%s\"", path, why);
		return err;
	}
	return 0;
}
