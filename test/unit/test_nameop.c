/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the names of renames and links (agent/nameop.c) from sides
 * made as the probe makes them, looked up in a scratch tree with symlinks,
 * a root of its own (RESOLVE_IN_ROOT) and a missing parent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "nameop.h"

static char top[512]; /* the scratch tree, canonical */
static struct nameop lookup;

/*
 * A side whose walk is @dir's path ("/" for none), all of it below the
 * process's root when @root_at_top, else the walk of a root at @dir itself
 * (the root of a chroot at @dir: nothing below it); @base, @str as the
 * probe sends them.
 */
static struct se_nameop_side *side(const char *dir, int root_at_top, unsigned base, const char *str)
{
	struct se_nameop_side *sd = calloc(1, sizeof(*sd));
	char copy[PATH_MAX], *comp[64], *save = NULL, *c;
	unsigned n = 0, len = 0;

	assert_non_null(sd);
	snprintf(copy, sizeof(copy), "%s", dir);
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		comp[n++] = c;
	for (unsigned i = 0; i < n; i++) { /* leaf first */
		size_t l = strlen(comp[n - 1 - i]) + 1;

		memcpy(sd->kp.names + len, comp[n - 1 - i], l);
		len += (unsigned)l;
	}
	sd->kp.count = (uint16_t)n;
	sd->kp.len = (uint16_t)len;
	sd->kp.flags = SE_KP_F_ROOT;
	sd->kp.root_at = (uint16_t)(root_at_top ? n : 0);
	sd->kp.mntns = lookup.host_mntns; /* the host's: looked up from its root */
	sd->dfd = -100;
	sd->base = (uint8_t)base;
	snprintf(sd->str, sizeof(sd->str), "%s", str);
	sd->len = (uint16_t)(strlen(str) + 1);
	return sd;
}

static void expect_f(struct se_nameop_side *sd, bool follow, const char *path, enum nameop_how how)
{
	static struct nameop_name out;

	memset(&out, 'Z', sizeof(out));
	nameop_resolve(&lookup, sd, follow, 1, 1, &out);
	assert_string_equal(out.path, path);
	assert_string_equal(nameop_how_name(out.how), nameop_how_name(how));
	free(sd);
}

static void expect(struct se_nameop_side *sd, const char *path, enum nameop_how how)
{
	expect_f(sd, false, path, how);
}

static char *at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static unsigned k;
	char *b = buf[k++ % 4];

	assert_true(snprintf(b, PATH_MAX, "%s%s", top, rel) < PATH_MAX);
	return b;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/nameop-test.XXXXXX", path[PATH_MAX];

	(void)state;
	nameop_init(&lookup);
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, path));
	assert_true(strlen(path) < sizeof(top));
	strcpy(top, path);
	assert_int_equal(mkdir(at("/real"), 0755), 0);
	assert_int_equal(mkdir(at("/real/etc"), 0755), 0);
	assert_int_equal(symlink(at("/real"), at("/lnk")), 0);
	/* absolute: inside a root at top/real it means top/real/etc */
	assert_int_equal(symlink("/etc", at("/real/abs")), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(at("/real/abs"));
	unlink(at("/lnk"));
	rmdir(at("/real/etc"));
	rmdir(at("/real"));
	rmdir(top);
	return 0;
}

/* Every component but the last followed, from the walked directory. */
static void test_lookup(void **state)
{
	(void)state;
	expect(side("/", 1, SE_NB_ROOT, at("/lnk/f")), at("/real/f"), NAMEOP_LOOKUP);
	expect(side(at("/real"), 1, SE_NB_CWD, "../lnk/g"), at("/real/g"), NAMEOP_LOOKUP);
	expect(side(at("/real"), 1, SE_NB_DIRFD, "h"), at("/real/h"), NAMEOP_LOOKUP);
	/* the last component is never followed: a rename of the link itself */
	expect(side("/", 1, SE_NB_ROOT, at("/lnk")), at("/lnk"), NAMEOP_LOOKUP);
	/* a trailing '/' (a directory) is not a component */
	expect(side("/", 1, SE_NB_ROOT, at("/lnk/etc/")), at("/real/etc"), NAMEOP_LOOKUP);
}

/* truncate(2) and linkat(AT_SYMLINK_FOLLOW) follow the last component
 * too: `truncate -s0 LINK` and `ln -L LINK h` are about the target. */
static void test_follow(void **state)
{
	struct se_record r = {.kind = SE_TRUNCATE, .syscall = SE_SC_TRUNCATE};
	int fd = open(at("/real/etc/t"), O_WRONLY | O_CREAT, 0600);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(at("/real/etc/t"), at("/real/tl")), 0);
	expect_f(side("/", 1, SE_NB_ROOT, at("/real/tl")), true, at("/real/etc/t"), NAMEOP_LOOKUP);
	expect_f(side("/", 1, SE_NB_ROOT, at("/lnk/tl")), true, at("/real/etc/t"), NAMEOP_LOOKUP);
	/* not followed: the link's own name */
	expect_f(side("/", 1, SE_NB_ROOT, at("/real/tl")), false, at("/real/tl"), NAMEOP_LOOKUP);
	/* a dangling link: the target cannot be looked up */
	assert_int_equal(symlink(at("/real/none"), at("/real/dl")), 0);
	expect_f(side("/", 1, SE_NB_ROOT, at("/real/dl")), true, at("/real/dl"), NAMEOP_LEXICAL);
	unlink(at("/real/dl"));
	unlink(at("/real/tl"));
	unlink(at("/real/etc/t"));
	/* which sides follow */
	assert_true(nameop_follows(&r, 1));
	r = (struct se_record){.kind = SE_LINK, .syscall = SE_SC_LINKAT, .arg = AT_SYMLINK_FOLLOW};
	assert_true(nameop_follows(&r, 0));
	assert_false(nameop_follows(&r, 1));
	r.syscall = SE_SC_IO_URING; /* io_uring's LINKAT */
	assert_true(nameop_follows(&r, 0));
	r.arg = AT_EMPTY_PATH;
	assert_false(nameop_follows(&r, 0));
	r = (struct se_record){.kind = SE_RENAME, .syscall = SE_SC_RENAMEAT2, .arg = 0x400};
	assert_false(nameop_follows(&r, 0) || nameop_follows(&r, 1));
}

/* A process rooted at top/real: ".." stops at its root and an absolute
 * symlink means a place inside it, as the kernel resolved them for it. */
static void test_in_root(void **state)
{
	(void)state;
	expect(side(at("/real"), 0, SE_NB_ROOT, "/../../etc/x"), at("/real/etc/x"), NAMEOP_LOOKUP);
	expect(side(at("/real"), 0, SE_NB_ROOT, "/abs/y"), at("/real/etc/y"), NAMEOP_LOOKUP);
}

/* A lookup that fails is a lexical join, flagged. */
static void test_lexical(void **state)
{
	(void)state;
	expect(side("/", 1, SE_NB_ROOT, at("/gone/./d/../f")), at("/gone/f"), NAMEOP_LEXICAL);
	expect(side(at("/real"), 1, SE_NB_CWD, "gone/f"), at("/real/gone/f"), NAMEOP_LEXICAL);
	/* /proc/self names the agent's own files: never looked up */
	expect(side("/", 1, SE_NB_ROOT, "/proc/self/fd/3"), "/proc/self/fd/3", NAMEOP_LEXICAL);
}

/* The fd's file itself (linkat AT_EMPTY_PATH), a walk cut short, and what
 * cannot be read. */
static void test_other(void **state)
{
	struct se_nameop_side *sd;

	(void)state;
	expect(side(at("/real/#1234"), 1, SE_NB_FILE, ""), at("/real/#1234"), NAMEOP_FILE);
	sd = side("/d/e", 1, SE_NB_CWD, "f");
	sd->kp.flags = SE_KP_F_TRUNCATED;
	sd->kp.root_at = 0;
	expect(sd, "d/e/f", NAMEOP_TRUNCATED);
	expect(side("/", 1, SE_NB_NONE, "x"), "", NAMEOP_UNREADABLE);
	sd = side("/", 1, SE_NB_ROOT, "/x");
	sd->len = 0;
	expect(sd, "", NAMEOP_UNREADABLE);
	/* a length past the string's NUL, or beyond the buffer */
	sd = side("/", 1, SE_NB_ROOT, "/x");
	sd->len = 5;
	expect(sd, "", NAMEOP_UNREADABLE);
	sd = side("/", 1, SE_NB_ROOT, "/x");
	sd->len = SE_NAMEOP_STR + 1;
	expect(sd, "", NAMEOP_UNREADABLE);
	sd = side("/", 1, 9, "/x");
	expect(sd, "", NAMEOP_UNREADABLE);
	/* a malformed walk */
	sd = side("/a", 1, SE_NB_ROOT, "/x");
	sd->kp.len = SE_KP_BUF + 1;
	expect(sd, "", NAMEOP_UNREADABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),	cmocka_unit_test(test_follow),
		cmocka_unit_test(test_in_root), cmocka_unit_test(test_lexical),
		cmocka_unit_test(test_other),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
