/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: agent/fdtable.c on its own - counting, the size cap, nameless
 * entries, the sweep (order, callbacks, tgid reuse) and the /proc liveness
 * check against real processes.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdtable.h"

#define FAKE 0x7ffffff0u

struct gone_log {
	uint32_t tgid[64];
	int32_t fd[64];
	size_t n;
};

static void log_gone(uint32_t tgid, int32_t fd, void *arg)
{
	struct gone_log *g = arg;

	assert_true(g->n < 64);
	g->tgid[g->n] = tgid;
	g->fd[g->n++] = fd;
}

static void test_counts_and_cap(void **state)
{
	struct fdtable t;

	(void)state;
	fdtable_init(&t);
	t.max_entries = 3;
	assert_non_null(fdtable_set(&t, FAKE, 3, "/a", 0));
	assert_non_null(fdtable_set(&t, FAKE, 4, NULL, 0)); /* nameless */
	assert_null(fdtable_get(&t, FAKE, 4)->path);
	assert_non_null(fdtable_set(&t, FAKE + 1, 3, "/b", 0));
	assert_int_equal(t.n_fds, 3);
	assert_int_equal(t.n_procs, 2);
	/* full: a new fd is refused and counted; replacing is not an insert */
	assert_null(fdtable_set(&t, FAKE, 5, "/c", 0));
	assert_int_equal(t.full, 1);
	assert_non_null(fdtable_set(&t, FAKE, 4, "/named", 0));
	assert_string_equal(fdtable_get(&t, FAKE, 4)->path, "/named");
	assert_non_null(fdtable_set(&t, FAKE, 3, NULL, 0));
	assert_null(fdtable_get(&t, FAKE, 3)->path);
	assert_int_equal(t.full, 1);
	/* processes are capped by the same number */
	t.max_entries = 2;
	assert_null(fdtable_proc(&t, FAKE + 2, true));
	assert_int_equal(t.full, 2);
	assert_non_null(fdtable_proc(&t, FAKE, true)); /* an existing one is found */
	fdtable_del(&t, FAKE, 3);
	fdtable_drop_proc(&t, FAKE + 1);
	assert_int_equal(t.n_fds, 1);
	assert_int_equal(t.n_procs, 1);
	assert_non_null(fdtable_set(&t, FAKE + 2, 3, "/d", 0));
	fdtable_free(&t);
	assert_int_equal(t.n_fds, 0);
	assert_int_equal(t.n_procs, 0);
}

struct fake {
	int alive[8];
	uint64_t start[8];
	uint32_t order[16];
	size_t n;
};

static int fake_alive(uint32_t tgid, uint64_t *start_time, void *ctx)
{
	struct fake *f = ctx;
	uint32_t i = tgid - FAKE;

	assert_true(i < 8 && f->n < 16);
	f->order[f->n++] = i;
	*start_time = f->start[i];
	return f->alive[i];
}

static void test_sweep_order_and_callbacks(void **state)
{
	struct fdtable t;
	struct fake fk = {.alive = {1, 0, 1, -EACCES, 1}, .start = {10, 0, 20, 0, 30}};
	struct gone_log g = {.n = 0};
	struct fdtable_sweep_result res = {0};

	(void)state;
	fdtable_init(&t);
	for (uint32_t i = 0; i < 5; i++) {
		fdtable_set(&t, FAKE + i, 3, "/x", 0);
		fdtable_set(&t, FAKE + i, 4, NULL, 0);
	}
	/* two of five, oldest first */
	fdtable_sweep(&t, 2, fake_alive, &fk, log_gone, &g, &res);
	assert_int_equal(res.checked, 2);
	assert_int_equal(fk.order[0], 0);
	assert_int_equal(fk.order[1], 1);
	/* 1 was gone: both its fds told, then dropped */
	assert_int_equal(res.procs, 1);
	assert_int_equal(res.fds, 2);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.tgid[0], FAKE + 1);
	assert_int_equal(g.tgid[1], FAKE + 1);
	assert_int_equal(g.fd[0] + g.fd[1], 3 + 4);
	assert_null(fdtable_proc(&t, FAKE + 1, false));
	assert_int_equal(t.n_fds, 8);
	assert_int_equal(t.n_procs, 4);
	/* the next call goes on where that one stopped; 0 went to the back */
	fk.n = 0;
	fdtable_sweep(&t, 3, fake_alive, &fk, log_gone, &g, &res);
	assert_int_equal(fk.n, 3);
	assert_int_equal(fk.order[0], 2);
	assert_int_equal(fk.order[1], 3);
	assert_int_equal(fk.order[2], 4);
	/* "cannot tell" keeps the process and learns no start time */
	assert_non_null(fdtable_proc(&t, FAKE + 3, false));
	assert_int_equal(fdtable_proc(&t, FAKE + 3, false)->start_time, 0);
	assert_int_equal(fdtable_proc(&t, FAKE + 4, false)->start_time, 30);
	/* a new process goes behind the ones already checked */
	fdtable_set(&t, FAKE + 5, 3, "/new", 0);
	fk.alive[5] = 1;
	fk.n = 0;
	fk.start[0] = 11; /* 0's tgid was reused */
	fdtable_sweep(&t, 100, fake_alive, &fk, log_gone, &g, &res);
	assert_int_equal(fk.n, 5); /* never more than the table holds */
	assert_int_equal(fk.order[0], 0);
	assert_int_equal(fk.order[4], 5);
	assert_null(fdtable_proc(&t, FAKE, false));
	assert_int_equal(res.procs, 2);
	assert_int_equal(res.fds, 4);
	assert_int_equal(res.checked, 2 + 3 + 5);
	/* no callback is fine */
	fk.alive[5] = 0;
	fk.n = 0;
	fdtable_sweep(&t, 100, fake_alive, &fk, NULL, NULL, &res);
	assert_null(fdtable_proc(&t, FAKE + 5, false));
	assert_int_equal(t.n_procs, 3);
	fdtable_free(&t);
}

/* starttime read differently from fdtable.c: sscanf past the last ')' */
static uint64_t stat_starttime(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				"%*d %*d %*d %*d %llu",
				&v),
			 1);
	return v;
}

static void test_proc_alive(void **state)
{
	uint64_t st = 0, st2 = 0;
	int pipefd[2];
	pid_t child;
	char c;

	(void)state;
	assert_int_equal(fdtable_proc_alive((uint32_t)getpid(), &st, NULL), 1);
	assert_true(st > 0);
	assert_int_equal(st, stat_starttime(getpid()));
	assert_int_equal(fdtable_proc_alive(FAKE, &st, NULL), 0);
	/* a comm with ") " in it does not shift the fields */
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		prctl(PR_SET_NAME, "a) 1 2 ) x", 0, 0, 0);
		close(pipefd[0]);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	assert_int_equal(fdtable_proc_alive((uint32_t)child, &st2, NULL), 1);
	assert_int_equal(st2, stat_starttime(child));
	assert_true(st2 >= st);
	/* a zombie is alive until reaped (its tgid cannot be reused before) */
	kill(child, SIGKILL);
	for (int i = 0; i < 200; i++) {
		char path[64], buf[256], *p;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
		f = fopen(path, "re");
		assert_non_null(f);
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		assert_non_null(p);
		if (strstr(buf, ") Z "))
			break;
		usleep(10000);
	}
	assert_int_equal(fdtable_proc_alive((uint32_t)child, &st, NULL), 1);
	assert_int_equal(st, st2);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(fdtable_proc_alive((uint32_t)child, &st, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_cap),
		cmocka_unit_test(test_sweep_order_and_callbacks),
		cmocka_unit_test(test_proc_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
