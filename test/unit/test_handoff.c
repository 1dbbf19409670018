/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compile helper's hand-off (handoff.h) and its start (probe_spawn.h),
 * without BPF: ordinary descriptors stand in for programs and maps, and
 * stand-in helpers (true, false, a missing path) for sentinel-probe-build.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "handoff.h"
#include "probe.h"
#include "probe_spawn.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static ino_t ino(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A hand-off with programs 0 and 5 and every map: distinct pipe ends. */
static void sample(struct handoff *h, int pipes[][2], int n)
{
	handoff_init(h);
	h->transport = PROBE_PERF;
	for (int i = 0; i < n; i++)
		assert_int_equal(pipe2(pipes[i], O_CLOEXEC), 0);
	h->prog_fd[0] = pipes[0][0];
	h->prog_fd[5] = pipes[1][0];
	for (int m = 0; m < PROBE_MAP_N; m++)
		h->map_fd[m] = pipes[2 + m][0];
}

static void close_pipes(int pipes[][2], int n)
{
	for (int i = 0; i < n; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

/* Every fd arrives in its slot (the same open file), the rest stay -1. */
static void test_roundtrip(void **state)
{
	int pipes[2 + PROBE_MAP_N][2], sv[2];
	struct handoff h, got;
	char err[128] = "";

	(void)state;
	sample(&h, pipes, 2 + PROBE_MAP_N);
	pair(sv);
	assert_int_equal(handoff_send(sv[0], &h), 0);
	assert_int_equal(handoff_recv(sv[1], &got, err, sizeof(err)), 0);
	assert_int_equal(got.transport, PROBE_PERF);
	for (int i = 0; i < PROBE_MAX_PROGS; i++) {
		if (h.prog_fd[i] < 0) {
			assert_int_equal(got.prog_fd[i], -1);
			continue;
		}
		assert_true(got.prog_fd[i] >= 0 && got.prog_fd[i] != h.prog_fd[i]);
		assert_int_equal(ino(got.prog_fd[i]), ino(h.prog_fd[i]));
		assert_int_equal(fcntl(got.prog_fd[i], F_GETFD), FD_CLOEXEC);
	}
	for (int m = 0; m < PROBE_MAP_N; m++)
		assert_int_equal(ino(got.map_fd[m]), ino(h.map_fd[m]));
	handoff_close(&got);
	assert_int_equal(got.map_fd[0], -1);
	close_pipes(pipes, 2 + PROBE_MAP_N);
	close(sv[0]);
	close(sv[1]);
}

/* The raw message of a valid hand-off and its descriptors. */
static ssize_t raw(struct handoff *h, char *buf, size_t cap, int *fds, int *nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl)};
	int sv[2];
	ssize_t n;
	struct cmsghdr *c;

	pair(sv);
	assert_int_equal(handoff_send(sv[0], h), 0);
	n = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	c = CMSG_FIRSTHDR(&msg);
	assert_non_null(c);
	*nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)*nfds);
	close(sv[0]);
	close(sv[1]);
	return n;
}

/* @buf (@len bytes) with @nfds of @fds, received: the error. */
static int resend(const char *buf, size_t len, const int *fds, int nfds, char *err, size_t cap)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct handoff got;
	int sv[2], rc;

	memset(&ctl, 0, sizeof(ctl));
	if (nfds > 0) {
		struct cmsghdr *c;

		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	pair(sv);
	assert_true(sendmsg(sv[0], &msg, 0) == (ssize_t)len);
	rc = handoff_recv(sv[1], &got, err, cap);
	if (rc == 0)
		handoff_close(&got);
	for (int i = 0; i < PROBE_MAX_PROGS; i++)
		assert_int_equal(got.prog_fd[i], -1);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

/* Malformed messages are refused with a reason, and leave no fd open. */
static void test_malformed(void **state)
{
	int pipes[2 + PROBE_MAP_N][2], fds[64], nfds, before;
	struct handoff h;
	char buf[4096], err[128];
	ssize_t n;

	(void)state;
	sample(&h, pipes, 2 + PROBE_MAP_N);
	n = raw(&h, buf, sizeof(buf), fds, &nfds);
	assert_int_equal(nfds, 2 + PROBE_MAP_N);
	before = open_fds();
	/* one descriptor short of the table */
	assert_int_equal(resend(buf, (size_t)n, fds, nfds - 1, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "descriptors"));
	/* another build's helper */
	buf[0] ^= 0x5a;
	assert_int_equal(resend(buf, (size_t)n, fds, nfds, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "magic"));
	buf[0] ^= 0x5a;
	/* cut short */
	assert_int_equal(resend(buf, (size_t)n - 4, fds, nfds, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "size"));
	/* and still good as sent */
	assert_int_equal(resend(buf, (size_t)n, fds, nfds, err, sizeof(err)), 0);
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	close_pipes(pipes, 2 + PROBE_MAP_N);
}

/* The helper's options survive its command line; bad ones are named. */
static void test_argv(void **state)
{
	struct probe_build_opts o = {.transport = PROBE_RINGBUF,
				     .ringbuf_kib = 16384,
				     .perf_pages = 64,
				     .file_entries = 65536,
				     .btf_path = "/var/cache/b tf",
				     .cgroup_subsys = "memory_cgrp_id",
				     .cgroup_hierarchy = 7,
				     .log_level = 2,
				     .sock = 3},
				got;
	const char *argv[PROBE_SPAWN_MAX_ARGS + 1];
	char buf[512], err[128];
	int argc;

	(void)state;
	argv[0] = "helper";
	argc = probe_spawn_argv(&o, argv + 1, buf, sizeof(buf));
	assert_true(argc > 0);
	assert_int_equal(probe_spawn_parse(argc + 1, (char **)argv, &got, err, sizeof(err)), 0);
	assert_int_equal(got.transport, o.transport);
	assert_int_equal(got.ringbuf_kib, o.ringbuf_kib);
	assert_int_equal(got.perf_pages, o.perf_pages);
	assert_int_equal(got.file_entries, o.file_entries);
	assert_string_equal(got.btf_path, o.btf_path);
	assert_string_equal(got.cgroup_subsys, o.cgroup_subsys);
	assert_int_equal(got.cgroup_hierarchy, 7);
	assert_int_equal(got.log_level, 2);
	assert_int_equal(got.sock, 3);
	{
		char *bad1[] = {"h", "--sock", "3", "--perf-pages", "-1"};
		char *bad2[] = {"h", "--sock", "3", "--frobnicate", "1"};
		char *bad3[] = {"h", "--sock"};
		char *bad4[] = {"h", "--transport", "1"};
		char *bad5[] = {"h", "--sock", "3", "--log-level", "9"};
		char *bad6[] = {"h", "--sock", "3", "--transport", "3"};

		assert_int_equal(probe_spawn_parse(5, bad1, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--perf-pages -1: an integer in [0, "));
		assert_int_equal(probe_spawn_parse(5, bad2, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "unknown option"));
		assert_int_equal(probe_spawn_parse(2, bad3, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "value is expected"));
		assert_int_equal(probe_spawn_parse(3, bad4, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--sock"));
		assert_int_equal(probe_spawn_parse(5, bad5, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--log-level 9: an integer in [0, 3]"));
		assert_int_equal(probe_spawn_parse(5, bad6, &got, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--transport 3"));
	}
	/* a buffer too small is an error, not a cut argument */
	assert_int_equal(probe_spawn_argv(&o, argv + 1, buf, 40), -1);
}

/* A helper that is missing, fails, or exits without sending: an error,
 * and nothing left open. */
static void test_spawn_failures(void **state)
{
	struct probe_build_opts o = {.ringbuf_kib = 4};
	struct probe_spawn_stats st;
	struct handoff h;
	int before = open_fds();

	(void)state;
	setenv("SENTINEL_PROBE_BUILD", "/nonexistent/sentinel-probe-build", 1);
	assert_int_equal(probe_spawn_run(&o, &h, &st), -ENOENT);
	setenv("SENTINEL_PROBE_BUILD", "/bin/false", 1);
	assert_int_equal(probe_spawn_run(&o, &h, &st), -ECHILD);
	setenv("SENTINEL_PROBE_BUILD", "/bin/true", 1);
	assert_int_equal(probe_spawn_run(&o, &h, &st), -ENODATA);
	assert_true(st.peak_rss_kib > 0);
	unsetenv("SENTINEL_PROBE_BUILD");
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < PROBE_MAX_PROGS; i++)
		assert_int_equal(h.prog_fd[i], -1);
}

/* A helper that never answers is killed at the deadline (a hung compile
 * must not leave the agent waiting for good), and reaped. */
static void test_spawn_deadline(void **state)
{
	struct probe_build_opts o = {.ringbuf_kib = 4};
	struct probe_spawn_stats st;
	struct handoff h;
	char dir[] = "/tmp/sentinel-spawn.XXXXXX", path[64];
	int before = open_fds();
	uint64_t t0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hang", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexec sleep 600\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
	setenv("SENTINEL_PROBE_BUILD", path, 1);
	setenv("SENTINEL_PROBE_BUILD_TIMEOUT", "1", 1);
	t0 = clock_mono_ns();
	assert_int_equal(probe_spawn_run(&o, &h, &st), -ETIMEDOUT);
	/* Not a timing test: only that it returned, and after the deadline. */
	assert_true(clock_mono_ns() - t0 >= 1000000000ull);
	/* Reaped: no child of ours is left. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* A value that is not seconds: the default, with a warning. */
	setenv("SENTINEL_PROBE_BUILD_TIMEOUT", "soon", 1);
	setenv("SENTINEL_PROBE_BUILD", "/bin/false", 1);
	assert_int_equal(probe_spawn_run(&o, &h, &st), -ECHILD);
	unsetenv("SENTINEL_PROBE_BUILD_TIMEOUT");
	unsetenv("SENTINEL_PROBE_BUILD");
	assert_int_equal(open_fds(), before);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < PROBE_MAX_PROGS; i++)
		assert_int_equal(h.prog_fd[i], -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_argv),	       cmocka_unit_test(test_spawn_failures),
		cmocka_unit_test(test_spawn_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
