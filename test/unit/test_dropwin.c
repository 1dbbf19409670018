/* SPDX-License-Identifier: Apache-2.0 */
/* The drop rate behind /readyz: window, floor, sampling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dropwin.h"

#define S 1000000000ull

/* One lost record among 49 on an idle node is 2 %: below the floor, 0. */
static void test_floor(void **state)
{
	struct dropwin w = {0};

	(void)state;
	assert_true(dropwin_ratio(&w, 1 * S, 0, 0) == 0.0);
	assert_true(dropwin_ratio(&w, 2 * S, 1, 48) == 0.0);
	assert_true(dropwin_ratio(&w, 3 * S, DROPWIN_MIN_LOST - 1, 48) == 0.0);
	/* at the floor the rate counts: 100 lost, 48 handled */
	assert_float_equal(dropwin_ratio(&w, 4 * S, DROPWIN_MIN_LOST, 48),
			   (double)DROPWIN_MIN_LOST / (DROPWIN_MIN_LOST + 48), 1e-12);
}

/* Only the last DROPWIN_S seconds count: an old burst of loss ages out. */
static void test_window(void **state)
{
	struct dropwin w = {0};
	uint64_t t = 100 * S, lost = 0, handled = 0;

	(void)state;
	dropwin_ratio(&w, t, lost, handled);
	lost += 1000;
	handled += 9000;
	t += S;
	assert_float_equal(dropwin_ratio(&w, t, lost, handled), 0.1, 1e-12);
	/* quiet seconds: still in the window until DROPWIN_S have passed */
	for (int i = 1; i < DROPWIN_S; i++) {
		handled += 100;
		t += S;
		assert_true(dropwin_ratio(&w, t, lost, handled) > 0.0);
	}
	handled += 100;
	t += S;
	assert_true(dropwin_ratio(&w, t, lost, handled) == 0.0);
}

/* Calls more often than once a second keep the oldest sample: the window
 * is not shortened by a busy caller (the reader publishes every 100 ms). */
static void test_sampling(void **state)
{
	struct dropwin w = {0};
	uint64_t t = 5 * S;

	(void)state;
	dropwin_ratio(&w, t, 0, 0);
	for (int i = 1; i <= 50; i++)
		dropwin_ratio(&w, t + (uint64_t)i * (S / 10), (uint64_t)i * 10, (uint64_t)i * 90);
	/* 5 s of 100 ms calls: 500 lost, 4500 handled, all in the window */
	assert_float_equal(dropwin_ratio(&w, t + 5 * S, 500, 4500), 0.1, 1e-12);
	assert_int_equal(w.n, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_sampling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
