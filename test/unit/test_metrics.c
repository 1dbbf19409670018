/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the Prometheus text format writer (common/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

/* A memstream per test; render() closes it and returns the text. */
struct out {
	FILE *f;
	char *buf;
	size_t len;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
}

static char *out_text(struct out *o)
{
	assert_int_equal(fclose(o->f), 0);
	o->f = NULL;
	return o->buf;
}

static void expect_text(struct out *o, const char *want)
{
	char *got = out_text(o);

	assert_string_equal(got, want);
	free(got);
}

static void test_family_and_samples(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	metrics_family(o.f, "x_total", "counter", "Things.");
	metrics_u64(o.f, "x_total", METRICS_NO_LABELS, 0);
	metrics_u64(o.f, "x_total", METRICS_LABELS({"a", "b"}), UINT64_MAX);
	metrics_u64(o.f, "x_total", METRICS_LABELS({"a", "b"}, {"c", "d"}, {"e", "f"}, {"g", "h"}),
		    7);
	expect_text(&o, "# HELP x_total Things.\n"
			"# TYPE x_total counter\n"
			"x_total 0\n"
			"x_total{a=\"b\"} 18446744073709551615\n"
			"x_total{a=\"b\",c=\"d\",e=\"f\",g=\"h\"} 7\n");
}

static void test_escaping(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	/* HELP: \ and newline only; a quote stays as it is. */
	metrics_family(o.f, "y", "gauge", "a \\ b\nc \"q\"");
	/* Label values: \, " and newline. */
	metrics_u64(o.f, "y", METRICS_LABELS({"rule", "it \"reads\"\\x\ny"}), 1);
	/* A NULL value is an empty one. */
	metrics_u64(o.f, "y", METRICS_LABELS({"rule", NULL}), 2);
	metrics_family(o.f, "z", "untyped", NULL);
	expect_text(&o, "# HELP y a \\\\ b\\nc \"q\"\n"
			"# TYPE y gauge\n"
			"y{rule=\"it \\\"reads\\\"\\\\x\\ny\"} 1\n"
			"y{rule=\"\"} 2\n"
			"# HELP z \n"
			"# TYPE z untyped\n");
}

static void test_doubles(void **state)
{
	static const double vals[] = {0.1, 1.0 / 3, 2.5, 1e-9, 123456789.123, 1e300, -0.25};
	struct out o;
	char *text, *line, *save = NULL;
	size_t i = 0;

	(void)state;
	out_open(&o);
	metrics_double(o.f, "d", METRICS_NO_LABELS, 0.1);
	metrics_double(o.f, "d", METRICS_NO_LABELS, 1);
	metrics_double(o.f, "d", METRICS_NO_LABELS, 0.001);
	metrics_double(o.f, "d", METRICS_NO_LABELS, INFINITY);
	metrics_double(o.f, "d", METRICS_NO_LABELS, -INFINITY);
	metrics_double(o.f, "d", METRICS_NO_LABELS, NAN);
	metrics_double(o.f, "d", METRICS_LABELS({"k", "v"}), 1e21);
	expect_text(&o, "d 0.1\n"
			"d 1\n"
			"d 0.001\n"
			"d +Inf\n"
			"d -Inf\n"
			"d NaN\n"
			"d{k=\"v\"} 1e+21\n");

	/* Whatever the form, it reads back as the same double. */
	out_open(&o);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		metrics_double(o.f, "r", METRICS_NO_LABELS, vals[i]);
	text = out_text(&o);
	i = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		assert_true(i < sizeof(vals) / sizeof(vals[0]));
		assert_memory_equal(line, "r ", 2);
		assert_true(strtod(line + 2, NULL) == vals[i]);
	}
	assert_int_equal(i, sizeof(vals) / sizeof(vals[0]));
	free(text);
}

static void test_histogram(void **state)
{
	static const double bounds[] = {0.001, 0.01, 0.1, 1, 2.5};
	static const double obs[] = {0.0005, 0.001, 0.002, 0.01, 0.5, 1, 3, 100, -1};
	struct histogram h;
	struct out o;

	(void)state;
	histogram_init(&h, bounds, 5);
	assert_int_equal(h.n_bounds, 5);
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		histogram_observe(&h, obs[i]);
	histogram_observe(&h, NAN); /* not counted */
	/* v == bound is in that bucket ("le"): 0.001 and 1 and 0.01. */
	assert_int_equal(h.buckets[0], 3); /* -1, 0.0005, 0.001 */
	assert_int_equal(h.buckets[1], 2); /* 0.002, 0.01 */
	assert_int_equal(h.buckets[2], 0);
	assert_int_equal(h.buckets[3], 2); /* 0.5, 1 */
	assert_int_equal(h.buckets[4], 0);
	assert_int_equal(h.buckets[5], 2); /* 3, 100 */
	assert_int_equal(h.count, 9);

	out_open(&o);
	metrics_family(o.f, "lat_seconds", "histogram", "Latency.");
	metrics_histogram(o.f, "lat_seconds", METRICS_LABELS({"op", "a\"b"}), &h);
	/* sum = 0.0005+0.001+0.002+0.01+0.5+1+3+100-1 = 103.5135 */
	expect_text(&o, "# HELP lat_seconds Latency.\n"
			"# TYPE lat_seconds histogram\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"0.001\"} 3\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"0.01\"} 5\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"0.1\"} 5\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"1\"} 7\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"2.5\"} 7\n"
			"lat_seconds_bucket{op=\"a\\\"b\",le=\"+Inf\"} 9\n"
			"lat_seconds_sum{op=\"a\\\"b\"} 103.5135\n"
			"lat_seconds_count{op=\"a\\\"b\"} 9\n");

	/* No labels; an empty histogram. */
	histogram_init(&h, bounds, 2);
	out_open(&o);
	metrics_histogram(o.f, "e", METRICS_NO_LABELS, &h);
	expect_text(&o, "e_bucket{le=\"0.001\"} 0\n"
			"e_bucket{le=\"0.01\"} 0\n"
			"e_bucket{le=\"+Inf\"} 0\n"
			"e_sum 0\n"
			"e_count 0\n");
}

static void test_histogram_bounds(void **state)
{
	static const double messy[] = {1, 0.5, 1, NAN, 2, INFINITY, 3};
	double many[HISTOGRAM_MAX_BOUNDS + 5];
	struct histogram h;

	(void)state;
	/* Out of order, repeated and non-finite bounds are skipped. */
	histogram_init(&h, messy, 7);
	assert_int_equal(h.n_bounds, 3);
	assert_true(h.bounds[0] == 1 && h.bounds[1] == 2 && h.bounds[2] == 3);

	for (unsigned i = 0; i < HISTOGRAM_MAX_BOUNDS + 5; i++)
		many[i] = i + 1;
	histogram_init(&h, many, HISTOGRAM_MAX_BOUNDS + 5);
	assert_int_equal(h.n_bounds, HISTOGRAM_MAX_BOUNDS);
	histogram_observe(&h, HISTOGRAM_MAX_BOUNDS + 1); /* above the last kept bound */
	assert_int_equal(h.buckets[HISTOGRAM_MAX_BOUNDS], 1);

	/* No bounds at all: everything is in +Inf. */
	histogram_init(&h, NULL, 0);
	histogram_observe(&h, 5);
	assert_int_equal(h.buckets[0], 1);
	assert_int_equal(h.count, 1);
}

/* The value of an unlabelled sample @name in @text; -1 when absent. */
static double sample(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void test_process(void **state)
{
	static const char *const families[] = {
		"process_cpu_seconds_total",
		"process_virtual_memory_bytes",
		"process_resident_memory_bytes",
		"process_start_time_seconds",
		"process_open_fds",
		"process_max_fds",
	};
	struct out o;
	char *text, want[128];
	double start;

	(void)state;
	out_open(&o);
	metrics_process(o.f);
	text = out_text(&o);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(want, sizeof(want), "# TYPE %s %s\n", families[i],
			 i == 0 ? "counter" : "gauge");
		if (!strstr(text, want))
			fail_msg("missing \"%s\" in:\n%s", want, text);
	}
	assert_true(sample(text, "process_cpu_seconds_total") >= 0);
	assert_true(sample(text, "process_resident_memory_bytes") > 1024 * 1024);
	assert_true(sample(text, "process_virtual_memory_bytes") >=
		    sample(text, "process_resident_memory_bytes"));
	/* stdin, stdout, stderr at least; and not the directory being read. */
	assert_true(sample(text, "process_open_fds") >= 3);
	assert_true(sample(text, "process_max_fds") > 0);
	/* Started within the last day (and not in the future). */
	start = sample(text, "process_start_time_seconds");
	assert_true(start > (double)time(NULL) - 86400 && start <= (double)time(NULL) + 1);
	free(text);
}

static double open_fds(void)
{
	struct out o;
	char *text;
	double n;

	out_open(&o);
	metrics_process(o.f);
	text = out_text(&o);
	n = sample(text, "process_open_fds");
	free(text);
	return n;
}

static void test_process_fds_exact(void **state)
{
	int fds[3];
	double before, after;

	(void)state;
	before = open_fds();
	for (int i = 0; i < 3; i++)
		assert_true((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	after = open_fds();
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	assert_true(after == before + 3);
	assert_true(open_fds() == before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_bounds),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_process_fds_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
