/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the names table (agent/names.c): decoded names by seq, least
 * recently used out, pseudo-file names, the in-root name and the name
 * through a bind mount only when they differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "names.h"

static struct kpath kp_of(const char *host, const char *in_root, unsigned flags, unsigned count)
{
	struct kpath kp;

	memset(&kp, 0, sizeof(kp));
	snprintf(kp.host, sizeof(kp.host), "%s", host);
	snprintf(kp.in_root, sizeof(kp.in_root), "%s", in_root);
	kp.flags = flags;
	kp.count = count;
	kp.ino = 42;
	kp.dev_major = 8;
	kp.dev_minor = 1;
	kp.mntns = 4026531841u;
	return kp;
}

static void test_add_get(void **state)
{
	struct names t;
	struct kpath kp = kp_of("/etc/shadow", "/etc/shadow", SE_KP_F_ROOT, 2);
	struct name *n;

	(void)state;
	names_init(&t, 4);
	n = names_add(&t, 7, &kp, S_IFREG | 0644);
	assert_non_null(n);
	assert_string_equal(n->path, "/etc/shadow");
	assert_null(n->in_root); /* the same as path: not kept twice */
	assert_string_equal(n->ino, "42");
	assert_string_equal(n->dev, "8:1");
	assert_string_equal(n->mntns, "4026531841");
	assert_false(n->truncated);
	assert_ptr_equal(names_get(&t, 7), n);
	assert_null(names_get(&t, 8));
	names_free(&t);
}

/* A chroot's /etc/passwd is not the host's: path is the host's view, the
 * process's own view is kept beside it. */
static void test_in_root(void **state)
{
	struct names t;
	struct kpath kp = kp_of("/srv/jail/etc/passwd", "/etc/passwd", SE_KP_F_ROOT, 4);
	struct name *n;

	(void)state;
	names_init(&t, 4);
	n = names_add(&t, 1, &kp, S_IFREG);
	assert_string_equal(n->path, "/srv/jail/etc/passwd");
	assert_string_equal(n->in_root, "/etc/passwd");
	names_free(&t);
}

/* A bind mount: path is the origin's name, via the one the process used,
 * kept only when it differs; without SE_KP_F_BIND there is no second name. */
static void test_via(void **state)
{
	struct names t;
	struct kpath kp = kp_of("/etc/f", "/mnt/e/f", SE_KP_F_ROOT | SE_KP_F_BIND, 4);
	struct name *n;

	(void)state;
	names_init(&t, 4);
	snprintf(kp.via, sizeof(kp.via), "/mnt/e/f");
	n = names_add(&t, 1, &kp, S_IFREG);
	assert_string_equal(n->path, "/etc/f");
	assert_string_equal(n->via, "/mnt/e/f");
	/* the process's root is the host's: it sees what readlink shows */
	assert_null(n->in_root);
	/* a chroot below the mountpoint: its own view beside both */
	snprintf(kp.in_root, sizeof(kp.in_root), "/e/f");
	assert_string_equal(names_add(&t, 4, &kp, S_IFREG)->in_root, "/e/f");
	snprintf(kp.in_root, sizeof(kp.in_root), "/mnt/e/f");
	snprintf(kp.via, sizeof(kp.via), "/etc/f");
	assert_null(names_add(&t, 2, &kp, S_IFREG)->via);
	kp.flags = SE_KP_F_ROOT | SE_KP_F_NO_ORIGIN;
	snprintf(kp.via, sizeof(kp.via), "/mnt/e/f");
	assert_null(names_add(&t, 3, &kp, S_IFREG)->via);
	names_free(&t);
}

/* Pipes and sockets are named as the kernel names them, never as "/". */
static void test_pseudo(void **state)
{
	struct names t;
	struct kpath kp = kp_of("/", "/", SE_KP_F_ESCAPED, 0);
	struct name *n;

	(void)state;
	names_init(&t, 4);
	assert_string_equal(names_add(&t, 1, &kp, S_IFIFO | 0600)->path, "pipe:[42]");
	assert_string_equal(names_add(&t, 2, &kp, S_IFSOCK | 0777)->path, "socket:[42]");
	n = names_add(&t, 3, &kp, 0600);
	assert_string_equal(n->path, "anon_inode:[42]");
	assert_null(n->in_root);
	names_free(&t);
}

static void test_flags(void **state)
{
	struct names t;
	struct kpath kp = kp_of("d/e/f", "d/e/f", SE_KP_F_TRUNCATED | SE_KP_F_UNLINKED, 3);
	struct name *n;

	(void)state;
	names_init(&t, 4);
	n = names_add(&t, 1, &kp, S_IFREG);
	assert_true(n->truncated);
	assert_true(n->unlinked);
	names_free(&t);
}

/* Full: the least recently used goes, and a get makes an entry recent. */
static void test_lru(void **state)
{
	struct names t;
	struct kpath kp = kp_of("/a", "/a", 0, 1);

	(void)state;
	names_init(&t, 3);
	names_add(&t, 1, &kp, S_IFREG);
	names_add(&t, 2, &kp, S_IFREG);
	names_add(&t, 3, &kp, S_IFREG);
	assert_non_null(names_get(&t, 1)); /* 2 is now the oldest */
	names_add(&t, 4, &kp, S_IFREG);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evicted, 1);
	assert_null(names_get(&t, 2));
	assert_non_null(names_get(&t, 1));
	assert_non_null(names_get(&t, 3));
	assert_non_null(names_get(&t, 4));
	/* A seq named again replaces its entry, nothing evicted. */
	kp = kp_of("/b", "/b", 0, 1);
	assert_string_equal(names_add(&t, 4, &kp, S_IFREG)->path, "/b");
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evicted, 1);
	names_free(&t);
	assert_int_equal(t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get), cmocka_unit_test(test_in_root),
		cmocka_unit_test(test_pseudo),	cmocka_unit_test(test_flags),
		cmocka_unit_test(test_lru),	cmocka_unit_test(test_via),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
