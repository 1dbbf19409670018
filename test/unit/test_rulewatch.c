/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: agent/rulewatch.c on a real directory with real inotify.
 * Each case does to a rules file what an operator, an editor or Kubernetes
 * does, and checks whether a reload is called for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rulewatch.h"

#define V1 "rules:\n  - {name: a, event: file_write}\n"
#define V2 "rules:\n  - {name: b, event: file_read}\n"
/* Kubernetes' atomic writer names its versions like this. */
#define TS1 "..2026_11_28_10_00_00.000000001"
#define TS2 "..2026_11_28_10_05_00.000000002"
#define TS3 "..2026_11_28_10_10_00.000000003"

struct fx {
	char dir[64];
	char rules[PATH_MAX];
	struct rulewatch *w;
};

static void at(const struct fx *f, char *out, const char *name)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", f->dir, name) >= PATH_MAX)
		fail_msg("path too long");
}

static void put(const struct fx *f, const char *name, const char *text)
{
	char p[PATH_MAX];
	int fd;

	at(f, p, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void mv(const struct fx *f, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	at(f, a, from);
	at(f, b, to);
	assert_int_equal(rename(a, b), 0);
}

static void rm(const struct fx *f, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(unlink(p), 0);
}

static void ln(const struct fx *f, const char *target, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-rulewatch.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	at(f, f->rules, "rules.yaml");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];

	rulewatch_close(f->w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void open_watch(struct fx *f)
{
	assert_int_equal(rulewatch_open(&f->w, f->rules), 0);
	assert_int_equal(rulewatch_timeout_ms(f->w), -1);
}

/* Waits for a relevant event and its quiet period; false if none came
 * within a second. */
static bool settle(struct fx *f)
{
	struct pollfd p = {.fd = rulewatch_fd(f->w), .events = POLLIN};
	int t;

	while ((t = rulewatch_timeout_ms(f->w)) != 0) {
		int n = poll(&p, 1, t < 0 ? 1000 : t);

		if (n < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		if (n == 0 && t < 0)
			return false;
		if (n > 0)
			rulewatch_consume(f->w);
	}
	return true;
}

/* No relevant event: nothing pending after the events have come in. */
static void assert_quiet(struct fx *f)
{
	struct pollfd p = {.fd = rulewatch_fd(f->w), .events = POLLIN};

	while (poll(&p, 1, 200) > 0)
		assert_false(rulewatch_consume(f->w));
	assert_int_equal(rulewatch_timeout_ms(f->w), -1);
}

static enum rulewatch_status check(struct fx *f, bool force)
{
	char err[512] = "";

	return rulewatch_check(f->w, force, err, sizeof(err));
}

static void test_rewrite_in_place(void **state)
{
	struct fx *f = *state;

	put(f, "rules.yaml", V1);
	open_watch(f);
	put(f, "rules.yaml", V2);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);
	/* Seen now: the same bytes again are no change. */
	assert_int_equal(check(f, false), RULEWATCH_SAME);
	/* Rewritten with the very same bytes: events, but no reload. */
	put(f, "rules.yaml", V2);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_SAME);
}

static void test_editor_rename(void **state)
{
	struct fx *f = *state;

	put(f, "rules.yaml", V1);
	open_watch(f);
	/* write a temporary file, then rename it over the original */
	put(f, ".rules.yaml.swp", V2);
	mv(f, ".rules.yaml.swp", "rules.yaml");
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);
	/* vim without backupcopy: original renamed away, new file written */
	mv(f, "rules.yaml", "rules.yaml~");
	put(f, "rules.yaml", V1);
	rm(f, "rules.yaml~");
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);
}

/* rules.yaml -> ..data/rules.yaml, ..data -> TS: an update writes a new
 * TS directory, points ..data_tmp at it, renames ..data_tmp over ..data and
 * removes the old directory. Only the ..data rename touches a name on the
 * file's way. */
static void k8s_version(struct fx *f, const char *ts, const char *text)
{
	char p[PATH_MAX], name[PATH_MAX];

	at(f, p, ts);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(name, sizeof(name), "%s/rules.yaml", ts);
	put(f, name, text);
	snprintf(name, sizeof(name), "%s/other-key", ts);
	put(f, name, "x");
}

static void k8s_remove_version(struct fx *f, const char *ts)
{
	char p[PATH_MAX], name[PATH_MAX];

	snprintf(name, sizeof(name), "%s/rules.yaml", ts);
	rm(f, name);
	snprintf(name, sizeof(name), "%s/other-key", ts);
	rm(f, name);
	at(f, p, ts);
	assert_int_equal(rmdir(p), 0);
}

static void k8s_update(struct fx *f, const char *old_ts, const char *ts, const char *text)
{
	k8s_version(f, ts, text);
	ln(f, ts, "..data_tmp");
	mv(f, "..data_tmp", "..data");
	k8s_remove_version(f, old_ts);
}

static void test_configmap_swap(void **state)
{
	struct fx *f = *state;

	k8s_version(f, TS1, V1);
	ln(f, TS1, "..data");
	ln(f, "..data/rules.yaml", "rules.yaml");
	ln(f, "..data/other-key", "other-key");
	open_watch(f);
	assert_int_equal(check(f, false), RULEWATCH_SAME);

	k8s_update(f, TS1, TS2, V2);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);

	/* A new version with the same rules (another key changed): no reload. */
	k8s_update(f, TS2, TS3, V2);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_SAME);
}

static void test_touch(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];

	put(f, "rules.yaml", V1);
	open_watch(f);
	at(f, p, "rules.yaml");
	assert_int_equal(utimensat(AT_FDCWD, p, NULL, 0), 0);
	assert_int_equal(chmod(p, 0600), 0);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_SAME);
}

static void test_unrelated_file(void **state)
{
	struct fx *f = *state;

	put(f, "rules.yaml", V1);
	open_watch(f);
	put(f, "notes.txt", "hello");
	mv(f, "notes.txt", "notes.old");
	rm(f, "notes.old");
	put(f, "rules.yaml.example", V2);
	assert_quiet(f);
	assert_int_equal(check(f, false), RULEWATCH_SAME);
}

static void test_missing_then_back(void **state)
{
	struct fx *f = *state;

	put(f, "rules.yaml", V1);
	open_watch(f);
	rm(f, "rules.yaml");
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_MISSING);
	/* Back with the content last seen: nothing to reload. */
	put(f, "rules.yaml", V1);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_SAME);
	rm(f, "rules.yaml");
	put(f, "rules.yaml", V2);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);
}

static void test_created_later(void **state)
{
	struct fx *f = *state;

	/* No file when the watch starts (built-in rules in the agent). */
	open_watch(f);
	assert_int_equal(check(f, false), RULEWATCH_MISSING);
	put(f, "rules.yaml", V1);
	assert_true(settle(f));
	assert_int_equal(check(f, false), RULEWATCH_NEW);
}

static void test_force(void **state)
{
	struct fx *f = *state;

	put(f, "rules.yaml", V1);
	open_watch(f);
	assert_int_equal(check(f, false), RULEWATCH_SAME);
	assert_int_equal(check(f, true), RULEWATCH_NEW);
	/* forget: the same bytes count as new once */
	rulewatch_forget(f->w);
	assert_int_equal(check(f, false), RULEWATCH_NEW);
	assert_int_equal(check(f, false), RULEWATCH_SAME);
}

static void test_not_a_file(void **state)
{
	struct fx *f = *state;
	char err[512] = "";

	assert_int_equal(mkdir(f->rules, 0755), 0);
	open_watch(f);
	assert_int_equal(rulewatch_check(f->w, false, err, sizeof(err)), RULEWATCH_ERROR);
	assert_non_null(strstr(err, "rules.yaml: not a regular file"));
	assert_int_equal(rmdir(f->rules), 0);
}

static void test_no_directory(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];

	at(f, p, "absent/rules.yaml");
	assert_int_equal(rulewatch_open(&f->w, p), -ENOENT);
	assert_null(f->w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rewrite_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_editor_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrelated_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_then_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_created_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
