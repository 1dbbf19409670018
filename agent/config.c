/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "podmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

static const char *const stream_mode_names[] = {
	[STREAM_STDOUT] = "stdout",
	[STREAM_GRPC] = "grpc",
};

static const char *const transport_names[] = {
	[PROBE_TRANSPORT_AUTO] = "auto",
	[PROBE_TRANSPORT_RINGBUF] = "ringbuf",
	[PROBE_TRANSPORT_PERF] = "perf",
};

static const char *const top_keys[] = {
	"logLevel", "health", "metrics", "rulesFile", "allowEmptyRules",
	"stream",   "grpc",   "probe",	 "pods",      NULL};
static const char *const health_keys[] = {
	"port", "bindAddress", "detectorGraceSeconds", "maxKernelDropRatio", "stallSeconds", NULL};
static const char *const metrics_keys[] = {"enabled", "port", "bindAddress", NULL};
static const char *const stream_keys[] = {"mode", "batchSize", "queueLength", NULL};
static const char *const grpc_keys[] = {"endpoint", "ackTimeoutSeconds", "tls", NULL};
static const char *const tls_keys[] = {"enabled", "caFile", "certFile", "keyFile", NULL};
static const char *const probe_keys[] = {"transport",	"ringBufferKiB",   "perfBufferPagesPerCpu",
					 "fdTableSize", "drainIntervalMs", "rateLimit",
					 NULL};
static const char *const rate_limit_keys[] = {"eventsPerSecond", "burst", "reportIntervalSeconds",
					      NULL};
static const char *const pods_keys[] = {"enabled", "bundlePaths", NULL};
/* Where containerd's CRI plugin, CRI-O and podman (root) keep each
 * container's OCI config.json. */
static const char *const default_bundle_paths[] = {
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json",
	"/run/containers/storage/overlay-containers/{id}/userdata/config.json",
	"/var/lib/containers/storage/overlay-containers/{id}/userdata/config.json",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *config_stream_mode_name(enum stream_mode m)
{
	return (unsigned)m < ARRAY_SIZE(stream_mode_names) ? stream_mode_names[m] : "unknown";
}

const char *config_transport_name(enum probe_transport t)
{
	return (unsigned)t < ARRAY_SIZE(transport_names) ? transport_names[t] : "unknown";
}

static int lookup(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int config_parse_stream_mode(const char *s, enum stream_mode *out)
{
	int i = lookup(s, stream_mode_names, ARRAY_SIZE(stream_mode_names));

	if (i < 0)
		return -1;
	*out = (enum stream_mode)i;
	return 0;
}

int config_parse_transport(const char *s, enum probe_transport *out)
{
	int i = lookup(s, transport_names, ARRAY_SIZE(transport_names));

	if (i < 0)
		return -1;
	*out = (enum probe_transport)i;
	return 0;
}

static char *dup_or_die(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		log_error("out of memory", "allocating=default_config");
		abort();
	}
	return p;
}

void config_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_INFO;
	c->health.port = 9101;
	c->health.bind_address = dup_or_die("0.0.0.0");
	c->health.detector_grace_s = 30;
	c->health.max_kernel_drop_ratio = 0.01;
	c->health.stall_s = 10;
	c->metrics.enabled = true;
	c->metrics.port = 9102;
	c->metrics.bind_address = dup_or_die("0.0.0.0");
	c->rules_file = dup_or_die("/etc/sentinel-ebpf/rules.yaml");
	c->stream.mode = STREAM_STDOUT;
	c->stream.batch_size = 128;
	c->stream.queue_length = 65536;
	c->grpc.endpoint = dup_or_die("localhost:50051");
	c->grpc.ack_timeout_s = 30;
	c->grpc.tls.enabled = false;
	c->grpc.tls.ca_file = dup_or_die("");
	c->grpc.tls.cert_file = dup_or_die("");
	c->grpc.tls.key_file = dup_or_die("");
	c->probe.transport = PROBE_TRANSPORT_AUTO;
	c->probe.ringbuf_kib = 16384;
	c->probe.perf_pages_per_cpu = 256;
	c->probe.fd_table_size = 262144;
	c->probe.drain_interval_ms = 10;
	c->probe.rate_limit.events_per_s = 0;
	c->probe.rate_limit.burst = 0;
	c->probe.rate_limit.report_s = 10;
	c->pods.enabled = true;
	c->pods.n_bundle_paths = ARRAY_SIZE(default_bundle_paths);
	c->pods.bundle_paths = calloc(c->pods.n_bundle_paths, sizeof(char *));
	if (!c->pods.bundle_paths)
		abort();
	for (size_t i = 0; i < c->pods.n_bundle_paths; i++)
		c->pods.bundle_paths[i] = dup_or_die(default_bundle_paths[i]);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct agent_config *c)
{
	free(c->health.bind_address);
	free(c->metrics.bind_address);
	free(c->rules_file);
	free(c->grpc.endpoint);
	free(c->grpc.tls.ca_file);
	free(c->grpc.tls.cert_file);
	free(c->grpc.tls.key_file);
	free_strv(c->pods.bundle_paths, c->pods.n_bundle_paths);
	memset(c, 0, sizeof(*c));
}

/* ---- typed setters: an absent key leaves the default ---- */

/* A nested mapping: absent or null is empty; its keys are checked. */
static int section(struct ydoc *d, const yaml_node_t *parent, const char *key, const char *what,
		   const char *const *allowed, yaml_node_t **out)
{
	*out = ydoc_get(d, parent, key);
	return ydoc_expect_map(d, *out, what) || ydoc_check_keys(d, *out, what, allowed) ? -1 : 0;
}

static int set_str(struct ydoc *d, const yaml_node_t *map, const char *key, const char *what,
		   char **dst)
{
	const yaml_node_t *n = ydoc_get(d, map, key);
	const char *s;
	char *copy;

	if (!n)
		return 0;
	if (ydoc_str(d, n, what, &s))
		return -1;
	copy = strdup(s);
	if (!copy)
		return ydoc_errf(d, n, "%s: out of memory", what);
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_bool(struct ydoc *d, const yaml_node_t *map, const char *key, const char *what,
		    bool *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, key);

	return n ? ydoc_bool(d, n, what, dst) : 0;
}

static int set_uint(struct ydoc *d, const yaml_node_t *map, const char *key, const char *what,
		    unsigned min, unsigned max, unsigned *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, key);
	long long v;

	if (!n)
		return 0;
	if (ydoc_int(d, n, what, min, max, &v))
		return -1;
	*dst = (unsigned)v;
	return 0;
}

/* A fraction in [0, 1], written as a plain decimal ("0.01"). */
static int set_ratio(struct ydoc *d, const yaml_node_t *map, const char *key, const char *what,
		     double *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, key);
	char buf[64];
	const char *s;
	char *end;
	double v;

	if (!n)
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return ydoc_expected(d, n, what, "a number from 0 to 1");
	if (ydoc_str(d, n, what, &s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0 && v <= 1))
		return ydoc_errf(d, n, "%s: expected a number from 0 to 1, got %s", what,
				 ydoc_describe(n, buf, sizeof(buf)));
	*dst = v;
	return 0;
}

/* Buffer sizes: the kernel wants powers of two (ring buffer, perf pages). */
static int set_pow2(struct ydoc *d, const yaml_node_t *map, const char *key, const char *what,
		    unsigned min, unsigned max, unsigned *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, key);
	long long v = 0;

	if (!n)
		return 0;
	if (ydoc_int(d, n, what, min, max, &v) || (v & (v - 1))) {
		char expected[64];

		snprintf(expected, sizeof(expected), "a power of two in %u..%u", min, max);
		return ydoc_expected(d, n, what, expected);
	}
	*dst = (unsigned)v;
	return 0;
}

static int set_log_level(struct ydoc *d, const yaml_node_t *map, enum log_level *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, "logLevel");
	const char *s;

	if (!n)
		return 0;
	if (ydoc_str(d, n, "logLevel", &s))
		return -1;
	if (log_parse_level(s, dst))
		return ydoc_expected(d, n, "logLevel", "debug, info, warn or error");
	return 0;
}

static int set_stream_mode(struct ydoc *d, const yaml_node_t *map, enum stream_mode *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, "mode");
	const char *s;

	if (!n)
		return 0;
	if (ydoc_str(d, n, "stream.mode", &s))
		return -1;
	if (config_parse_stream_mode(s, dst))
		return ydoc_expected(d, n, "stream.mode", "grpc or stdout");
	return 0;
}

static int set_transport(struct ydoc *d, const yaml_node_t *map, enum probe_transport *dst)
{
	const yaml_node_t *n = ydoc_get(d, map, "transport");
	const char *s;

	if (!n)
		return 0;
	if (ydoc_str(d, n, "probe.transport", &s))
		return -1;
	if (config_parse_transport(s, dst))
		return ydoc_expected(d, n, "probe.transport", "auto, ringbuf or perf");
	return 0;
}

/* ---- sections ---- */

static int apply_health(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m;

	if (section(d, root, "health", "health", health_keys, &m))
		return -1;
	/* Port 0: any free port (logged); tests use it. */
	if (set_uint(d, m, "port", "health.port", 0, 65535, &c->health.port) ||
	    set_str(d, m, "bindAddress", "health.bindAddress", &c->health.bind_address) ||
	    set_uint(d, m, "detectorGraceSeconds", "health.detectorGraceSeconds", 0, 86400,
		     &c->health.detector_grace_s) ||
	    set_ratio(d, m, "maxKernelDropRatio", "health.maxKernelDropRatio",
		      &c->health.max_kernel_drop_ratio) ||
	    set_uint(d, m, "stallSeconds", "health.stallSeconds", 1, 3600, &c->health.stall_s))
		return -1;
	return 0;
}

static int apply_metrics(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m;

	if (section(d, root, "metrics", "metrics", metrics_keys, &m))
		return -1;
	if (set_bool(d, m, "enabled", "metrics.enabled", &c->metrics.enabled) ||
	    set_uint(d, m, "port", "metrics.port", 0, 65535, &c->metrics.port) ||
	    set_str(d, m, "bindAddress", "metrics.bindAddress", &c->metrics.bind_address))
		return -1;
	return 0;
}

static int apply_stream(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m;

	if (section(d, root, "stream", "stream", stream_keys, &m))
		return -1;
	if (set_stream_mode(d, m, &c->stream.mode) ||
	    set_uint(d, m, "batchSize", "stream.batchSize", 1, 65536, &c->stream.batch_size) ||
	    set_uint(d, m, "queueLength", "stream.queueLength", 1, 16777216,
		     &c->stream.queue_length))
		return -1;
	return 0;
}

static int apply_grpc(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m, *tls;

	if (section(d, root, "grpc", "grpc", grpc_keys, &m) ||
	    section(d, m, "tls", "grpc.tls", tls_keys, &tls))
		return -1;
	if (set_str(d, m, "endpoint", "grpc.endpoint", &c->grpc.endpoint) ||
	    set_uint(d, m, "ackTimeoutSeconds", "grpc.ackTimeoutSeconds", 1, 3600,
		     &c->grpc.ack_timeout_s) ||
	    set_bool(d, tls, "enabled", "grpc.tls.enabled", &c->grpc.tls.enabled) ||
	    set_str(d, tls, "caFile", "grpc.tls.caFile", &c->grpc.tls.ca_file) ||
	    set_str(d, tls, "certFile", "grpc.tls.certFile", &c->grpc.tls.cert_file) ||
	    set_str(d, tls, "keyFile", "grpc.tls.keyFile", &c->grpc.tls.key_file))
		return -1;
	return 0;
}

static int apply_probe(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m, *rl;

	if (section(d, root, "probe", "probe", probe_keys, &m) ||
	    section(d, m, "rateLimit", "probe.rateLimit", rate_limit_keys, &rl))
		return -1;
	if (set_transport(d, m, &c->probe.transport) ||
	    set_pow2(d, m, "ringBufferKiB", "probe.ringBufferKiB", 64, 1048576,
		     &c->probe.ringbuf_kib) ||
	    set_pow2(d, m, "perfBufferPagesPerCpu", "probe.perfBufferPagesPerCpu", 1, 65536,
		     &c->probe.perf_pages_per_cpu) ||
	    set_uint(d, m, "fdTableSize", "probe.fdTableSize", 1024, 16777216,
		     &c->probe.fd_table_size) ||
	    set_uint(d, m, "drainIntervalMs", "probe.drainIntervalMs", 1, 1000,
		     &c->probe.drain_interval_ms) ||
	    set_uint(d, rl, "eventsPerSecond", "probe.rateLimit.eventsPerSecond", 0, 1000000,
		     &c->probe.rate_limit.events_per_s) ||
	    set_uint(d, rl, "burst", "probe.rateLimit.burst", 0, 100000000,
		     &c->probe.rate_limit.burst) ||
	    set_uint(d, rl, "reportIntervalSeconds", "probe.rateLimit.reportIntervalSeconds", 1,
		     3600, &c->probe.rate_limit.report_s))
		return -1;
	return 0;
}

/* One bundle path template: absolute, exactly one {id} (podmeta.h). */
static int check_bundle_path(struct ydoc *d, const yaml_node_t *n, const char *s)
{
	if (!podmeta_path_ok(s) || strlen(s) > 1024)
		return ydoc_expected(d, n, "pods.bundlePaths",
				     "an absolute path (at most 1024 bytes) with exactly one {id}");
	return 0;
}

static int apply_pods(struct ydoc *d, const yaml_node_t *root, struct agent_config *c)
{
	yaml_node_t *m, *seq;
	char **v;
	size_t n;

	if (section(d, root, "pods", "pods", pods_keys, &m) ||
	    set_bool(d, m, "enabled", "pods.enabled", &c->pods.enabled))
		return -1;
	seq = ydoc_get(d, m, "bundlePaths");
	if (!seq)
		return 0;
	if (ydoc_expect_seq(d, seq, "pods.bundlePaths"))
		return -1;
	n = ydoc_len(seq);
	if (n > PODMETA_MAX_PATHS)
		return ydoc_errf(d, seq, "pods.bundlePaths: at most %d paths, got %zu",
				 PODMETA_MAX_PATHS, n);
	v = calloc(n ? n : 1, sizeof(char *));
	if (!v)
		return ydoc_errf(d, seq, "pods.bundlePaths: out of memory");
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *e = ydoc_item(d, seq, i);
		const char *s;

		if (ydoc_str(d, e, "pods.bundlePaths", &s) || check_bundle_path(d, e, s) ||
		    (!(v[i] = strdup(s)) && ydoc_errf(d, e, "pods.bundlePaths: out of memory"))) {
			free_strv(v, n);
			return -1;
		}
	}
	free_strv(c->pods.bundle_paths, c->pods.n_bundle_paths);
	c->pods.bundle_paths = v;
	c->pods.n_bundle_paths = n;
	return 0;
}

/* Builds the result aside so that an error never leaves @c half-applied. */
static int load(struct agent_config *c, struct ydoc *d)
{
	yaml_node_t *root = ydoc_root(d);
	struct agent_config tmp;

	config_defaults(&tmp);
	if (ydoc_expect_map(d, root, NULL) || ydoc_check_keys(d, root, NULL, top_keys) ||
	    set_log_level(d, root, &tmp.log_level) || apply_health(d, root, &tmp) ||
	    apply_metrics(d, root, &tmp) ||
	    set_str(d, root, "rulesFile", "rulesFile", &tmp.rules_file) ||
	    set_bool(d, root, "allowEmptyRules", "allowEmptyRules", &tmp.allow_empty_rules) ||
	    apply_stream(d, root, &tmp) || apply_grpc(d, root, &tmp) ||
	    apply_probe(d, root, &tmp) || apply_pods(d, root, &tmp)) {
		config_free(&tmp);
		config_defaults(c);
		return -1;
	}
	*c = tmp;
	return 0;
}

int config_load_file(struct agent_config *c, const char *path, char *err, size_t errcap)
{
	struct ydoc d;
	int ret;

	if (ydoc_load_file(&d, path, err, errcap)) {
		config_defaults(c);
		return -1;
	}
	ret = load(c, &d);
	ydoc_free(&d);
	return ret;
}

int config_load_string(struct agent_config *c, const char *text, const char *name, char *err,
		       size_t errcap)
{
	struct ydoc d;
	int ret;

	if (ydoc_load_string(&d, text, text ? strlen(text) : 0, name, err, errcap)) {
		config_defaults(c);
		return -1;
	}
	ret = load(c, &d);
	ydoc_free(&d);
	return ret;
}

/* The shortest decimal that reads back as @v: what was configured, not
 * %g's six digits (0.0123456789 must not print as 0.0123457). */
static void print_double(FILE *out, double v)
{
	char buf[32];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, out);
}

static void print_str(FILE *out, const char *indent, const char *key, const char *v)
{
	fprintf(out, "%s%s: ", indent, key);
	ydoc_print_str(out, v);
	fputc('\n', out);
}

void config_print(const struct agent_config *c, FILE *out)
{
	fprintf(out, "logLevel: %s\n", log_level_name(c->log_level));
	fprintf(out, "health:\n  port: %u\n", c->health.port);
	print_str(out, "  ", "bindAddress", c->health.bind_address);
	fprintf(out,
		"  detectorGraceSeconds: %u\n  maxKernelDropRatio: ", c->health.detector_grace_s);
	print_double(out, c->health.max_kernel_drop_ratio);
	fprintf(out, "\n  stallSeconds: %u\n", c->health.stall_s);
	fprintf(out, "metrics:\n  enabled: %s\n  port: %u\n", c->metrics.enabled ? "true" : "false",
		c->metrics.port);
	print_str(out, "  ", "bindAddress", c->metrics.bind_address);
	print_str(out, "", "rulesFile", c->rules_file);
	fprintf(out, "allowEmptyRules: %s\n", c->allow_empty_rules ? "true" : "false");
	fprintf(out, "stream:\n  mode: %s\n  batchSize: %u\n  queueLength: %u\n",
		config_stream_mode_name(c->stream.mode), c->stream.batch_size,
		c->stream.queue_length);
	fprintf(out, "grpc:\n");
	print_str(out, "  ", "endpoint", c->grpc.endpoint);
	fprintf(out, "  ackTimeoutSeconds: %u\n", c->grpc.ack_timeout_s);
	fprintf(out, "  tls:\n    enabled: %s\n", c->grpc.tls.enabled ? "true" : "false");
	print_str(out, "    ", "caFile", c->grpc.tls.ca_file);
	print_str(out, "    ", "certFile", c->grpc.tls.cert_file);
	print_str(out, "    ", "keyFile", c->grpc.tls.key_file);
	fprintf(out,
		"probe:\n  transport: %s\n  ringBufferKiB: %u\n  perfBufferPagesPerCpu: %u\n"
		"  fdTableSize: %u\n  drainIntervalMs: %u\n",
		config_transport_name(c->probe.transport), c->probe.ringbuf_kib,
		c->probe.perf_pages_per_cpu, c->probe.fd_table_size, c->probe.drain_interval_ms);
	fprintf(out,
		"  rateLimit:\n    eventsPerSecond: %u\n    burst: %u\n"
		"    reportIntervalSeconds: %u\n",
		c->probe.rate_limit.events_per_s, c->probe.rate_limit.burst,
		c->probe.rate_limit.report_s);
	fprintf(out, "pods:\n  enabled: %s\n  bundlePaths:%s\n", c->pods.enabled ? "true" : "false",
		c->pods.n_bundle_paths ? "" : " []");
	for (size_t i = 0; i < c->pods.n_bundle_paths; i++) {
		fputs("    - ", out);
		ydoc_print_str(out, c->pods.bundle_paths[i]);
		fputc('\n', out);
	}
}
