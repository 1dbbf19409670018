/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpath.h"

static struct kpath out;

/* Walk 2's fields of a record (struct se_kpath). */
struct two {
	unsigned bind_at, bind_from, origin_ns;
};

/*
 * A record as the walk makes it: @names leaf first (walk 1's, then with
 * @t walk 2's), in a buffer of exactly the record's size, so that ASan
 * catches a read past it. Free it.
 */
static void *record2(const char *const *names, unsigned n, unsigned flags, unsigned root_at,
		     const struct two *t, size_t *size)
{
	struct se_kpath h = {.ino = 1234, .dev = (8u << 20) | 17, .mntns = 4026531840u};
	size_t len = 0;
	char *rec;

	for (unsigned i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	h.count = (uint16_t)n;
	h.root_at = (uint16_t)root_at;
	h.len = (uint16_t)len;
	h.flags = (uint16_t)flags;
	if (t) {
		h.bind_at = (uint16_t)t->bind_at;
		h.bind_from = (uint16_t)t->bind_from;
		h.origin_ns = t->origin_ns;
	}
	*size = SE_KP_HDR + len;
	rec = malloc(*size);
	assert_non_null(rec);
	memcpy(rec, &h, SE_KP_HDR);
	len = SE_KP_HDR;
	for (unsigned i = 0; i < n; i++) {
		memcpy(rec + len, names[i], strlen(names[i]) + 1);
		len += strlen(names[i]) + 1;
	}
	return rec;
}

static void *record(const char *const *names, unsigned n, unsigned flags, unsigned root_at,
		    size_t *size)
{
	return record2(names, n, flags, root_at, NULL, size);
}

/* Decode @names; expect @host and @in_root. */
static void check(const char *const *names, unsigned n, unsigned flags, unsigned root_at,
		  const char *host, const char *in_root)
{
	size_t size;
	void *rec = record(names, n, flags, root_at, &size);

	memset(&out, 'Z', sizeof(out));
	assert_int_equal(kpath_decode(rec, size, &out), 0);
	assert_string_equal(out.host, host);
	assert_string_equal(out.in_root, in_root);
	assert_int_equal(out.flags, flags);
	assert_int_equal(out.count, n);
	assert_int_equal(out.root_at, root_at);
	if (!(flags & SE_KP_F_ESCAPED))
		assert_string_equal(out.fs_path, "");
	assert_string_equal(out.via, "");
	free(rec);
}

/* Decode a two-walk record; expect @host (the origin name), @via (the
 * readlink one) and @in_root. */
static void check2(const char *const *names, unsigned n, unsigned flags, unsigned root_at,
		   struct two t, const char *host, const char *via, const char *in_root)
{
	size_t size;
	void *rec = record2(names, n, flags, root_at, &t, &size);

	memset(&out, 'Z', sizeof(out));
	assert_int_equal(kpath_decode(rec, size, &out), 0);
	assert_string_equal(out.host, host);
	assert_string_equal(out.via, via);
	assert_string_equal(out.in_root, in_root);
	assert_int_equal(out.flags, flags);
	assert_int_equal(out.count, n);
	assert_int_equal(out.bind_at, t.bind_at);
	assert_int_equal(out.bind_from, t.bind_from);
	assert_int_equal(out.origin_ns, t.origin_ns);
	free(rec);
}

static void test_normal(void **state)
{
	static const char *const n[] = {"f", "realdir", "tmp"};

	(void)state;
	check(n, 3, SE_KP_F_ROOT, 3, "/tmp/realdir/f", "/tmp/realdir/f");
	assert_int_equal(out.dev_major, 8);
	assert_int_equal(out.dev_minor, 17);
	assert_int_equal(out.ino, 1234);
	assert_int_equal(out.mntns, 4026531840u);
	assert_false(out.in_root_partial);
	/* flags pass through; " (deleted)" is the caller's business */
	check(n, 3, SE_KP_F_ROOT | SE_KP_F_UNLINKED, 3, "/tmp/realdir/f", "/tmp/realdir/f");
	/* bytes are bytes: spaces, newlines, invalid UTF-8 */
	check((const char *const[]){"a b\n\xff", "x"}, 2, SE_KP_F_ROOT, 2, "/x/a b\n\xff",
	      "/x/a b\n\xff");
}

static void test_root(void **state)
{
	(void)state;
	check(NULL, 0, SE_KP_F_ROOT, 0, "/", "/");
	/* a pipe or socket: stopped at once, escaped */
	check(NULL, 0, SE_KP_F_ESCAPED, 0, "/", "/");
	check((const char *const[]){"f"}, 1, SE_KP_F_ROOT, 1, "/f", "/f");
}

/* Met the root of its filesystem, not of its mount: "/" as d_path says. */
static void test_escaped(void **state)
{
	static const char *const n[] = {"g", "out2", "tmp"};

	(void)state;
	check(n, 3, SE_KP_F_ESCAPED, 0, "/", "/");
	assert_string_equal(out.fs_path, "/tmp/out2/g");
	check(n, 3, SE_KP_F_ESCAPED | SE_KP_F_UNLINKED, 0, "/", "/");
	assert_string_equal(out.fs_path, "/tmp/out2/g");
	check(NULL, 0, SE_KP_F_ESCAPED, 0, "/", "/");
	assert_string_equal(out.fs_path, "/");
}

/* chroot or container: the part below the process root, and the rest */
static void test_boundary(void **state)
{
	static const char *const n[] = {"f", "tmp", "root", "pw", "tmp"};

	(void)state;
	check(n, 5, SE_KP_F_ROOT, 2, "/tmp/pw/root/tmp/f", "/tmp/f");
	check(n, 5, SE_KP_F_ROOT, 0, "/tmp/pw/root/tmp/f", "/");
	check(n, 5, SE_KP_F_ROOT, 5, "/tmp/pw/root/tmp/f", "/tmp/pw/root/tmp/f");
	/* outside the process root: the process sees the same text */
	check(n, 5, 0, 0, "/tmp/pw/root/tmp/f", "/tmp/pw/root/tmp/f");
	assert_false(out.in_root_partial);
}

static void test_truncated(void **state)
{
	static const char *const n[] = {"f", "d", "e"};

	(void)state;
	/* only the leaf part, and never as an absolute path */
	check(n, 3, SE_KP_F_TRUNCATED, 0, "e/d/f", "e/d/f");
	assert_true(out.in_root_partial);
	/* the root was met below the cut: the in-root path is whole */
	check(n, 3, SE_KP_F_TRUNCATED | SE_KP_F_ROOT, 1, "e/d/f", "/f");
	assert_false(out.in_root_partial);
	check(n, 3, SE_KP_F_TRUNCATED | SE_KP_F_FAULT, 0, "e/d/f", "e/d/f");
	check(NULL, 0, SE_KP_F_TRUNCATED | SE_KP_F_FAULT, 0, "", "");
}

/*
 * A bind mount: $W/sub bound at /tmp/S/b, f written as /tmp/S/b/f. Walk 1
 * (readlink): f, b, S, tmp; the subtree's root was met after 1 component
 * (bind_at); walk 2 from there: sub, W, tmp up to the origin's top.
 */
static void test_bind(void **state)
{
	static const char *const n[] = {"f", "b", "S", "tmp", "sub", "W", "tmp"};
	const struct two t = {1, 4, 4026531840u};

	(void)state;
	check2(n, 7, SE_KP_F_ROOT | SE_KP_F_BIND, 4, t, "/tmp/W/sub/f", "/tmp/S/b/f", "/tmp/S/b/f");
	/* in a container: the process root is the namespace's top, /w is the bind */
	check2((const char *const[]){"pod.txt", "w", "W", "tmp"}, 4, SE_KP_F_ROOT | SE_KP_F_BIND, 2,
	       (struct two){1, 2, 7}, "/tmp/W/pod.txt", "/w/pod.txt", "/w/pod.txt");
	/* in a chroot below the bind's mountpoint: the process sees its part */
	check2(n, 7, SE_KP_F_ROOT | SE_KP_F_BIND, 2, t, "/tmp/W/sub/f", "/tmp/S/b/f", "/b/f");
	/* outside the process root: it sees what readlink shows, not the origin */
	check2(n, 7, SE_KP_F_BIND, 0, t, "/tmp/W/sub/f", "/tmp/S/b/f", "/tmp/S/b/f");
	/* a file bound over another (mount --bind A B): its dentry is the
	 * bind's root, no component of walk 1 kept */
	check2((const char *const[]){"B", "tmp", "A", "tmp"}, 4, SE_KP_F_ROOT | SE_KP_F_BIND, 2,
	       (struct two){0, 2, 9}, "/tmp/A", "/tmp/B", "/tmp/B");
	/* a bind of the filesystem's root seen from above: walk 2 adds nothing */
	check2((const char *const[]){"f", "mnt"}, 2, SE_KP_F_ROOT | SE_KP_F_BIND, 2,
	       (struct two){1, 2, 9}, "/f", "/mnt/f", "/mnt/f");
	assert_false(out.in_root_partial);
	assert_string_equal(out.fs_path, "");
}

/* Moved out of what its bind mount shows: d_path says "/", the origin
 * says where it is. */
static void test_bind_escaped(void **state)
{
	static const char *const n[] = {"g", "out2", "tmp"};

	(void)state;
	check2(n, 3, SE_KP_F_ESCAPED | SE_KP_F_BIND, 0, (struct two){3, 3, 5}, "/tmp/out2/g", "/",
	       "/");
	assert_string_equal(out.fs_path, "/tmp/out2/g");
	/* the filesystem's root is mounted at /data: walk 2 adds "data" */
	check2((const char *const[]){"g", "out2", "data"}, 3, SE_KP_F_ESCAPED | SE_KP_F_BIND, 0,
	       (struct two){2, 2, 5}, "/data/out2/g", "/", "/");
	assert_string_equal(out.fs_path, "/out2/g");
}

/* Walk 2 cut (its bound, the buffer, a failed read): the origin name is
 * its leaf part, relative; walk 1 is whole, readlink's name too. */
static void test_bind_truncated(void **state)
{
	static const char *const n[] = {"f", "b", "tmp", "d", "e"};

	(void)state;
	check2(n, 5, SE_KP_F_ROOT | SE_KP_F_BIND | SE_KP_F_TRUNCATED, 3, (struct two){1, 3, 5},
	       "e/d/f", "/tmp/b/f", "/tmp/b/f");
	assert_false(out.in_root_partial);
	check2(n, 5, SE_KP_F_BIND | SE_KP_F_TRUNCATED | SE_KP_F_FAULT, 0, (struct two){1, 3, 5},
	       "e/d/f", "/tmp/b/f", "/tmp/b/f");
	/* nothing of walk 2 fitted */
	check2(n, 3, SE_KP_F_BIND | SE_KP_F_TRUNCATED, 0, (struct two){1, 3, 5}, "f", "/tmp/b/f",
	       "/tmp/b/f");
}

/* A subtree mount with no origin: the name is walk 1's, alone. */
static void test_no_origin(void **state)
{
	static const char *const n[] = {"f", "b", "tmp"};

	(void)state;
	check2(n, 3, SE_KP_F_ROOT | SE_KP_F_NO_ORIGIN, 3, (struct two){1, 3, 0}, "/tmp/b/f", "",
	       "/tmp/b/f");
	check2(n, 3, SE_KP_F_ESCAPED | SE_KP_F_NO_ORIGIN, 0, (struct two){3, 3, 0}, "/", "", "/");
	assert_string_equal(out.fs_path, "/tmp/b/f");
}

/* 16 names of 255 bytes: exactly SE_KP_BUF bytes, the longest record. */
static void test_full(void **state)
{
	static char name[SE_KP_NAME_MAX + 1];
	const char *n[16];
	size_t size;
	void *rec;

	(void)state;
	memset(name, 'n', SE_KP_NAME_MAX);
	for (unsigned i = 0; i < 16; i++)
		n[i] = name;
	rec = record(n, 16, SE_KP_F_ROOT, 16, &size);
	assert_int_equal(size, SE_KP_HDR + SE_KP_BUF);
	assert_int_equal(kpath_decode(rec, size, &out), 0);
	assert_int_equal(strlen(out.host), SE_KP_BUF);
	assert_int_equal(strlen(out.in_root), SE_KP_BUF);
	assert_int_equal(out.host[0], '/');
	assert_int_equal(out.host[SE_KP_NAME_MAX + 1], '/');
	free(rec);
}

static void expect_einval(const void *rec, size_t size, const char *what)
{
	memset(&out, 'Z', sizeof(out));
	if (kpath_decode(rec, size, &out) != -EINVAL)
		fail_msg("%s: accepted", what);
	assert_string_equal(out.host, "");
	assert_string_equal(out.in_root, "");
}

/* A header over @body (@blen bytes), in a buffer of exactly that size. */
static void expect_bad(unsigned count, unsigned len, unsigned flags, unsigned root_at,
		       const char *body, size_t blen, const char *what)
{
	struct se_kpath h = {.count = (uint16_t)count, .len = (uint16_t)len};
	char *rec = malloc(SE_KP_HDR + blen + 1);

	assert_non_null(rec);
	h.flags = (uint16_t)flags;
	h.root_at = (uint16_t)root_at;
	memcpy(rec, &h, SE_KP_HDR);
	memcpy(rec + SE_KP_HDR, body, blen);
	expect_einval(rec, SE_KP_HDR + blen, what);
	free(rec);
}

/* Walk 2's fields inconsistent with each other or with the flags. */
static void expect_bad2(unsigned count, unsigned flags, unsigned root_at, struct two t,
			const char *what)
{
	static const char *const n[] = {"a", "b", "c", "d"};
	size_t size;
	void *rec = record2(n, count, flags, root_at, &t, &size);

	expect_einval(rec, size, what);
	free(rec);
}

static void test_malformed_two(void)
{
	const unsigned b = SE_KP_F_BIND, no = SE_KP_F_NO_ORIGIN;

	expect_bad2(4, 0, 0, (struct two){1, 0, 0}, "bind_at without a flag");
	expect_bad2(4, 0, 0, (struct two){0, 2, 0}, "bind_from without a flag");
	expect_bad2(4, 0, 0, (struct two){0, 0, 7}, "origin_ns without a flag");
	expect_bad2(4, b | no, 0, (struct two){1, 2, 0}, "an origin and none");
	expect_bad2(4, b, 0, (struct two){3, 2, 7}, "bind_at beyond bind_from");
	expect_bad2(4, b, 0, (struct two){1, 5, 7}, "bind_from beyond count");
	expect_bad2(4, no, 0, (struct two){1, 2, 0}, "no origin, yet walk 2's components");
	expect_bad2(4, no, 0, (struct two){1, 4, 7}, "no origin, yet its namespace");
	expect_bad2(4, no | SE_KP_F_TRUNCATED, 0, (struct two){1, 4, 0},
		    "no origin after a cut walk 1");
	expect_bad2(4, b | SE_KP_F_ROOT, 3, (struct two){1, 2, 7},
		    "root_at beyond walk 1 (in walk 2)");
}

static void test_malformed(void **state)
{
	static char big[SE_KP_BUF + 8];
	static char long_name[SE_KP_NAME_MAX + 2];
	size_t size;
	void *rec = record((const char *const[]){"f", "tmp"}, 2, SE_KP_F_ROOT, 2, &size);

	(void)state;
	expect_einval(NULL, 100, "NULL");
	expect_einval(rec, SE_KP_HDR - 1, "shorter than the header");
	expect_einval(rec, size - 1, "shorter than len");
	expect_einval(rec, 0, "empty");
	free(rec);

	expect_bad(1, 3, SE_KP_F_ROOT, 1, "f\0", 2, "len beyond the bytes given");
	memset(big, 'a', sizeof(big));
	for (unsigned i = 100; i < sizeof(big); i += 100)
		big[i] = '\0';
	expect_bad(41, SE_KP_BUF + 1, 0, 0, big, sizeof(big), "len beyond SE_KP_BUF");
	expect_bad(1, 2, 0x80, 0, "f", 2, "unknown flag");
	expect_bad(1, 2, SE_KP_F_FAULT, 0, "f", 2, "fault without truncated");
	expect_bad(1, 2, SE_KP_F_ROOT, 2, "f", 2, "root_at beyond count");
	expect_bad(1, 2, 0, 1, "f", 2, "root_at without SE_KP_F_ROOT");
	expect_bad(2, 3, 0, 0, "\0f", 3, "an empty component");
	expect_bad(1, 3, 0, 0, "abc", 3, "no NUL");
	expect_bad(1, 4, 0, 0, "a/b", 4, "a component holding '/' (one passing for two)");
	expect_bad(2, 6, 0, 0, "f\0a/b", 6, "a '/' in the last component");
	expect_bad(2, 4, 0, 0, "ab\0c", 4, "the last component without its NUL");
	expect_bad(3, 4, 0, 0, "a\0b", 4, "count beyond the components");
	expect_bad(1, 4, 0, 0, "a\0b", 4, "bytes after count components");
	expect_bad(0, 2, 0, 0, "a", 2, "count 0 with names");
	memset(long_name, 'n', sizeof(long_name) - 1);
	expect_bad(1, sizeof(long_name), 0, 0, long_name, sizeof(long_name),
		   "a component of 256 bytes");
	test_malformed_two();
}

/* What expect_bad() builds, made good: so it is not the helper that fails. */
static void test_control(void **state)
{
	struct se_kpath h = {.count = 1, .len = 2, .flags = SE_KP_F_ROOT, .root_at = 1};
	char rec[SE_KP_HDR + 2];

	(void)state;
	memcpy(rec, &h, SE_KP_HDR);
	memcpy(rec + SE_KP_HDR, "f", 2);
	assert_int_equal(kpath_decode(rec, sizeof(rec), &out), 0);
	assert_string_equal(out.host, "/f");
	/* and expect_bad2()'s record, made good */
	check2((const char *const[]){"a", "b", "c", "d"}, 4, SE_KP_F_BIND | SE_KP_F_ROOT, 2,
	       (struct two){1, 2, 7}, "/d/c/a", "/b/a", "/b/a");
}

static uint32_t rnd(uint32_t *seed, uint32_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) % n;
}

/* A good record of random components into @rec; returns its header. */
static struct se_kpath random_good(uint32_t *seed, char *rec, size_t *blen)
{
	struct se_kpath h = {0};
	size_t off = 0;

	h.count = (uint16_t)rnd(seed, 12);
	for (unsigned i = 0; i < h.count; i++) {
		unsigned l = 1 + rnd(seed, 8);

		for (unsigned j = 0; j < l; j++)
			rec[SE_KP_HDR + off++] = (char)('a' + rnd(seed, 26));
		rec[SE_KP_HDR + off++] = '\0';
	}
	h.len = (uint16_t)off;
	h.flags = (uint16_t)(rnd(seed, 4) ? SE_KP_F_ROOT : SE_KP_F_TRUNCATED);
	h.root_at = (uint16_t)(h.flags & SE_KP_F_ROOT ? rnd(seed, h.count + 1u) : 0);
	/* one in three with walk 2: the first bind_from are walk 1's */
	if (!rnd(seed, 3)) {
		h.bind_from = (uint16_t)rnd(seed, h.count + 1u);
		h.bind_at = (uint16_t)rnd(seed, h.bind_from + 1u);
		h.origin_ns = 1 + rnd(seed, 100);
		h.flags |= SE_KP_F_BIND;
		if (h.root_at > h.bind_from)
			h.root_at = h.bind_from;
	}
	*blen = off;
	return h;
}

/* One random change: a byte, a header field, or the size. */
static void mutate(uint32_t *seed, struct se_kpath *h, char *rec, size_t *blen)
{
	switch (rnd(seed, 8)) {
	case 0:
		if (*blen)
			rec[SE_KP_HDR + rnd(seed, (uint32_t)*blen)] = rnd(seed, 2) ? '\0' : 'x';
		break;
	case 1: h->count = (uint16_t)(h->count + rnd(seed, 3) - 1); break;
	case 2: h->len = (uint16_t)(h->len + rnd(seed, 3) - 1); break;
	case 3: h->flags = (uint16_t)rnd(seed, 256); break;
	case 4: h->root_at = (uint16_t)rnd(seed, 14); break;
	case 5: h->bind_at = (uint16_t)rnd(seed, 14); break;
	case 6: h->bind_from = (uint16_t)rnd(seed, 14); break;
	default:
		if (*blen)
			(*blen)--;
	}
}

/*
 * Random records, good ones and good ones with one change: refused or
 * decoded, never a read or write out of bounds (ASan: each in a buffer of
 * its exact size), and a decoded path always fits and is a path.
 */
static void test_random(void **state)
{
	uint32_t seed = 12345;
	unsigned decoded = 0, refused = 0;
	static char buf[SE_KP_HDR + 128];

	(void)state;
	for (unsigned iter = 0; iter < 20000; iter++) {
		size_t blen;
		struct se_kpath h = random_good(&seed, buf, &blen);
		char *rec;
		int rc;

		if (iter & 1)
			mutate(&seed, &h, buf, &blen);
		memcpy(buf, &h, SE_KP_HDR);
		rec = malloc(SE_KP_HDR + blen + 1);
		assert_non_null(rec);
		memcpy(rec, buf, SE_KP_HDR + blen);
		rc = kpath_decode(rec, SE_KP_HDR + blen, &out);
		free(rec);
		if (!(iter & 1))
			assert_int_equal(rc, 0);
		if (rc) {
			assert_int_equal(rc, -EINVAL);
			refused++;
			continue;
		}
		decoded++;
		assert_true(strlen(out.host) <= (h.len ? h.len : 1u));
		assert_true(strlen(out.via) <= (h.len ? h.len : 1u));
		assert_true(out.host[0] == '/' || (h.flags & SE_KP_F_TRUNCATED));
		assert_true(out.via[0] == (h.flags & SE_KP_F_BIND ? '/' : '\0'));
		assert_null(strstr(out.host, "//"));
		assert_null(strstr(out.via, "//"));
	}
	/* both outcomes were reached */
	assert_true(decoded > 10000 && refused > 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),	     cmocka_unit_test(test_root),
		cmocka_unit_test(test_escaped),	     cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_truncated),    cmocka_unit_test(test_bind),
		cmocka_unit_test(test_bind_escaped), cmocka_unit_test(test_bind_truncated),
		cmocka_unit_test(test_no_origin),    cmocka_unit_test(test_full),
		cmocka_unit_test(test_control),	     cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
