/* SPDX-License-Identifier: Apache-2.0 */
/* The bump allocator behind the detector's unpacking (common/arena.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

/* Allocations are aligned, distinct, and keep what was written. */
static void test_alloc(void **state)
{
	struct arena a;
	unsigned char *p[300];

	(void)state;
	arena_init(&a, 4096);
	for (int i = 0; i < 300; i++) {
		p[i] = arena_alloc(&a, (size_t)(i % 37) + 1);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], i & 0xff, (size_t)(i % 37) + 1);
	}
	for (int i = 0; i < 300; i++)
		for (int k = 0; k <= i % 37; k++)
			assert_int_equal(p[i][k], i & 0xff);
	arena_free(&a);
}

/* A request larger than a chunk gets its own; the chunk being filled
 * keeps filling; a reset keeps one standard chunk and reuses it. */
static void test_big_and_reset(void **state)
{
	struct arena a;
	unsigned char *small, *big, *after, *again;

	(void)state;
	arena_init(&a, 1024);
	small = arena_alloc(&a, 100);
	big = arena_alloc(&a, 1 << 20);
	after = arena_alloc(&a, 100);
	assert_non_null(small);
	assert_non_null(big);
	memset(big, 0xab, 1 << 20);
	/* still the first chunk: right after small */
	assert_ptr_equal(after, small + 112);
	arena_reset(&a);
	again = arena_alloc(&a, 100);
	assert_ptr_equal(again, small);
	/* an absurd size fails instead of wrapping */
	assert_null(arena_alloc(&a, SIZE_MAX - 8));
	arena_free(&a);
	/* a big allocation into an empty arena, then small ones */
	arena_init(&a, 1024);
	assert_non_null(arena_alloc(&a, 5000));
	assert_non_null(arena_alloc(&a, 10));
	arena_reset(&a);
	arena_reset(&a);
	assert_non_null(arena_alloc(&a, 10));
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_big_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
