/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pb_envelope_encode() must write exactly the bytes protobuf-c's own
 * packer writes for the same EventEnvelope: random envelopes (empty and
 * NULL strings, lengths across the varint boundaries, zero and huge
 * numbers, up to PB_ENVELOPE_DATA_MAX entries) are encoded both ways and
 * compared, then decoded back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.pb-c.h"
#include "pb_envelope.h"

#define STR_MAX 20000 /* past 16383: a three-byte length */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A string of a length that exercises the encoding: NULL, empty, short,
 * around 127/128 and 16383/16384, or long. */
static char *rand_str(char *pool)
{
	static const size_t lens[] = {0, 1, 5, 36, 127, 128, 129, 300, 16383, 16384, 19999};
	size_t n;

	switch (next() % 8) {
	case 0: return NULL;
	case 1: n = lens[next() % (sizeof(lens) / sizeof(lens[0]))]; break;
	default: n = next() % 64; break;
	}
	for (size_t i = 0; i < n; i++)
		pool[i] = (char)(1 + next() % 255); /* any byte but NUL */
	pool[n] = '\0';
	return pool;
}

static uint64_t rand_u64(void)
{
	switch (next() % 4) {
	case 0: return 0;
	case 1: return next() % 128;
	case 2: return UINT64_MAX - next() % 3;
	default: return next() >> (next() % 64);
	}
}

static void check_one(void)
{
	enum { N_LOW = 7 };
	static char pool[N_LOW + 2 * PB_ENVELOPE_DATA_MAX][STR_MAX + 1];
	const char *keys[PB_ENVELOPE_DATA_MAX], *vals[PB_ENVELOPE_DATA_MAX];
	Sentinel__V1__EventEnvelope env = SENTINEL__V1__EVENT_ENVELOPE__INIT, *back;
	Sentinel__V1__EventEnvelope__DataEntry d[PB_ENVELOPE_DATA_MAX], *dp[PB_ENVELOPE_DATA_MAX];
	struct pb_envelope m = {0};
	size_t want_len, got_len, p = 0;
	uint8_t *want, *got;

	m.event_id = rand_str(pool[p++]);
	m.hostname = rand_str(pool[p++]);
	m.pod_name = rand_str(pool[p++]);
	m.namespace_ = rand_str(pool[p++]);
	m.container_id = rand_str(pool[p++]);
	m.event_type = rand_str(pool[p++]);
	m.agent_id = rand_str(pool[p++]);
	m.n_data = next() % (PB_ENVELOPE_DATA_MAX + 1);
	for (size_t i = 0; i < m.n_data; i++) {
		keys[i] = rand_str(pool[p++]);
		vals[i] = rand_str(pool[p++]);
		sentinel__v1__event_envelope__data_entry__init(&d[i]);
		d[i].key = (char *)(keys[i] ? keys[i] : "");
		d[i].value = (char *)(vals[i] ? vals[i] : "");
		dp[i] = &d[i];
	}
	m.keys = keys;
	m.vals = vals;
	m.ts_unix_nano = rand_u64();
	m.seq = rand_u64();

	env.event_id = (char *)m.event_id;
	env.hostname = (char *)m.hostname;
	env.pod_name = (char *)m.pod_name;
	env.namespace_ = (char *)m.namespace_;
	env.container_id = (char *)m.container_id;
	env.event_type = (char *)m.event_type;
	env.agent_id = (char *)m.agent_id;
	env.n_data = m.n_data;
	env.data = dp;
	env.ts_unix_nano = m.ts_unix_nano;
	env.seq = m.seq;
	want_len = sentinel__v1__event_envelope__get_packed_size(&env);
	want = malloc(want_len + 1);
	got = malloc(want_len + 1);
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(sentinel__v1__event_envelope__pack(&env, want), want_len);

	/* Too small by one: the length, nothing written. */
	memset(got, 0xa5, want_len + 1);
	if (want_len) {
		assert_int_equal(pb_envelope_encode(&m, got, want_len - 1), want_len);
		for (size_t i = 0; i <= want_len; i++)
			assert_int_equal(got[i], 0xa5);
	}
	got_len = pb_envelope_encode(&m, got, want_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_int_equal(got[want_len], 0xa5);

	back = sentinel__v1__event_envelope__unpack(NULL, got_len, got);
	assert_non_null(back);
	assert_int_equal(back->n_data, m.n_data);
	assert_int_equal(back->seq, m.seq);
	assert_int_equal(back->ts_unix_nano, m.ts_unix_nano);
	assert_string_equal(back->event_id, m.event_id ? m.event_id : "");
	for (size_t i = 0; i < m.n_data; i++)
		assert_string_equal(back->data[i]->value, vals[i] ? vals[i] : "");
	sentinel__v1__event_envelope__free_unpacked(back, NULL);
	free(want);
	free(got);
}

static void test_same_bytes_as_protobuf_c(void **state)
{
	(void)state;
	for (int i = 0; i < 3000; i++)
		check_one();
}

/* Entries past PB_ENVELOPE_DATA_MAX are not sent (the caller's bound). */
static void test_data_bound(void **state)
{
	const char *kv[PB_ENVELOPE_DATA_MAX + 3];
	struct pb_envelope m = {.keys = kv, .vals = kv, .n_data = PB_ENVELOPE_DATA_MAX + 3};
	Sentinel__V1__EventEnvelope *back;
	uint8_t buf[4096];
	size_t n;

	(void)state;
	for (size_t i = 0; i < PB_ENVELOPE_DATA_MAX + 3; i++)
		kv[i] = "k";
	n = pb_envelope_encode(&m, buf, sizeof(buf));
	assert_true(n <= sizeof(buf));
	back = sentinel__v1__event_envelope__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(back->n_data, PB_ENVELOPE_DATA_MAX);
	sentinel__v1__event_envelope__free_unpacked(back, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_as_protobuf_c),
		cmocka_unit_test(test_data_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
