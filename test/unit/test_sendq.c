/* SPDX-License-Identifier: Apache-2.0 */
/* sendq: ordering, batching bytes, acknowledgements, rewind, drop-oldest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "sendq.h"

/* Entries with an odd seq are writes, even ones reads. */
static enum ev_type type_of(uint64_t seq)
{
	return seq % 2 ? EV_FILE_WRITE : EV_FILE_READ;
}

static enum sendq_push_result push(struct sendq *q, uint64_t seq, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	char id[SENDQ_ID_LEN + 1];

	assert_non_null(d);
	memset(d, (int)('a' + seq % 26), len);
	enum sendq_push_result r;

	snprintf(id, sizeof(id), "%036llu", (unsigned long long)seq);
	r = sendq_push(q, seq, type_of(seq), d, (uint32_t)len, id, clock_mono_ns());
	free(d); /* the queue keeps a copy */
	return r;
}

/*
 * Every entry leaves once and is counted under its own type: pushed ==
 * acked + dropped + rejected + held, per type, and the per-type counts add
 * up to the totals. Odd seqs are writes. A queue of 4, all sent: 5 drops 1
 * (sent before), 6 drops 5 and 7 drops 6 (never sent); 2 and 3 are acked,
 * 4 is rejected, 7 is held.
 */
static void test_counts_by_type(void **state)
{
	struct sendq q;
	struct sendq_stats st;
	const struct sendq_type_stats *w = &st.type[EV_FILE_WRITE], *r = &st.type[EV_FILE_READ];
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;
	uint64_t seq;
	char id[SENDQ_ID_LEN + 1];

	(void)state;
	assert_int_equal(sendq_init(&q, 4), 0);
	for (uint64_t s = 1; s <= 4; s++)
		push(&q, s, 1);
	assert_int_equal(sendq_take(&q, 4, 1, &out, &cap, &len), 4);
	for (uint64_t s = 5; s <= 7; s++)
		push(&q, s, 1);
	sendq_ack_seq(&q, 3);
	assert_int_equal(sendq_reject_oldest(&q, &seq, id), 1);
	assert_int_equal(seq, 4);
	sendq_get_stats(&q, &st);
	/* writes 1 3 5 7: 3 acked, 1 and 5 dropped (1 sent before), 7 held */
	assert_int_equal(w->pushed, 4);
	assert_int_equal(w->acked, 1);
	assert_int_equal(w->dropped, 2);
	assert_int_equal(w->dropped_unacked, 1);
	assert_int_equal(w->rejected, 0);
	assert_int_equal(sendq_type_held(w), 1);
	/* reads 2 4 6: 2 acked, 4 rejected, 6 dropped unsent */
	assert_int_equal(r->pushed, 3);
	assert_int_equal(r->acked, 1);
	assert_int_equal(r->dropped, 1);
	assert_int_equal(r->dropped_unacked, 0);
	assert_int_equal(r->rejected, 1);
	assert_int_equal(sendq_type_held(r), 0);
	assert_int_equal(st.acked, w->acked + r->acked);
	assert_int_equal(st.dropped, w->dropped + r->dropped);
	assert_int_equal(st.dropped_unacked, w->dropped_unacked + r->dropped_unacked);
	assert_int_equal(st.rejected, w->rejected + r->rejected);
	assert_int_equal(st.depth, sendq_type_held(w) + sendq_type_held(r));
	free(out);
	sendq_free(&q);
}

static void test_batch_encoding(void **state)
{
	struct sendq q;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0, n;
	uint64_t age;

	(void)state;
	assert_int_equal(sendq_init(&q, 8), 0);
	push(&q, 1, 3);
	push(&q, 2, 200); /* length needs a 2-byte varint */
	assert_int_equal(sendq_unsent(&q, UINT64_MAX, &age), 2);
	n = sendq_take(&q, 10, 1, &out, &cap, &len);
	assert_int_equal(n, 2);
	/* field 1 length-delimited: 0x0a len bytes... */
	assert_int_equal(len, 2 + 3 + 3 + 200);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 'b');
	assert_int_equal(out[5], 0x0a);
	assert_int_equal(out[6], 200 | 0x80);
	assert_int_equal(out[7], 1);
	assert_int_equal(out[8], 'c');
	assert_int_equal(sendq_unsent(&q, UINT64_MAX, &age), 0);
	free(out);
	sendq_free(&q);
}

static void test_single_mode_takes_one(void **state)
{
	struct sendq q;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;

	(void)state;
	assert_int_equal(sendq_init(&q, 8), 0);
	push(&q, 1, 4);
	push(&q, 2, 4);
	assert_int_equal(sendq_take(&q, 10, 0, &out, &cap, &len), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "bbbb", 4);
	free(out);
	sendq_free(&q);
}

static void test_ack_and_rewind(void **state)
{
	struct sendq q;
	struct sendq_stats st;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;
	char id[SENDQ_ID_LEN + 1];

	(void)state;
	assert_int_equal(sendq_init(&q, 16), 0);
	for (uint64_t s = 1; s <= 6; s++)
		push(&q, s, 2);
	assert_int_equal(sendq_take(&q, 4, 1, &out, &cap, &len), 4);
	sendq_ack_seq(&q, 2);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.acked, 2);
	assert_int_equal(st.depth, 4);
	assert_int_equal(st.unsent, 2);
	/* an ack beyond what was sent acknowledges only what was sent */
	sendq_ack_seq(&q, 100);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.acked, 4);
	assert_int_equal(st.depth, 2);
	/* send 5, break: rewind makes 5 unsent again */
	assert_int_equal(sendq_take(&q, 1, 1, &out, &cap, &len), 1);
	assert_int_equal(sendq_rewind(&q), 1);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.unsent, 2);
	assert_int_equal(st.resent, 1);
	/* ack by event id, in order */
	assert_int_equal(sendq_take(&q, 2, 1, &out, &cap, &len), 2);
	snprintf(id, sizeof(id), "%036llu", 6ULL);
	sendq_ack_event_id(&q, id);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.acked, 6);
	/* an unknown id acknowledges nothing */
	push(&q, 7, 1);
	assert_int_equal(sendq_take(&q, 1, 1, &out, &cap, &len), 1);
	sendq_ack_event_id(&q, "nope");
	sendq_get_stats(&q, &st);
	assert_int_equal(st.depth, 1);
	free(out);
	sendq_free(&q);
}

/* The refusal guard's drop: only the oldest entry that was sent, in flight
 * or rewound, counted as rejected; pushed == acked + dropped + rejected +
 * depth. */
static void test_reject_oldest(void **state)
{
	struct sendq q;
	struct sendq_stats st;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;
	char id[SENDQ_ID_LEN + 1];
	uint64_t seq = 0;

	(void)state;
	assert_int_equal(sendq_init(&q, 8), 0);
	for (uint64_t s = 1; s <= 3; s++)
		push(&q, s, 2);
	/* nothing sent yet: nothing to reject */
	assert_int_equal(sendq_oldest_sent(&q, &seq), 0);
	assert_int_equal(sendq_reject_oldest(&q, &seq, id), 0);
	/* in flight */
	assert_int_equal(sendq_take(&q, 1, 1, &out, &cap, &len), 1);
	assert_int_equal(sendq_oldest_sent(&q, &seq), 1);
	assert_int_equal(seq, 1);
	assert_int_equal(sendq_reject_oldest(&q, &seq, id), 1);
	assert_int_equal(seq, 1);
	assert_string_equal(id, "000000000000000000000000000000000001");
	/* rewound: the first unsent was sent before */
	assert_int_equal(sendq_take(&q, 1, 1, &out, &cap, &len), 1);
	assert_int_equal(sendq_rewind(&q), 1);
	assert_int_equal(sendq_reject_oldest(&q, &seq, id), 1);
	assert_int_equal(seq, 2);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.depth, 1);
	assert_int_equal(st.acked + st.dropped + st.rejected + st.depth, 3);
	/* the never-sent 3 stays */
	assert_int_equal(sendq_reject_oldest(&q, &seq, id), 0);
	free(out);
	sendq_free(&q);
}

static void test_full_drops_oldest(void **state)
{
	struct sendq q;
	struct sendq_stats st;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;

	(void)state;
	assert_int_equal(sendq_init(&q, 3), 0);
	push(&q, 1, 1);
	push(&q, 2, 1);
	assert_int_equal(sendq_take(&q, 2, 0, &out, &cap, &len), 1); /* 1 sent */
	push(&q, 3, 1);
	/* the oldest unsent goes, not 1, which is in flight */
	assert_int_equal(push(&q, 4, 1), SENDQ_DROPPED_UNSENT); /* 2 */
	assert_int_equal(push(&q, 5, 1), SENDQ_DROPPED_UNSENT); /* 3 */
	sendq_get_stats(&q, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.dropped_unacked, 0);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.unsent, 2);
	assert_int_equal(sendq_take(&q, 1, 0, &out, &cap, &len), 1);
	assert_int_equal(out[0], 'e'); /* seq 4 */
	sendq_ack_seq(&q, 4);
	sendq_get_stats(&q, &st);
	assert_int_equal(st.acked, 2); /* 1 and 4 */
	assert_int_equal(st.depth, 1);
	/* all in flight: then the oldest of those goes */
	push(&q, 6, 1);
	push(&q, 7, 1);
	assert_int_equal(sendq_take(&q, 3, 1, &out, &cap, &len), 3);
	assert_int_equal(push(&q, 8, 1), SENDQ_DROPPED_UNACKED); /* 5 */
	sendq_get_stats(&q, &st);
	assert_int_equal(st.dropped_unacked, 1);
	/* rewind puts 6, 7 back first, in order, before 8 */
	assert_int_equal(sendq_rewind(&q), 2);
	assert_int_equal(sendq_take(&q, 3, 0, &out, &cap, &len), 1);
	assert_int_equal(out[0], 'g'); /* seq 6 */
	assert_int_equal(sendq_take(&q, 3, 1, &out, &cap, &len), 2);
	assert_int_equal(out[2], 'h'); /* 0x0a, length 1, seq 7 */
	assert_int_equal(out[5], 'i'); /* seq 8 */
	sendq_ack_seq(&q, 8);
	sendq_get_stats(&q, &st);
	assert_int_equal(8, st.acked + st.dropped + st.depth);
	assert_int_equal(st.depth, 0);
	free(out);
	sendq_free(&q);
}

/* Sent once, then rewound: still "maybe delivered" when dropped. Every
 * entry leaves once: pushed == acked + dropped + depth. */
static void test_drop_kinds(void **state)
{
	struct sendq q;
	struct sendq_stats st;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;

	(void)state;
	assert_int_equal(sendq_init(&q, 2), 0);
	assert_int_equal(push(&q, 1, 1), SENDQ_KEPT);
	assert_int_equal(push(&q, 2, 1), SENDQ_KEPT);
	assert_int_equal(sendq_take(&q, 2, 1, &out, &cap, &len), 2);
	assert_int_equal(sendq_rewind(&q), 2);
	assert_int_equal(push(&q, 3, 1), SENDQ_DROPPED_UNACKED);     /* 1 */
	assert_int_equal(sendq_take(&q, 2, 1, &out, &cap, &len), 2); /* 2 again, 3 */
	sendq_ack_seq(&q, 2);
	assert_int_equal(push(&q, 4, 1), SENDQ_KEPT);
	assert_int_equal(sendq_rewind(&q), 1);			 /* 3 */
	assert_int_equal(push(&q, 5, 1), SENDQ_DROPPED_UNACKED); /* 3 */
	assert_int_equal(push(&q, 6, 1), SENDQ_DROPPED_UNSENT);	 /* 4 */
	sendq_get_stats(&q, &st);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(st.dropped_unacked, 2);
	assert_int_equal(st.acked, 1);
	assert_int_equal(6, st.acked + st.dropped + st.depth);
	free(out);
	sendq_free(&q);
}

/*
 * Buffers are reused (agent/sendq.h): through many rounds of push, take and
 * ack, with sizes from empty to far past SENDQ_BUF_MIN (a small spare grown
 * for a big entry), every entry comes out with its own bytes and length,
 * and no more than SENDQ_SPARES buffers are kept.
 */
static void test_recycled_buffers(void **state)
{
	static const size_t lens[] = {0, 1, 300, SENDQ_BUF_MIN, SENDQ_BUF_MIN + 1, 5000, 17};
	struct sendq q;
	uint8_t *out = NULL;
	size_t cap = 0, len = 0;
	uint64_t seq = 1;

	(void)state;
	assert_int_equal(sendq_init(&q, 64), 0);
	for (int round = 0; round < 50; round++) {
		size_t n = 1 + (size_t)round % 40;

		for (size_t i = 0; i < n; i++)
			assert_int_equal(push(&q, seq + i, lens[(seq + i) % 7]), SENDQ_KEPT);
		for (size_t i = 0; i < n; i++) {
			size_t want = lens[(seq + i) % 7];

			assert_int_equal(sendq_take(&q, 1, 0, &out, &cap, &len), 1);
			assert_int_equal(len, want);
			for (size_t k = 0; k < want; k++)
				assert_int_equal(out[k], 'a' + (seq + i) % 26);
		}
		sendq_ack_seq(&q, seq + n - 1);
		seq += n;
		assert_true(q.n_spare <= SENDQ_SPARES);
	}
	assert_true(q.n_spare > 0);
	free(out);
	sendq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_by_type),
		cmocka_unit_test(test_batch_encoding),
		cmocka_unit_test(test_single_mode_takes_one),
		cmocka_unit_test(test_ack_and_rewind),
		cmocka_unit_test(test_full_drops_oldest),
		cmocka_unit_test(test_drop_kinds),
		cmocka_unit_test(test_reject_oldest),
		cmocka_unit_test(test_recycled_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
