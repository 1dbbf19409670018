/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: common/utf8.c, checked against json_check.h's independent
 * decoder (code-point arithmetic, not utf8_seq()'s ranges). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_check.h"
#include "utf8.h"

static void replaced(const char *in, size_t n, const char *want)
{
	char out[64];
	size_t len;

	assert_true(n * UTF8_MAX_EXPANSION < sizeof(out));
	len = utf8_replace_invalid(in, n, out);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	assert_int_equal(out[len], '\0');
}

static void test_valid(void **state)
{
	static const char *const ok[] = {"",
					 "/etc/passwd",
					 "caf\xc3\xa9",
					 "\xe2\x82\xac",
					 "\xf0\x9f\x98\x80",
					 "\xed\x9f\xbf",
					 "\xf4\x8f\xbf\xbf",
					 "\xef\xbf\xbd"};
	static const char *const bad[] = {
		"\xff",		    /* never in UTF-8 */
		"\x80",		    /* stray continuation */
		"\xc0\xaf",	    /* overlong '/' */
		"\xe0\x80\xaf",	    /* overlong */
		"\xed\xa0\x80",	    /* surrogate U+D800 */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe2\x82",	    /* truncated */
		"ab\xc3",	    /* truncated at the end */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(utf8_valid(ok[i], strlen(ok[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(utf8_valid(bad[i], strlen(bad[i])));
	assert_true(utf8_valid("a\0b", 3)); /* NUL is U+0000 */
}

/* One U+FFFD per maximal ill-formed subpart, as Python's errors="replace"
 * (each case checked there). */
static void test_replace(void **state)
{
	(void)state;
	replaced("/etc/plain", 10, "/etc/plain");
	replaced("/ff\xff", 4, "/ff\xef\xbf\xbd");
	replaced("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	replaced("\xe2\x82x", 3, "\xef\xbf\xbdx");
	replaced("\xf0\x9f\x98", 3, "\xef\xbf\xbd");
	replaced("\xf0\x80\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	replaced("\xf4\x8f\xbf!", 4, "\xef\xbf\xbd!");
	replaced("caf\xc3\xa9\xff", 6, "caf\xc3\xa9\xef\xbf\xbd");
	replaced("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	replaced("\xf0\x9f\x98\x80\x80", 5, "\xf0\x9f\x98\x80\xef\xbf\xbd");
}

/* Random bytes: the output is always valid UTF-8, valid input comes back
 * unchanged, and utf8_valid() agrees with the independent decoder. */
static void test_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned char in[16];
	char out[16 * UTF8_MAX_EXPANSION + 1];

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t n = (size_t)(round % 16) + 1, len;
		bool valid;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly high bytes and lead bytes, where the cases are */
			in[i] = (unsigned char)(x & 1 ? 0x80 | (x >> 8) : x >> 8);
		}
		valid = utf8_valid((const char *)in, n);
		assert_int_equal(valid, jcheck_utf8_valid(in, n));
		len = utf8_replace_invalid((const char *)in, n, out);
		assert_true(jcheck_utf8_valid((const unsigned char *)out, len));
		if (valid) {
			assert_int_equal(len, n);
			assert_memory_equal(out, in, n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
