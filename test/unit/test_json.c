/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decimal.h"
#include "json.h"
#include "json_check.h"

/* Code point @cp as UTF-8 at @o; returns its length. */
static size_t put_utf8(unsigned char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static struct jbuf jb;

static int setup(void **state)
{
	(void)state;
	jbuf_init(&jb, 64);
	return jb.oom ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	jbuf_free(&jb);
	return 0;
}

/* jbuf_str(@in, @n) must give exactly @want; also round-trips it. */
static void check_str(const void *in, size_t n, const char *want)
{
	unsigned char *dec = malloc(n + 1);

	assert_non_null(dec);
	jbuf_reset(&jb);
	jbuf_str(&jb, in, n);
	assert_false(jb.oom);
	if (jb.len != strlen(want) || memcmp(jb.buf, want, jb.len))
		fail_msg("got %.*s want %s", (int)jb.len, jb.buf, want);
	assert_int_equal(jcheck_str_decode(jb.buf, jb.len, dec), n);
	assert_memory_equal(dec, in, n);
	free(dec);
}

#define CHECK(lit, want) check_str(lit, sizeof(lit) - 1, want)

static void test_basic_escapes(void **state)
{
	(void)state;
	check_str(NULL, 0, "\"\"");
	CHECK("", "\"\"");
	CHECK("/etc/passwd", "\"/etc/passwd\"");
	CHECK("a\"b", "\"a\\\"b\"");
	CHECK("a\\b", "\"a\\\\b\"");
	CHECK("a\nb", "\"a\\nb\"");
	CHECK("\"\\\"", "\"\\\"\\\\\\\"\"");
	CHECK("a/b", "\"a/b\""); /* '/' needs no escape */
	CHECK("x\0y", "\"x\\u0000y\"");
}

static void test_control_chars(void **state)
{
	char want[16];
	unsigned char c;

	(void)state;
	for (c = 0; c < 0x20; c++) {
		switch (c) {
		case '\b': strcpy(want, "\"\\b\""); break;
		case '\t': strcpy(want, "\"\\t\""); break;
		case '\n': strcpy(want, "\"\\n\""); break;
		case '\f': strcpy(want, "\"\\f\""); break;
		case '\r': strcpy(want, "\"\\r\""); break;
		default: snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		}
		check_str(&c, 1, want);
	}
	CHECK("\x7f", "\"\\u007f\"");
	CHECK("a\x1f"
	      "b\x7f"
	      "c",
	      "\"a\\u001fb\\u007fc\"");
	/* every printable ASCII byte but '"' and '\' is copied */
	for (c = 0x20; c < 0x7f; c++) {
		if (c == '"' || c == '\\')
			continue;
		snprintf(want, sizeof(want), "\"%c\"", c);
		check_str(&c, 1, want);
	}
}

static void test_utf8_valid(void **state)
{
	static const char *const ok[] = {
		"\xc3\xa9",	    /* é, 2 bytes */
		"\xe2\x82\xac",	    /* €, 3 bytes */
		"\xf0\x9f\x98\x80", /* 😀, 4 bytes */
		"\xc2\x80",	    /* U+0080, first 2-byte */
		"\xdf\xbf",	    /* U+07FF */
		"\xe0\xa0\x80",	    /* U+0800, first 3-byte */
		"\xed\x9f\xbf",	    /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",	    /* U+E000, just above */
		"\xef\xbf\xbf",	    /* U+FFFF */
		"\xf0\x90\x80\x80", /* U+10000, first 4-byte */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF, the last */
		"/home/j\xc3\xbcrgen/\xe6\x97\xa5\xe6\x9c\xac.txt",
	};
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(want, sizeof(want), "\"%s\"", ok[i]);
		check_str(ok[i], strlen(ok[i]), want);
	}
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	CHECK("\xff", "\"\\udcff\"");
	CHECK("\x80", "\"\\udc80\""); /* lone continuation */
	CHECK("a\xbf"
	      "b",
	      "\"a\\udcbfb\"");
	CHECK("\xc0\x80", "\"\\udcc0\\udc80\"");		       /* overlong NUL */
	CHECK("\xc1\xbf", "\"\\udcc1\\udcbf\"");		       /* overlong */
	CHECK("\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\"");	       /* overlong '/' */
	CHECK("\xf0\x8f\xbf\xbf", "\"\\udcf0\\udc8f\\udcbf\\udcbf\""); /* overlong */
	CHECK("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"");	       /* U+D800 */
	CHECK("\xed\xbf\xbf", "\"\\udced\\udcbf\\udcbf\"");	       /* U+DFFF */
	/* an encoded U+DCxx must not pass as, or pair with, our escapes */
	CHECK("\xed\xb3\xbf", "\"\\udced\\udcb3\\udcbf\"");
	CHECK("x\xe2\x82", "\"x\\udce2\\udc82\""); /* truncated at end */
	CHECK("\xe2\x82"
	      "A",
	      "\"\\udce2\\udc82A\""); /* truncated mid-string */
	CHECK("\xf0\x9f\x98", "\"\\udcf0\\udc9f\\udc98\"");
	CHECK("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""); /* > U+10FFFF */
	CHECK("\xf5\x80\x80\x80", "\"\\udcf5\\udc80\\udc80\\udc80\"");
	CHECK("\xc3\xc3\xa9", "\"\\udcc3\xc3\xa9\""); /* bad lead, then é */
	CHECK("\xc3", "\"\\udcc3\"");
	/* latin-1 name from an old tarball */
	CHECK("/tmp/caf\xe9", "\"/tmp/caf\\udce9\"");
}

/* A deterministic xorshift, so failures reproduce. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void roundtrip(const unsigned char *in, size_t n)
{
	unsigned char *dec = malloc(n + 1);

	assert_non_null(dec);
	jbuf_reset(&jb);
	jbuf_str(&jb, (const char *)in, n);
	assert_false(jb.oom);
	assert_int_equal(jcheck_str_decode(jb.buf, jb.len, dec), n);
	assert_memory_equal(dec, in, n);
	free(dec);
}

static void test_long_path(void **state)
{
	unsigned char path[4096];
	size_t i;

	(void)state;
	/* plain ASCII: copied as is */
	for (i = 0; i < sizeof(path); i++)
		path[i] = i % 16 ? (unsigned char)('a' + i % 26) : '/';
	jbuf_reset(&jb);
	jbuf_str(&jb, (const char *)path, sizeof(path));
	assert_int_equal(jb.len, sizeof(path) + 2);
	assert_memory_equal(jb.buf + 1, path, sizeof(path));
	roundtrip(path, sizeof(path));

	/* a mix of everything */
	for (i = 0; i < sizeof(path); i++)
		path[i] = (unsigned char)rnd();
	memcpy(path + 100, "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9", 9);
	roundtrip(path, sizeof(path));

	/* worst case: every byte escaped to six */
	memset(path, 0x01, sizeof(path));
	roundtrip(path, sizeof(path));
	assert_int_equal(jb.len, 6 * sizeof(path) + 2);
	memset(path, 0xff, sizeof(path));
	roundtrip(path, sizeof(path));
	assert_int_equal(jb.len, 6 * sizeof(path) + 2);
}

/* Sequences straddling the internal 4096-byte chunks, and strings of
 * several chunks appended to a buffer already in use. */
static void test_chunk_boundaries(void **state)
{
	enum { N = 3 * 4096 + 17 };
	static const char *const seqs[] = {"\xf0\x9f\x98\x80", "\xe2\x82\xac", "\xc3\xa9",
					   "\xe2\x82",	       "\x01\x01\x01", "\xff\xfe"};
	unsigned char *buf = malloc(N);
	size_t at, i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		for (at = 4090; at < 4097; at++) {
			memset(buf, 'x', N);
			memcpy(buf + at, seqs[i], strlen(seqs[i]));
			memcpy(buf + at + 4096, seqs[i], strlen(seqs[i]));
			roundtrip(buf, N);
		}
	}
	for (i = 0; i < N; i++)
		buf[i] = (unsigned char)(i % 7 ? 0x80 | rnd() : rnd() % 0x20);
	roundtrip(buf, N);

	/* appended after other content, with a fresh tiny buffer */
	jbuf_free(&jb);
	jbuf_init(&jb, 1);
	jbuf_raw(&jb, "{\"path\":", 8);
	jbuf_str(&jb, (const char *)buf, N);
	jbuf_raw(&jb, "}", 1);
	assert_false(jb.oom);
	assert_memory_equal(jb.buf, "{\"path\":\"", 9);
	assert_int_equal(jb.buf[jb.len - 1], '}');
	{
		unsigned char *dec = malloc(N);

		assert_non_null(dec);
		assert_int_equal(jcheck_str_decode(jb.buf + 8, jb.len - 9, dec), N);
		assert_memory_equal(dec, buf, N);
		free(dec);
	}
	free(buf);
}

static void test_fuzz_roundtrip(void **state)
{
	unsigned char buf[300];
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % sizeof(buf), i = 0;

		while (i < n) {
			uint32_t r = rnd();

			switch (r % 4) {
			case 0: /* any byte */ buf[i++] = (unsigned char)(r >> 8); break;
			case 1: /* ASCII */ buf[i++] = (unsigned char)((r >> 8) % 0x80); break;
			case 2: /* a high byte, often a continuation */
				buf[i++] = (unsigned char)(0x80 | (r >> 8));
				break;
			default: { /* a code point, valid or a surrogate */
				unsigned char u[4];
				size_t k = put_utf8(u, (r >> 8) % 0x110000);

				if (k > n - i)
					k = n - i;
				memcpy(buf + i, u, k);
				i += k;
			}
			}
		}
		roundtrip(buf, n);
	}
}

static void check_u64(uint64_t v)
{
	char want[32], got[DECIMAL_U64_LEN + 1];

	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_int_equal(decimal_u64(got, v), strlen(want));
	assert_string_equal(got, want);
	jbuf_reset(&jb);
	jbuf_u64(&jb, v);
	assert_int_equal(jb.len, strlen(want));
	assert_memory_equal(jb.buf, want, jb.len);

	snprintf(want, sizeof(want), "\"%llu\"", (unsigned long long)v);
	jbuf_reset(&jb);
	jbuf_u64_str(&jb, v);
	assert_int_equal(jb.len, strlen(want));
	assert_memory_equal(jb.buf, want, jb.len);
}

static void test_u64(void **state)
{
	uint64_t p = 1;
	int i;

	(void)state;
	check_u64(0);
	check_u64(1);
	check_u64(UINT64_MAX);
	check_u64(UINT64_MAX - 1);
	check_u64((uint64_t)1 << 53);
	for (i = 0; i < 20; i++, p *= 10) {
		check_u64(p - 1);
		check_u64(p);
		check_u64(p + 1);
	}
	for (i = 0; i < 10000; i++)
		check_u64((uint64_t)rnd() << 32 | rnd());

	/* tokens append */
	jbuf_reset(&jb);
	jbuf_raw(&jb, "[", 1);
	jbuf_u64(&jb, 42);
	jbuf_raw(&jb, ",", 1);
	jbuf_u64_str(&jb, 7);
	jbuf_raw(&jb, ",", 1);
	jbuf_str(&jb, "x", 1);
	jbuf_raw(&jb, "]", 1);
	assert_int_equal(jb.len, 12);
	assert_memory_equal(jb.buf, "[42,\"7\",\"x\"]", 12);
}

static void test_oom(void **state)
{
	(void)state;
	jbuf_reset(&jb);
	jbuf_raw(&jb, "x", 1);
	/* cannot fit in size_t: fails without trying to allocate */
	jbuf_raw(&jb, "", SIZE_MAX);
	assert_true(jb.oom);
	/* later appends are dropped, the buffer stays usable */
	jbuf_str(&jb, "abc", 3);
	jbuf_u64(&jb, 5);
	jbuf_u64_str(&jb, 5);
	jbuf_raw(&jb, "y", 1);
	assert_int_equal(jb.len, 1);
	assert_int_equal(jb.buf[0], 'x');
	jbuf_reset(&jb);
	assert_false(jb.oom);
	jbuf_str(&jb, "ok", 2);
	assert_int_equal(jb.len, 4);
	assert_memory_equal(jb.buf, "\"ok\"", 4);
}

static void test_init_zero(void **state)
{
	struct jbuf b;

	(void)state;
	jbuf_init(&b, 0);
	assert_null(b.buf);
	assert_false(b.oom);
	jbuf_str(&b, "a\"", 2);
	assert_false(b.oom);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.buf, "\"a\\\"\"", 5);
	jbuf_free(&b);
	assert_null(b.buf);
	jbuf_free(&b); /* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_escapes),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_fuzz_roundtrip),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_init_zero),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
