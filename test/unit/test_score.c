/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the detector's reference scorer and registry (detector/score.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonw.h"
#include "latency.h"
#include "score.h"
#include "telemetry.h"

static const char *const env_vars[] = {"DETECTOR_SENSITIVE_PREFIXES", "DETECTOR_HIGH_WRITE_BYTES",
				       "DETECTOR_ALLOWED_COMMS"};

static int clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	return 0;
}

static void *init_ok(void)
{
	char err[256] = "";
	void *st = NULL;

	if (scorer_reference.init(&st, err, sizeof(err)) != 0)
		fail_msg("unexpected init error: %s", err);
	return st;
}

static void init_fails(const char *want)
{
	char err[256] = "";
	void *st = (void *)1;

	assert_int_equal(scorer_reference.init(&st, err, sizeof(err)), -1);
	assert_null(st);
	assert_string_equal(err, want);
}

/* Scores one event of @type with the @n data entries @keys = @vals. */
static struct verdict score_data(void *st, const char *type, const char *const *keys,
				 const char *const *vals, size_t n)
{
	Sentinel__V1__EventEnvelope ev = SENTINEL__V1__EVENT_ENVELOPE__INIT;
	Sentinel__V1__EventEnvelope__DataEntry d[4], *dp[4];
	struct verdict v;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		sentinel__v1__event_envelope__data_entry__init(&d[i]);
		d[i].key = (char *)keys[i];
		d[i].value = (char *)vals[i];
		dp[i] = &d[i];
	}
	ev.event_id = "e1";
	ev.event_type = (char *)type;
	ev.data = dp;
	ev.n_data = n;
	memset(&v, 0, sizeof(v));
	scorer_reference.score(st, &ev, &v);
	return v;
}

/* Scores one event; @bytes NULL leaves data.bytes out. */
static struct verdict score(void *st, const char *type, const char *filename, const char *comm,
			    const char *bytes)
{
	const char *keys[3] = {"filename", "comm", "bytes"};
	const char *vals[3] = {filename, comm, bytes};

	return score_data(st, type, keys, vals, bytes ? 3 : 2);
}

static void expect_none(struct verdict v)
{
	assert_false(v.anomaly);
	assert_true(v.score == 0.0);
	assert_string_equal(v.reason, "");
	assert_null(v.code);
}

static void test_sensitive_write(void **state)
{
	void *st = init_ok();
	struct verdict v = score(st, "file_write", "/etc/passwd", "vim", "10");

	(void)state;
	assert_true(v.anomaly);
	assert_true(v.score == 0.9);
	assert_string_equal(v.reason, "sensitive_path_write: /etc");
	assert_string_equal(v.code, "sensitive_path_write");
	/* the prefix itself, and a deeper path under another default */
	assert_true(score(st, "file_write", "/etc", "vim", "1").anomaly);
	v = score(st, "file_write", "/usr/lib/x.so", "vim", "1");
	assert_string_equal(v.reason, "sensitive_path_write: /usr");
	scorer_reference.destroy(st);
}

/* Truncations and writable shared mappings under a sensitive prefix: the
 * same rule as writes, their own code; no high_write_bytes for them (a
 * mapping's length or a cut is no write). */
static void test_sensitive_changes(void **state)
{
	void *st;
	struct verdict v;

	(void)state;
	setenv("DETECTOR_HIGH_WRITE_BYTES", "10", 1);
	setenv("DETECTOR_ALLOWED_COMMS", "logrotate", 1);
	st = init_ok();
	v = score(st, "file_truncate", "/etc/sudoers", "sh", "0");
	assert_true(v.anomaly);
	assert_true(v.score == 0.9);
	assert_string_equal(v.reason, "sensitive_path_truncate: /etc");
	assert_string_equal(v.code, "sensitive_path_truncate");
	v = score(st, "file_mmap", "/usr/bin/su", "x", "1000000");
	assert_string_equal(v.reason, "sensitive_path_mmap: /usr");
	assert_string_equal(v.code, "sensitive_path_mmap");
	expect_none(score(st, "file_truncate", "/var/log/syslog", "sh", "1000000"));
	expect_none(score(st, "file_mmap", "/tmp/x", "sh", "1000000"));
	expect_none(score(st, "file_truncate", "/etc/x", "logrotate", "1"));
	expect_none(score(st, "file_open", "/etc/x", "sh", "1"));
	scorer_reference.destroy(st);
}

/* Renames and links: flagged when either name is under a sensitive prefix
 * (mv into /etc, a watched file given away to /tmp). */
static void test_sensitive_names(void **state)
{
	static const char *const keys[3] = {"filename", "comm", "source"};
	const char *into[3] = {"/etc/sudoers", "mv", "/tmp/x"};
	const char *away[3] = {"/tmp/h", "ln", "/etc/shadow"};
	const char *neither[3] = {"/tmp/b", "mv", "/tmp/a"};
	const char *allowed[3] = {"/etc/x", "dpkg", "/etc/x.new"};
	void *st;
	struct verdict v;

	(void)state;
	setenv("DETECTOR_ALLOWED_COMMS", "dpkg", 1);
	st = init_ok();
	v = score_data(st, "file_rename", keys, into, 3);
	assert_true(v.anomaly);
	assert_true(v.score == 0.9);
	assert_string_equal(v.reason, "sensitive_path_rename: /etc");
	assert_string_equal(v.code, "sensitive_path_rename");
	v = score_data(st, "file_link", keys, away, 3);
	assert_string_equal(v.reason, "sensitive_path_link: /etc");
	assert_string_equal(v.code, "sensitive_path_link");
	expect_none(score_data(st, "file_rename", keys, neither, 3));
	expect_none(score_data(st, "file_rename", keys, allowed, 3));
	/* the source counts for new names only */
	expect_none(score_data(st, "file_write", keys, away, 3));
	scorer_reference.destroy(st);
}

static void test_component_boundary(void **state)
{
	void *st = init_ok();

	(void)state;
	expect_none(score(st, "file_write", "/etcx", "vim", "1"));
	expect_none(score(st, "file_write", "/etcx/passwd", "vim", "1"));
	expect_none(score(st, "file_write", "/tmp/etc/passwd", "vim", "1"));
	expect_none(score(st, "file_write", "/usrlocal", "vim", "1"));
	scorer_reference.destroy(st);
}

/* A name too deep for the agent's walk (flagged filename_truncated, only
 * its last components, relative): it may lie under any sensitive prefix. */
static void test_truncated_name(void **state)
{
	const char *keys[3] = {"filename", "comm", "filename_truncated"};
	const char *vals[3] = {"d/e/f", "sh", "true"};
	void *st = init_ok();
	struct verdict v = score_data(st, "file_write", keys, vals, 3);

	(void)state;
	assert_true(v.anomaly);
	assert_string_equal(v.reason, "sensitive_path_write: (unknown: name truncated)");
	/* Not flagged: a relative name is no sensitive path. */
	expect_none(score(st, "file_write", "d/e/f", "sh", "1"));
	scorer_reference.destroy(st);
}

static void test_allowed_comm(void **state)
{
	void *st;

	(void)state;
	setenv("DETECTOR_ALLOWED_COMMS", " dpkg , apt,sentinel-workload", 1);
	st = init_ok();
	expect_none(score(st, "file_write", "/etc/passwd", "dpkg", "10"));
	expect_none(score(st, "file_write", "/etc/passwd", "apt", "10"));
	/* long names compare as the kernel truncates comms: 15 characters */
	expect_none(score(st, "file_write", "/etc/passwd", "sentinel-worklo", "10"));
	assert_true(score(st, "file_write", "/etc/passwd", "dpk", "10").anomaly);
	assert_true(score(st, "file_write", "/etc/passwd", "apt-get", "10").anomaly);
	scorer_reference.destroy(st);
}

static void test_reads_never(void **state)
{
	void *st;

	(void)state;
	setenv("DETECTOR_HIGH_WRITE_BYTES", "0", 1);
	st = init_ok();
	expect_none(score(st, "file_read", "/etc/shadow", "cat", "99999999999"));
	expect_none(score(st, "", "/etc/shadow", "cat", "1"));
	scorer_reference.destroy(st);
}

static void test_high_write_bytes(void **state)
{
	void *st = init_ok();
	struct verdict v;

	(void)state;
	expect_none(score(st, "file_write", "/tmp/big", "dd", "10485760"));
	v = score(st, "file_write", "/tmp/big", "dd", "10485761");
	assert_true(v.anomaly);
	assert_true(v.score == 0.7);
	assert_string_equal(v.reason, "high_write_bytes: 10485761 > 10485760");
	assert_string_equal(v.code, "high_write_bytes");
	/* no or unparsable byte count: no opinion */
	expect_none(score(st, "file_write", "/tmp/big", "dd", NULL));
	expect_none(score(st, "file_write", "/tmp/big", "dd", "lots"));
	expect_none(score(st, "file_write", "/tmp/big", "dd", "-20000000"));
	scorer_reference.destroy(st);

	setenv("DETECTOR_HIGH_WRITE_BYTES", "100", 1);
	st = init_ok();
	v = score(st, "file_write", "/tmp/x", "dd", "101");
	assert_string_equal(v.reason, "high_write_bytes: 101 > 100");
	scorer_reference.destroy(st);
}

static void test_both_rules(void **state)
{
	void *st = init_ok();
	struct verdict v = score(st, "file_write", "/boot/vmlinuz", "dd", "20000000");

	(void)state;
	assert_true(v.anomaly);
	assert_true(v.score == 0.9);
	assert_string_equal(v.reason,
			    "sensitive_path_write: /boot; high_write_bytes: 20000000 > 10485760");
	/* one anomaly, one code: the rule that set the score */
	assert_string_equal(v.code, "sensitive_path_write");
	scorer_reference.destroy(st);
}

static void test_custom_prefixes(void **state)
{
	void *st;
	struct verdict v;

	(void)state;
	/* trailing slashes and blanks are tolerated; the longest prefix is named */
	setenv("DETECTOR_SENSITIVE_PREFIXES", "/srv/data/, /srv ,,", 1);
	st = init_ok();
	v = score(st, "file_write", "/srv/data/x", "a", "1");
	assert_string_equal(v.reason, "sensitive_path_write: /srv/data");
	v = score(st, "file_write", "/srv/other", "a", "1");
	assert_string_equal(v.reason, "sensitive_path_write: /srv");
	expect_none(score(st, "file_write", "/etc/passwd", "a", "1"));
	scorer_reference.destroy(st);

	/* empty: the rule is off */
	setenv("DETECTOR_SENSITIVE_PREFIXES", "", 1);
	st = init_ok();
	expect_none(score(st, "file_write", "/etc/passwd", "a", "1"));
	scorer_reference.destroy(st);

	setenv("DETECTOR_SENSITIVE_PREFIXES", "/", 1);
	st = init_ok();
	v = score(st, "file_write", "/anything", "a", "1");
	assert_string_equal(v.reason, "sensitive_path_write: /");
	expect_none(score(st, "file_write", "relative", "a", "1"));
	scorer_reference.destroy(st);
}

static void test_env_errors(void **state)
{
	(void)state;
	setenv("DETECTOR_SENSITIVE_PREFIXES", "/etc,usr", 1);
	init_fails("DETECTOR_SENSITIVE_PREFIXES: \"usr\" is not an absolute path");
	unsetenv("DETECTOR_SENSITIVE_PREFIXES");

	setenv("DETECTOR_HIGH_WRITE_BYTES", "10MB", 1);
	init_fails("DETECTOR_HIGH_WRITE_BYTES: \"10MB\" is not a non-negative integer (bytes)");
	setenv("DETECTOR_HIGH_WRITE_BYTES", "-1", 1);
	init_fails("DETECTOR_HIGH_WRITE_BYTES: \"-1\" is not a non-negative integer (bytes)");
	setenv("DETECTOR_HIGH_WRITE_BYTES", "", 1);
	init_fails("DETECTOR_HIGH_WRITE_BYTES: \"\" is not a non-negative integer (bytes)");
	setenv("DETECTOR_HIGH_WRITE_BYTES", "99999999999999999999999", 1);
	init_fails("DETECTOR_HIGH_WRITE_BYTES: \"99999999999999999999999\" is not a "
		   "non-negative integer (bytes)");
}

static void dummy_score(void *st, const Sentinel__V1__EventEnvelope *ev, struct verdict *out)
{
	(void)st;
	(void)ev;
	out->anomaly = true;
	out->score = 1;
}

static void test_registry(void **state)
{
	static const struct scorer_ops mine = {.name = "mine", .score = dummy_score};
	static const struct scorer_ops dup = {.name = "reference", .score = dummy_score};

	(void)state;
	assert_ptr_equal(scorer_find("reference"), &scorer_reference);
	assert_ptr_equal(scorer_at(0), &scorer_reference);
	assert_null(scorer_find("mine"));
	assert_int_equal(scorer_register(&mine), 0);
	assert_ptr_equal(scorer_find("mine"), &mine);
	assert_int_equal(scorer_register(&mine), -1);
	assert_int_equal(scorer_register(&dup), -1);
	assert_null(scorer_at(2));
}

/* The detector's JSON lines carry hostile strings (filenames): escaped,
 * always valid UTF-8. */
static void test_json_escape(void **state)
{
	struct jw j = {0};

	(void)state;
	jw_begin(&j);
	jw_kv_str(&j, "a", "q\"b\\n\nt\tc\x01\x7f");
	jw_kv_str(&j, "utf8", "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	jw_kv_str(&j, "bad", "\xff\xc3(\xed\xa0\x80\xc0\xaf\xe2\x82");
	jw_kv_str(&j, "null", NULL);
	jw_obj_open(&j, "o");
	jw_kv_str(&j, "k", "v");
	jw_obj_close(&j);
	jw_end(&j);
	assert_true(jw_ok(&j));
	{
		const char *want = "{\"a\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u007f\","
				   "\"utf8\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
				   "\"bad\":\"\\udcff\\udcc3(\\udced\\udca0\\udc80\\udcc0\\udcaf"
				   "\\udce2\\udc82\",\"null\":\"\",\"o\":{\"k\":\"v\"}}\n";

		assert_int_equal(j.b.len, strlen(want));
		assert_memory_equal(j.b.buf, want, strlen(want));
	}
	jw_free(&j);
}

/* Syscall -> receipt latency quantiles, 100 us buckets. */
static void test_latency_quantiles(void **state)
{
	static struct latency_hist h;
	const uint64_t t0 = 1795862347000000000ULL;

	(void)state;
	latency_reset(&h);
	assert_true(latency_quantile_ms(&h, 0.5) < 0);
	for (int i = 0; i < 98; i++)
		latency_add(&h, t0, t0 + 2500000); /* 2.5 ms -> bucket ending 2.6 */
	latency_add(&h, t0, t0 + 40000000);	   /* 40 ms */
	latency_add(&h, t0, t0 - 1);		   /* clock skew: overflow */
	assert_int_equal(h.n, 100);
	assert_true(latency_quantile_ms(&h, 0.50) > 2.59 && latency_quantile_ms(&h, 0.50) < 2.61);
	assert_true(latency_quantile_ms(&h, 0.99) > 40.09 && latency_quantile_ms(&h, 0.99) < 40.11);
	assert_true(latency_quantile_ms(&h, 1.0) >= 1e9);
	latency_add(&h, t0, t0 + 5000000000ULL); /* beyond 1 s */
	assert_int_equal(h.over, 2);
}

/* The reference scorer declares the codes it sets (shown at 0 up front). */
static void test_reference_codes(void **state)
{
	(void)state;
	assert_non_null(scorer_reference.codes);
	assert_string_equal(scorer_reference.codes[0], "sensitive_path_write");
	assert_string_equal(scorer_reference.codes[1], "high_write_bytes");
	assert_string_equal(scorer_reference.codes[2], "sensitive_path_truncate");
	assert_string_equal(scorer_reference.codes[3], "sensitive_path_mmap");
	assert_string_equal(scorer_reference.codes[4], "sensitive_path_rename");
	assert_string_equal(scorer_reference.codes[5], "sensitive_path_link");
	assert_null(scorer_reference.codes[6]);
}

/* The /metrics body for a known snapshot. */
static void test_telemetry_render(void **state)
{
	static const double bounds[] = {0.001, 0.01};
	static const char *const want[] = {
		"# TYPE sentinel_detector_events_total counter\nsentinel_detector_events_total 5\n",
		"sentinel_detector_build_info{version=\"" SENTINEL_VERSION "\"} 1\n",
		"# TYPE sentinel_detector_anomalies_total counter\n"
		"sentinel_detector_anomalies_total{reason=\"sensitive_path_write\"} 2\n"
		"sentinel_detector_anomalies_total{reason=\"other\"} 1\n",
		"sentinel_detector_reports_total 7\n",
		"sentinel_detector_decode_errors_total 1\n",
		"sentinel_detector_streams_opened_total 4\n",
		"# TYPE sentinel_detector_streams_active gauge\nsentinel_detector_streams_active "
		"2\n",
		"# TYPE sentinel_detector_event_latency_seconds histogram\n"
		"sentinel_detector_event_latency_seconds_bucket{le=\"0.001\"} 1\n"
		"sentinel_detector_event_latency_seconds_bucket{le=\"0.01\"} 1\n"
		"sentinel_detector_event_latency_seconds_bucket{le=\"+Inf\"} 2\n"
		"sentinel_detector_event_latency_seconds_sum 0.5005\n"
		"sentinel_detector_event_latency_seconds_count 2\n",
		"# TYPE process_open_fds gauge\n",
	};
	struct server_stats st = {
		.events = 5,
		.anomalies = 3,
		.reports = 7,
		.decode_errors = 1,
		.streams_opened = 4,
		.streams_active = 2,
		.n_codes = 2,
		.codes = {{"sensitive_path_write", 2}, {"other", 1}},
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	histogram_init(&st.latency, bounds, 2);
	histogram_observe(&st.latency, 0.0005);
	histogram_observe(&st.latency, 0.5);
	telemetry_render(f, &st);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("missing:\n%s\nin:\n%s", want[i], text);
	free(text);
}

/* An envelope as the server gets it: packed, then unpacked (here with
 * protobuf-c's default allocator; envelope_restore_bytes() writes in place,
 * so the server's arena works the same). */
static Sentinel__V1__EventEnvelope *wire_envelope(const char *const kv[][2], size_t n)
{
	Sentinel__V1__EventEnvelope ev = SENTINEL__V1__EVENT_ENVELOPE__INIT;
	Sentinel__V1__EventEnvelope__DataEntry d[6], *dp[6];
	uint8_t buf[512];
	size_t len;

	assert_true(n <= 6);
	for (size_t i = 0; i < n; i++) {
		sentinel__v1__event_envelope__data_entry__init(&d[i]);
		d[i].key = (char *)kv[i][0];
		d[i].value = (char *)kv[i][1];
		dp[i] = &d[i];
	}
	ev.n_data = n;
	ev.data = dp;
	len = sentinel__v1__event_envelope__get_packed_size(&ev);
	assert_true(len <= sizeof(buf));
	sentinel__v1__event_envelope__pack(&ev, buf);
	return sentinel__v1__event_envelope__unpack(NULL, len, buf);
}

static void restores(const char *const kv[][2], size_t n, int want_n, const char *want_name,
		     const char *want_comm)
{
	Sentinel__V1__EventEnvelope *ev = wire_envelope(kv, n);

	assert_non_null(ev);
	assert_int_equal(envelope_restore_bytes(ev), want_n);
	assert_string_equal(envelope_data(ev, "filename"), want_name);
	if (want_comm)
		assert_string_equal(envelope_data(ev, "comm"), want_comm);
	sentinel__v1__event_envelope__free_unpacked(ev, NULL);
}

/* Names that are not UTF-8 arrive as text with U+FFFD plus their bytes in
 * hex (agent/sink_grpc.c); the detector scores and logs the real bytes. */
static void test_restore_bytes(void **state)
{
	const char *const both[][2] = {{"filename", "/etc/a\xef\xbf\xbd"},
				       {"comm", "x\xef\xbf\xbd\xef\xbf\xbdy"},
				       {"filename_hex", "2f6574632f61ff"},
				       {"comm_hex", "78C0AF79"}};
	const char *const valid[][2] = {{"filename", "/tmp/plain"}};
	/* an attacker's hex that disagrees with the text: the text stays */
	const char *const other[][2] = {{"filename", "/tmp/\xef\xbf\xbd"},
					{"filename_hex", "2f6574632fff"}};
	const char *const odd[][2] = {{"filename", "/x\xef\xbf\xbd"}, {"filename_hex", "2f78f"}};
	const char *const nonhex[][2] = {{"filename", "/x\xef\xbf\xbd"},
					 {"filename_hex", "2f78zz"}};
	const char *const nul[][2] = {{"filename", "/x\x01"}, {"filename_hex", "2f7800"}};
	const char *const longer[][2] = {{"filename", "ab"}, {"filename_hex", "616263"}};
	const char *const no_text[][2] = {{"filename_hex", "2f"}, {"filename", "/"}};
	/* empty values arrive as protobuf-c's static "": never freed (fuzz find) */
	const char *const empty[][2] = {{"filename", ""}, {"filename_hex", ""}};

	(void)state;
	restores(both, 4, 2, "/etc/a\xff", "x\xc0\xafy");
	restores(valid, 1, 0, "/tmp/plain", NULL);
	restores(other, 2, 0, "/tmp/\xef\xbf\xbd", NULL);
	restores(odd, 2, 0, "/x\xef\xbf\xbd", NULL);
	restores(nonhex, 2, 0, "/x\xef\xbf\xbd", NULL);
	restores(nul, 2, 0, "/x\x01", NULL);
	restores(longer, 2, 0, "ab", NULL);
	restores(no_text, 2, 1, "/", NULL); /* valid hex of a valid name: same bytes */
	restores(empty, 2, 0, "", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_quantiles),
		cmocka_unit_test_setup(test_sensitive_write, clear_env),
		cmocka_unit_test_setup(test_component_boundary, clear_env),
		cmocka_unit_test_setup(test_sensitive_changes, clear_env),
		cmocka_unit_test_setup(test_sensitive_names, clear_env),
		cmocka_unit_test_setup(test_allowed_comm, clear_env),
		cmocka_unit_test_setup(test_truncated_name, clear_env),
		cmocka_unit_test_setup(test_reads_never, clear_env),
		cmocka_unit_test_setup(test_high_write_bytes, clear_env),
		cmocka_unit_test_setup(test_both_rules, clear_env),
		cmocka_unit_test_setup(test_custom_prefixes, clear_env),
		cmocka_unit_test_setup(test_env_errors, clear_env),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_reference_codes),
		cmocka_unit_test(test_telemetry_render),
		cmocka_unit_test(test_restore_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
