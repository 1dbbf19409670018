/* SPDX-License-Identifier: Apache-2.0 */
/* detwatch: when the agent says the detector is unreachable or does not
 * acknowledge, on made-up times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "detwatch.h"

#define S 1000000000ULL
#define MS 1000000ULL

/* The first failed attempt is said at once; later ones at most once per
 * DETWATCH_LOG_NS, with the count since the last line; a failure is a fall
 * into TRANSIENT_FAILURE, not every look at it; up again resets. */
static void test_unreachable(void **state)
{
	struct detwatch w;
	uint64_t t = 5 * S;

	(void)state;
	detwatch_init(&w, 30 * S);
	assert_int_equal(detwatch_channel(&w, DETWATCH_CONNECTING, t), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + 1 * MS),
			 DETWATCH_SAY_UNREACHABLE);
	assert_int_equal(w.failures_said, 1);
	assert_int_equal(w.down_since_ns, t + 1 * MS);
	/* still failing: the same attempt */
	assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + 2 * MS), DETWATCH_SAY_NOTHING);
	assert_int_equal(w.failures, 1);
	/* gRPC's backoff: three more attempts within the interval */
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(detwatch_channel(&w, DETWATCH_CONNECTING, t + i * S),
				 DETWATCH_SAY_NOTHING);
		assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + i * S + MS),
				 DETWATCH_SAY_NOTHING);
	}
	assert_int_equal(w.failures, 4);
	/* the interval is over: said at the next look, with the three */
	assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + 1 * MS + DETWATCH_LOG_NS),
			 DETWATCH_SAY_UNREACHABLE);
	assert_int_equal(w.failures_said, 3);
	assert_int_equal(w.down_since_ns, t + 1 * MS);
	/* nothing new to say: silence even past another interval */
	assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + 3 * DETWATCH_LOG_NS),
			 DETWATCH_SAY_NOTHING);
	/* up, then down again: said at once */
	assert_int_equal(detwatch_channel(&w, DETWATCH_READY, t + 100 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(w.down_since_ns, 0);
	assert_int_equal(detwatch_channel(&w, DETWATCH_FAILURE, t + 101 * S),
			 DETWATCH_SAY_UNREACHABLE);
	assert_int_equal(w.failures_said, 1);
	assert_int_equal(w.failures, 5);
}

/* Sent events unanswered past the timeout while connected: said at once,
 * repeated every DETWATCH_LOG_NS, and "again" when an answer comes. */
static void test_not_acking(void **state)
{
	struct detwatch w;
	uint64_t t = 1 * S;

	(void)state;
	detwatch_init(&w, 10 * S);
	/* a healthy detector: answers keep coming */
	for (int i = 0; i < 50; i++)
		assert_int_equal(detwatch_acks(&w, 128, (uint64_t)i * 128, true, t + i * S),
				 DETWATCH_SAY_NOTHING);
	assert_false(w.stalled);
	/* then none: waiting since the last answer (t + 49 s); 9.9 s is
	 * still in time */
	t += 49 * S;
	assert_int_equal(detwatch_acks(&w, 256, 49 * 128, true, t + 1 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_unacked_ns(&w, t + 9900 * MS), 9900 * MS);
	assert_int_equal(detwatch_acks(&w, 256, 49 * 128, true, t + 9900 * MS),
			 DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_acks(&w, 4096, 49 * 128, true, t + 10 * S),
			 DETWATCH_SAY_NOT_ACKING);
	assert_true(w.stalled);
	assert_int_equal(w.outstanding, 4096);
	assert_int_equal(detwatch_acks(&w, 4096, 49 * 128, true, t + 11 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_acks(&w, 4096, 49 * 128, true, t + 10 * S + DETWATCH_LOG_NS),
			 DETWATCH_SAY_NOT_ACKING);
	/* one answer: said, and the clock restarts for what is still owed */
	assert_int_equal(detwatch_acks(&w, 4000, 49 * 128 + 96, true, t + 60 * S),
			 DETWATCH_SAY_ACKING_AGAIN);
	assert_false(w.stalled);
	assert_int_equal(detwatch_unacked_ns(&w, t + 61 * S), 1 * S);
	assert_int_equal(detwatch_acks(&w, 0, 49 * 128 + 4096, true, t + 62 * S),
			 DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_unacked_ns(&w, t + 63 * S), 0);
}

/* A detector that is down is not held to account for answers (that is
 * the reachability fault); a stall survives a reconnect until an answer. */
static void test_acks_while_down(void **state)
{
	struct detwatch w;

	(void)state;
	detwatch_init(&w, 10 * S);
	assert_int_equal(detwatch_acks(&w, 500, 0, false, 1 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_acks(&w, 500, 0, false, 100 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_unacked_ns(&w, 100 * S), 0);
	/* connected: the clock starts now */
	assert_int_equal(detwatch_acks(&w, 500, 0, true, 101 * S), DETWATCH_SAY_NOTHING);
	assert_int_equal(detwatch_acks(&w, 500, 0, true, 111 * S), DETWATCH_SAY_NOT_ACKING);
	/* the stream breaks and comes back (re-sent): still stalled */
	assert_int_equal(detwatch_acks(&w, 0, 0, false, 112 * S), DETWATCH_SAY_NOTHING);
	assert_true(w.stalled);
	assert_int_equal(detwatch_acks(&w, 500, 0, true, 113 * S), DETWATCH_SAY_NOTHING);
	assert_true(w.stalled);
	/* nothing owed is not an answer either */
	assert_int_equal(detwatch_acks(&w, 0, 0, true, 114 * S), DETWATCH_SAY_NOTHING);
	assert_true(w.stalled);
	assert_int_equal(detwatch_acks(&w, 0, 500, true, 115 * S), DETWATCH_SAY_ACKING_AGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_not_acking),
		cmocka_unit_test(test_acks_while_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
