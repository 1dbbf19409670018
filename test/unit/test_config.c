/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: agent config loading (agent/config.c over common/yamldoc.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes @text to a file in tmpdir; returns its path (static buffer). */
static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static void assert_defaults(const struct agent_config *c)
{
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->health.port, 9101);
	assert_string_equal(c->health.bind_address, "0.0.0.0");
	assert_true(c->metrics.enabled);
	assert_int_equal(c->metrics.port, 9102);
	assert_string_equal(c->metrics.bind_address, "0.0.0.0");
	assert_int_equal(c->health.detector_grace_s, 30);
	assert_true(c->health.max_kernel_drop_ratio == 0.01);
	assert_int_equal(c->health.stall_s, 10);
	assert_string_equal(c->rules_file, "/etc/sentinel-ebpf/rules.yaml");
	assert_false(c->allow_empty_rules);
	assert_int_equal(c->stream.mode, STREAM_STDOUT);
	assert_int_equal(c->stream.batch_size, 128);
	assert_int_equal(c->stream.queue_length, 65536);
	assert_string_equal(c->grpc.endpoint, "localhost:50051");
	assert_int_equal(c->grpc.ack_timeout_s, 30);
	assert_false(c->grpc.tls.enabled);
	assert_string_equal(c->grpc.tls.ca_file, "");
	assert_string_equal(c->grpc.tls.cert_file, "");
	assert_string_equal(c->grpc.tls.key_file, "");
	assert_int_equal(c->probe.transport, PROBE_TRANSPORT_AUTO);
	assert_int_equal(c->probe.ringbuf_kib, 16384);
	assert_int_equal(c->probe.perf_pages_per_cpu, 256);
	assert_int_equal(c->probe.fd_table_size, 262144);
	assert_int_equal(c->probe.drain_interval_ms, 10);
	assert_int_equal(c->probe.rate_limit.events_per_s, 0);
	assert_int_equal(c->probe.rate_limit.burst, 0);
	assert_int_equal(c->probe.rate_limit.report_s, 10);
	assert_true(c->pods.enabled);
	assert_int_equal(c->pods.n_bundle_paths, 3);
	assert_string_equal(
		c->pods.bundle_paths[0],
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json");
}

/* Loads @text expecting failure with exactly @want; checks c is the defaults. */
static void expect_error(const char *text, const char *want)
{
	struct agent_config c;
	char err[512];

	assert_int_equal(config_load_string(&c, text, "t.yaml", err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_defaults(&c);
	config_free(&c);
}

static void test_defaults(void **state)
{
	struct agent_config c;

	(void)state;
	config_defaults(&c);
	assert_defaults(&c);
	config_free(&c);
	/* config_free leaves a zeroed struct: a second free is harmless */
	config_free(&c);
	assert_null(c.rules_file);
}

static void test_empty_string(void **state)
{
	struct agent_config c;
	char err[256] = "untouched";

	(void)state;
	assert_int_equal(config_load_string(&c, "", "t.yaml", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_defaults(&c);
	config_free(&c);
	assert_int_equal(config_load_string(&c, "# only a comment\n\n", NULL, err, sizeof(err)), 0);
	assert_defaults(&c);
	config_free(&c);
	/* an explicit empty document is null: the same as empty */
	assert_int_equal(config_load_string(&c, "---\n", NULL, err, sizeof(err)), 0);
	assert_defaults(&c);
	config_free(&c);
}

static void test_empty_file(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_load_file(&c, write_tmp("empty.yaml", ""), err, sizeof(err)), 0);
	assert_defaults(&c);
	config_free(&c);
}

static const char full_config[] = "logLevel: debug\n"
				  "health:\n"
				  "  port: 8081\n"
				  "  bindAddress: 127.0.0.1\n"
				  "  detectorGraceSeconds: 0\n"
				  "  maxKernelDropRatio: 0.25\n"
				  "  stallSeconds: 3600\n"
				  "metrics:\n"
				  "  enabled: false\n"
				  "  port: 0\n"
				  "  bindAddress: \"::1\"\n"
				  "rulesFile: /opt/rules.yaml\n"
				  "allowEmptyRules: true\n"
				  "stream:\n"
				  "  mode: grpc\n"
				  "  batchSize: 65536\n"
				  "  queueLength: 16777216\n"
				  "grpc:\n"
				  "  endpoint: collector:4317\n"
				  "  ackTimeoutSeconds: 3600\n"
				  "  tls:\n"
				  "    enabled: true\n"
				  "    caFile: /etc/ca.pem\n"
				  "    certFile: /etc/cert.pem\n"
				  "    keyFile: \"/etc/key file.pem\"\n"
				  "probe:\n"
				  "  transport: perf\n"
				  "  ringBufferKiB: 1048576\n"
				  "  perfBufferPagesPerCpu: 1\n"
				  "  fdTableSize: 1024\n"
				  "  drainIntervalMs: 1000\n"
				  "  rateLimit:\n"
				  "    eventsPerSecond: 1000000\n"
				  "    burst: 100000000\n"
				  "    reportIntervalSeconds: 3600\n"
				  "pods:\n"
				  "  enabled: false\n"
				  "  bundlePaths: [\"/b/{id}.json\", \"/with space/{id}/c\"]\n";

static void assert_full(const struct agent_config *c)
{
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->health.port, 8081);
	assert_string_equal(c->health.bind_address, "127.0.0.1");
	assert_int_equal(c->health.detector_grace_s, 0);
	assert_true(c->health.max_kernel_drop_ratio == 0.25);
	assert_int_equal(c->health.stall_s, 3600);
	assert_false(c->metrics.enabled);
	assert_int_equal(c->metrics.port, 0);
	assert_string_equal(c->metrics.bind_address, "::1");
	assert_string_equal(c->rules_file, "/opt/rules.yaml");
	assert_true(c->allow_empty_rules);
	assert_int_equal(c->stream.mode, STREAM_GRPC);
	assert_int_equal(c->stream.batch_size, 65536);
	assert_int_equal(c->stream.queue_length, 16777216);
	assert_string_equal(c->grpc.endpoint, "collector:4317");
	assert_int_equal(c->grpc.ack_timeout_s, 3600);
	assert_true(c->grpc.tls.enabled);
	assert_string_equal(c->grpc.tls.ca_file, "/etc/ca.pem");
	assert_string_equal(c->grpc.tls.cert_file, "/etc/cert.pem");
	assert_string_equal(c->grpc.tls.key_file, "/etc/key file.pem");
	assert_int_equal(c->probe.transport, PROBE_TRANSPORT_PERF);
	assert_int_equal(c->probe.ringbuf_kib, 1048576);
	assert_int_equal(c->probe.perf_pages_per_cpu, 1);
	assert_int_equal(c->probe.fd_table_size, 1024);
	assert_int_equal(c->probe.drain_interval_ms, 1000);
	assert_int_equal(c->probe.rate_limit.events_per_s, 1000000);
	assert_int_equal(c->probe.rate_limit.burst, 100000000);
	assert_int_equal(c->probe.rate_limit.report_s, 3600);
	assert_false(c->pods.enabled);
	assert_int_equal(c->pods.n_bundle_paths, 2);
	assert_string_equal(c->pods.bundle_paths[0], "/b/{id}.json");
	assert_string_equal(c->pods.bundle_paths[1], "/with space/{id}/c");
}

static void test_every_key(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(
		config_load_file(&c, write_tmp("full.yaml", full_config), err, sizeof(err)), 0);
	assert_full(&c);
	config_free(&c);
}

static void test_overlay_keeps_other_defaults(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_load_string(&c,
					    "probe:\n  transport: ringbuf\n"
					    "grpc: {tls: {enabled: true}}\n"
					    "health:\n", /* null section: defaults */
					    "t.yaml", err, sizeof(err)),
			 0);
	assert_int_equal(c.probe.transport, PROBE_TRANSPORT_RINGBUF);
	assert_int_equal(c.probe.ringbuf_kib, 16384);
	assert_true(c.grpc.tls.enabled);
	assert_string_equal(c.grpc.endpoint, "localhost:50051");
	assert_int_equal(c.health.port, 9101);
	assert_int_equal(c.log_level, LOG_INFO);
	config_free(&c);
}

static void test_pods(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	/* an empty list turns bundle reading off but stays valid */
	assert_int_equal(
		config_load_string(&c, "pods: {bundlePaths: []}\n", "t.yaml", err, sizeof(err)), 0);
	assert_true(c.pods.enabled);
	assert_int_equal(c.pods.n_bundle_paths, 0);
	config_free(&c);
	expect_error("pods:\n  bundlePaths:\n    - relative/{id}\n",
		     "t.yaml:3:7: pods.bundlePaths: expected an absolute path (at most 1024 "
		     "bytes) with exactly one {id}, got string \"relative/{id}\"");
	expect_error("pods:\n  bundlePaths:\n    - /no/placeholder\n",
		     "t.yaml:3:7: pods.bundlePaths: expected an absolute path (at most 1024 "
		     "bytes) with exactly one {id}, got string \"/no/placeholder\"");
	expect_error("pods:\n  bundlePaths:\n    - /{id}/{id}\n",
		     "t.yaml:3:7: pods.bundlePaths: expected an absolute path (at most 1024 "
		     "bytes) with exactly one {id}, got string \"/{id}/{id}\"");
	expect_error("pods:\n  bundlePaths: /a/{id}\n",
		     "t.yaml:2:16: pods.bundlePaths: expected a sequence, got string \"/a/{id}\"");
	expect_error("pods:\n  bundlePaths:\n    - /{id}\n    - [x]\n",
		     "t.yaml:4:7: pods.bundlePaths: expected a string, got a sequence");
	expect_error("pods:\n  bundlePaths:\n    - /1/{id}\n    - /2/{id}\n    - /3/{id}\n"
		     "    - /4/{id}\n    - /5/{id}\n    - /6/{id}\n    - /7/{id}\n    - /8/{id}\n"
		     "    - /9/{id}\n",
		     "t.yaml:3:5: pods.bundlePaths: at most 8 paths, got 9");
	expect_error("pods: {enabled: yes}\n",
		     "t.yaml:1:17: pods.enabled: expected true or false, got string \"yes\"");
	expect_error("pods: {bundlepaths: []}\n",
		     "t.yaml:1:8: pods: unknown key \"bundlepaths\" (allowed: enabled, "
		     "bundlePaths)");
}

static void test_log_levels(void **state)
{
	static const struct {
		const char *text;
		enum log_level want;
	} cases[] = {
		{"logLevel: debug", LOG_DEBUG}, {"logLevel: info", LOG_INFO},
		{"logLevel: warn", LOG_WARN},	{"logLevel: warning", LOG_WARN},
		{"logLevel: error", LOG_ERROR},
	};
	struct agent_config c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config_load_string(&c, cases[i].text, "t", err, sizeof(err)), 0);
		assert_int_equal(c.log_level, cases[i].want);
		config_free(&c);
	}
	expect_error(
		"logLevel: loud",
		"t.yaml:1:11: logLevel: expected debug, info, warn or error, got string \"loud\"");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("logLevel: info\nbogus: 1\n",
		     "t.yaml:2:1: unknown key \"bogus\" (allowed: logLevel, health, metrics, "
		     "rulesFile, allowEmptyRules, stream, grpc, probe, pods)");
	expect_error("health:\n  port: 80\n  prot: 81\n",
		     "t.yaml:3:3: health: unknown key \"prot\" (allowed: port, bindAddress, "
		     "detectorGraceSeconds, maxKernelDropRatio, stallSeconds)");
	expect_error("grpc:\n  tls:\n    enabled: true\n    ca: x\n",
		     "t.yaml:4:5: grpc.tls: unknown key \"ca\" (allowed: enabled, caFile, "
		     "certFile, keyFile)");
	expect_error("probe: {transport: auto, ringBufferKib: 64}\n",
		     "t.yaml:1:26: probe: unknown key \"ringBufferKib\" (allowed: transport, "
		     "ringBufferKiB, perfBufferPagesPerCpu, fdTableSize, drainIntervalMs, "
		     "rateLimit)");
	expect_error("probe:\n  rateLimit:\n    eventsPerSec: 10\n",
		     "t.yaml:3:5: probe.rateLimit: unknown key \"eventsPerSec\" (allowed: "
		     "eventsPerSecond, burst, reportIntervalSeconds)");
	/* keys are case-sensitive: only the documented camelCase */
	expect_error("LogLevel: info\n",
		     "t.yaml:1:1: unknown key \"LogLevel\" (allowed: logLevel, health, metrics, "
		     "rulesFile, allowEmptyRules, stream, grpc, probe, pods)");
	expect_error("stream:\n  batchSize: 1\n  batchSize: 2\n",
		     "t.yaml:3:3: stream: duplicate key \"batchSize\" (first at line 2)");
	expect_error("? [a]\n: 1\n", "t.yaml:1:3: expected a string key, got a sequence");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_error(
		"health:\n  port: abc\n",
		"t.yaml:2:9: health.port: expected an integer in 0..65535, got string \"abc\"");
	expect_error(
		"health:\n  port: \"9101\"\n",
		"t.yaml:2:9: health.port: expected an integer in 0..65535, got string \"9101\"");
	expect_error("health:\n  port: 70000\n",
		     "t.yaml:2:9: health.port: expected an integer in 0..65535, got 70000");
	expect_error("metrics:\n  port: 65536\n",
		     "t.yaml:2:9: metrics.port: expected an integer in 0..65535, got 65536");
	expect_error(
		"health:\n  maxKernelDropRatio: 1.5\n",
		"t.yaml:2:23: health.maxKernelDropRatio: expected a number from 0 to 1, got 1.5");
	expect_error("health:\n  maxKernelDropRatio: 1%\n",
		     "t.yaml:2:23: health.maxKernelDropRatio: expected a number from 0 to 1, got "
		     "string \"1%\"");
	expect_error("health:\n  maxKernelDropRatio: [0]\n",
		     "t.yaml:2:23: health.maxKernelDropRatio: expected a number from 0 to 1, got a "
		     "sequence");
	expect_error("health:\n  stallSeconds: 0\n",
		     "t.yaml:2:17: health.stallSeconds: expected an integer in 1..3600, got 0");
	expect_error("health:\n  port: -1\n",
		     "t.yaml:2:9: health.port: expected an integer in 0..65535, got -1");
	expect_error("health:\n  port: 1.5\n",
		     "t.yaml:2:9: health.port: expected an integer in 0..65535, got 1.5");
	expect_error("health:\n  port: 99999999999999999999\n",
		     "t.yaml:2:9: health.port: expected an integer in 0..65535, "
		     "got 99999999999999999999");
	expect_error("health:\n  port: 010\n",
		     "t.yaml:2:9: health.port: expected an integer without leading zeros, got 010");
	expect_error("health:\n  port:\n",
		     "t.yaml:2:8: health.port: expected an integer in 0..65535, got null");
	expect_error("health: [9101]\n", "t.yaml:1:9: health: expected a mapping, got a sequence");
	expect_error("grpc:\n  tls: on\n",
		     "t.yaml:2:8: grpc.tls: expected a mapping, got string \"on\"");
	expect_error("- a\n", "t.yaml:1:1: expected a mapping, got a sequence");
	expect_error("just text\n", "t.yaml:1:1: expected a mapping, got string \"just text\"");
	expect_error("rulesFile: [a, b]\n",
		     "t.yaml:1:12: rulesFile: expected a string, got a sequence");
	expect_error("grpc:\n  tls:\n    caFile:\n",
		     "t.yaml:3:12: grpc.tls.caFile: expected a string, got null");
	expect_error("health:\n  bindAddress: \"a\\0b\"\n",
		     "t.yaml:2:16: health.bindAddress: expected a string without NUL bytes, "
		     "got string \"a\\x00b\"");
	expect_error("metrics:\n  enabled: yes\n",
		     "t.yaml:2:12: metrics.enabled: expected true or false, got string \"yes\"");
	expect_error("metrics:\n  enabled: \"true\"\n",
		     "t.yaml:2:12: metrics.enabled: expected true or false, got string \"true\"");
	expect_error("metrics:\n  enabled: 1\n",
		     "t.yaml:2:12: metrics.enabled: expected true or false, got 1");
	expect_error("stream:\n  mode: kafka\n",
		     "t.yaml:2:9: stream.mode: expected grpc or stdout, got string \"kafka\"");
	expect_error("stream:\n  batchSize: 0\n",
		     "t.yaml:2:14: stream.batchSize: expected an integer in 1..65536, got 0");
	expect_error("stream:\n  queueLength: 16777217\n",
		     "t.yaml:2:16: stream.queueLength: expected an integer in 1..16777216, "
		     "got 16777217");
	expect_error("grpc:\n  ackTimeoutSeconds: 0\n",
		     "t.yaml:2:22: grpc.ackTimeoutSeconds: expected an integer in 1..3600, got 0");
	expect_error("allowEmptyRules: yes\n",
		     "t.yaml:1:18: allowEmptyRules: expected true or false, got string \"yes\"");
	expect_error("probe:\n  transport: xdp\n",
		     "t.yaml:2:14: probe.transport: expected auto, ringbuf or perf, got string "
		     "\"xdp\"");
	expect_error("probe:\n  ringBufferKiB: 100\n",
		     "t.yaml:2:18: probe.ringBufferKiB: expected a power of two in 64..1048576, "
		     "got 100");
	expect_error("probe:\n  ringBufferKiB: 32\n",
		     "t.yaml:2:18: probe.ringBufferKiB: expected a power of two in 64..1048576, "
		     "got 32");
	expect_error("probe:\n  perfBufferPagesPerCpu: 3\n",
		     "t.yaml:2:26: probe.perfBufferPagesPerCpu: expected a power of two in "
		     "1..65536, got 3");
	expect_error("probe:\n  fdTableSize: 1023\n",
		     "t.yaml:2:16: probe.fdTableSize: expected an integer in 1024..16777216, "
		     "got 1023");
	expect_error(
		"probe:\n  drainIntervalMs: 1001\n",
		"t.yaml:2:20: probe.drainIntervalMs: expected an integer in 1..1000, got 1001");
	expect_error("probe:\n  rateLimit: 1000\n",
		     "t.yaml:2:14: probe.rateLimit: expected a mapping, got 1000");
	expect_error("probe:\n  rateLimit:\n    eventsPerSecond: 1000001\n",
		     "t.yaml:3:22: probe.rateLimit.eventsPerSecond: expected an integer in "
		     "0..1000000, got 1000001");
	expect_error("probe:\n  rateLimit:\n    eventsPerSecond: -1\n",
		     "t.yaml:3:22: probe.rateLimit.eventsPerSecond: expected an integer in "
		     "0..1000000, got -1");
	expect_error("probe: {rateLimit: {eventsPerSecond: 100, burst: 100000001}}\n",
		     "t.yaml:1:50: probe.rateLimit.burst: expected an integer in 0..100000000, "
		     "got 100000001");
	expect_error("probe:\n  rateLimit:\n    burst: \"10\"\n",
		     "t.yaml:3:12: probe.rateLimit.burst: expected an integer in 0..100000000, "
		     "got string \"10\"");
	expect_error("probe:\n  rateLimit:\n    reportIntervalSeconds: 0\n",
		     "t.yaml:3:28: probe.rateLimit.reportIntervalSeconds: expected an integer in "
		     "1..3600, got 0");
}

/* Only the keys given change; an empty rateLimit section is the defaults. */
static void test_rate_limit(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(
		config_load_string(&c, "probe:\n  rateLimit:\n", "t.yaml", err, sizeof(err)), 0);
	assert_defaults(&c);
	config_free(&c);
	assert_int_equal(config_load_string(&c, "probe: {rateLimit: {eventsPerSecond: 5000}}\n",
					    "t.yaml", err, sizeof(err)),
			 0);
	assert_int_equal(c.probe.rate_limit.events_per_s, 5000);
	assert_int_equal(c.probe.rate_limit.burst, 0);
	assert_int_equal(c.probe.rate_limit.report_s, 10);
	assert_int_equal(c.probe.drain_interval_ms, 10);
	config_free(&c);
}

static void test_integer_forms(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_load_string(&c,
					    "health: {port: 0x50}\nmetrics: {port: 0o17}\n"
					    "stream: {batchSize: +7}\n",
					    "t.yaml", err, sizeof(err)),
			 0);
	assert_int_equal(c.health.port, 80);
	assert_int_equal(c.metrics.port, 15);
	assert_int_equal(c.stream.batch_size, 7);
	config_free(&c);
}

/* A valid key before the bad one must not leak into the result. */
static void test_error_is_not_half_applied(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_load_string(&c,
					    "logLevel: debug\nrulesFile: /x\n"
					    "probe: {drainIntervalMs: 0}\n",
					    "t.yaml", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "t.yaml:3:26: probe.drainIntervalMs: expected an integer in "
				 "1..1000, got 0");
	assert_defaults(&c);
	config_free(&c);
}

static void test_unreadable_file(void **state)
{
	struct agent_config c;
	char err[512], want[512], path[256];

	(void)state;
	snprintf(want, sizeof(want), "%s/missing.yaml: %s", tmpdir, strerror(ENOENT));
	snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_defaults(&c);
	config_free(&c);

	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_int_equal(config_load_file(&c, tmpdir, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_defaults(&c);
	config_free(&c);
}

static void test_syntax_error(void **state)
{
	struct agent_config c;
	char err[512], want[512];
	const char *path;

	(void)state;
	path = write_tmp("bad.yaml", "health:\n  port: [1, 2\n");
	snprintf(want, sizeof(want),
		 "%s:3:1: did not find expected ',' or ']' (while parsing a flow sequence at line "
		 "2)",
		 path);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_defaults(&c);
	config_free(&c);

	expect_error("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
	expect_error("health:\n\tport: 1\n",
		     "t.yaml:2:1: found character that cannot start any token (while scanning for "
		     "the next token at line 2)");
	expect_error("a: *nope\n", "t.yaml:1:4: found undefined alias");
	expect_error("\x01", "t.yaml: control characters are not allowed (#1) at byte 0");
	expect_error("logLevel: info\n---\nlogLevel: debug\n",
		     "t.yaml:3:1: expected a single YAML document, got another one");
}

/* What --check prints must read back as the same config. */
static void test_print_roundtrip(void **state)
{
	struct agent_config c, back;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	config_defaults(&c);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(&c, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf,
			    "logLevel: info\n"
			    "health:\n"
			    "  port: 9101\n"
			    "  bindAddress: \"0.0.0.0\"\n"
			    "  detectorGraceSeconds: 30\n"
			    "  maxKernelDropRatio: 0.01\n"
			    "  stallSeconds: 10\n"
			    "metrics:\n"
			    "  enabled: true\n"
			    "  port: 9102\n"
			    "  bindAddress: \"0.0.0.0\"\n"
			    "rulesFile: \"/etc/sentinel-ebpf/rules.yaml\"\n"
			    "allowEmptyRules: false\n"
			    "stream:\n"
			    "  mode: stdout\n"
			    "  batchSize: 128\n"
			    "  queueLength: 65536\n"
			    "grpc:\n"
			    "  endpoint: \"localhost:50051\"\n"
			    "  ackTimeoutSeconds: 30\n"
			    "  tls:\n"
			    "    enabled: false\n"
			    "    caFile: \"\"\n"
			    "    certFile: \"\"\n"
			    "    keyFile: \"\"\n"
			    "probe:\n"
			    "  transport: auto\n"
			    "  ringBufferKiB: 16384\n"
			    "  perfBufferPagesPerCpu: 256\n"
			    "  fdTableSize: 262144\n"
			    "  drainIntervalMs: 10\n"
			    "  rateLimit:\n"
			    "    eventsPerSecond: 0\n"
			    "    burst: 0\n"
			    "    reportIntervalSeconds: 10\n"
			    "pods:\n"
			    "  enabled: true\n"
			    "  bundlePaths:\n"
			    "    - \"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/"
			    "config.json\"\n"
			    "    - \"/run/containers/storage/overlay-containers/{id}/userdata/"
			    "config.json\"\n"
			    "    - \"/var/lib/containers/storage/overlay-containers/{id}/userdata/"
			    "config.json\"\n");
	free(buf);
	config_free(&c);

	assert_int_equal(config_load_string(&c, full_config, "full", err, sizeof(err)), 0);
	/* strings that need escaping survive the trip */
	free(c.grpc.tls.ca_file);
	c.grpc.tls.ca_file = strdup("a \"quoted\"\\path\n#x: y");
	assert_non_null(c.grpc.tls.ca_file);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(&c, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load_string(&back, buf, "printed", err, sizeof(err)), 0);
	free(buf);
	assert_string_equal(back.grpc.tls.ca_file, "a \"quoted\"\\path\n#x: y");
	free(back.grpc.tls.ca_file);
	back.grpc.tls.ca_file = strdup("/etc/ca.pem");
	assert_full(&back);
	config_free(&back);

	/* a ratio with more than %g's six digits reads back exactly */
	c.health.max_kernel_drop_ratio = 0.0123456789;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(&c, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "maxKernelDropRatio: 0.0123456789\n"));
	assert_int_equal(config_load_string(&back, buf, "printed", err, sizeof(err)), 0);
	free(buf);
	assert_true(back.health.max_kernel_drop_ratio == 0.0123456789);
	config_free(&back);
	config_free(&c);
}

static void test_names(void **state)
{
	enum stream_mode m = STREAM_GRPC;
	enum probe_transport t = PROBE_TRANSPORT_AUTO;

	(void)state;
	assert_string_equal(config_stream_mode_name(STREAM_STDOUT), "stdout");
	assert_string_equal(config_stream_mode_name(STREAM_GRPC), "grpc");
	assert_string_equal(config_transport_name(PROBE_TRANSPORT_AUTO), "auto");
	assert_string_equal(config_transport_name(PROBE_TRANSPORT_RINGBUF), "ringbuf");
	assert_string_equal(config_transport_name(PROBE_TRANSPORT_PERF), "perf");
	assert_int_equal(config_parse_stream_mode("stdout", &m), 0);
	assert_int_equal(m, STREAM_STDOUT);
	assert_int_equal(config_parse_stream_mode("grpc", &m), 0);
	assert_int_equal(m, STREAM_GRPC);
	assert_int_equal(config_parse_stream_mode("GRPC", &m), -1);
	assert_int_equal(config_parse_stream_mode("", &m), -1);
	assert_int_equal(m, STREAM_GRPC);
	assert_int_equal(config_parse_transport("perf", &t), 0);
	assert_int_equal(t, PROBE_TRANSPORT_PERF);
	assert_int_equal(config_parse_transport("bpf", &t), -1);
}

/* A short buffer truncates the message but never overflows. */
static void test_small_error_buffer(void **state)
{
	struct agent_config c;
	char err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_load_string(&c, "bogus: 1", "t.yaml", err, sizeof(err)), -1);
	assert_string_equal(err, "t.yaml:1:1:");
	config_free(&c);
	assert_int_equal(config_load_string(&c, "bogus: 1", "t.yaml", NULL, 0), -1);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_string),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_overlay_keeps_other_defaults),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_integer_forms),
		cmocka_unit_test(test_error_is_not_half_applied),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pods),
		cmocka_unit_test(test_small_error_buffer),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
