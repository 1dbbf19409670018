/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's settings (agent-config.yaml). Every key is optional; unknown
 * keys and ill-typed values are errors that name file:line:column. An empty
 * file, or a section left empty (`health:`), means the defaults.
 *
 *   logLevel: info                     # debug | info | warn | error
 *   health:                            # /healthz, /readyz (port 0: any free port)
 *     port: 9101
 *     bindAddress: "0.0.0.0"
 *     detectorGraceSeconds: 30         # grpc: still ready this long after the stream broke
 *     maxKernelDropRatio: 0.01         # not ready while more of the last 10 s was lost
 *     stallSeconds: 10                 # not alive when the reader thread is stuck this long
 *   metrics: {enabled: true, port: 9102, bindAddress: "0.0.0.0"}
 *   rulesFile: /etc/sentinel-ebpf/rules.yaml
 *   allowEmptyRules: false             # true: run (and reload) with no enabled rule
 *   stream: {mode: stdout, batchSize: 128, queueLength: 65536}
 *   grpc:
 *     endpoint: localhost:50051
 *     ackTimeoutSeconds: 30            # 1..3600: a detector that leaves sent events
 *                                      # unanswered this long is logged and not ready
 *     tls: {enabled: false, caFile: "", certFile: "", keyFile: ""}
 *   probe:
 *     transport: auto                  # auto | ringbuf | perf
 *     ringBufferKiB: 16384             # power of two, 64..1048576
 *     perfBufferPagesPerCpu: 256       # power of two, 1..65536
 *     fdTableSize: 262144              # 1024..16777216
 *     drainIntervalMs: 10              # 1..1000
 *     rateLimit:                       # per process, on events that passed the rules
 *       eventsPerSecond: 0             # 0..1000000; 0 = off
 *       burst: 0                       # 0..100000000; 0 = eventsPerSecond
 *       reportIntervalSeconds: 10      # 1..3600: log/metrics of what was suppressed
 *   pods:                              # pod name/namespace from the runtime's OCI bundles
 *     enabled: true
 *     bundlePaths:                     # absolute, each with one {id} (container id); at most 8
 *       - /run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json
 *       - /run/containers/storage/overlay-containers/{id}/userdata/config.json
 *       - /var/lib/containers/storage/overlay-containers/{id}/userdata/config.json
 */
#ifndef SENTINEL_CONFIG_H
#define SENTINEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

enum stream_mode { STREAM_STDOUT = 0, STREAM_GRPC = 1 };

/* Same values as probe_opts.transport: 0 = auto, PROBE_RINGBUF, PROBE_PERF. */
enum probe_transport {
	PROBE_TRANSPORT_AUTO = 0,
	PROBE_TRANSPORT_RINGBUF = 1,
	PROBE_TRANSPORT_PERF = 2,
};

/* Strings are heap-allocated and never NULL once set by config_defaults(). */
struct agent_config {
	enum log_level log_level;
	struct {
		unsigned port;
		char *bind_address;
		unsigned detector_grace_s;
		double max_kernel_drop_ratio;
		unsigned stall_s;
	} health;
	struct {
		bool enabled;
		unsigned port;
		char *bind_address;
	} metrics;
	char *rules_file; /* "" means none given: use the embedded default rules */
	/* An agent with no enabled rule watches nothing: refused at start, in
	 * --check and on reload unless this is set (rules_require_some). */
	bool allow_empty_rules;
	struct {
		enum stream_mode mode;
		unsigned batch_size;
		unsigned queue_length;
	} stream;
	struct {
		char *endpoint;
		unsigned ack_timeout_s;
		struct {
			bool enabled;
			char *ca_file; /* "" = not set */
			char *cert_file;
			char *key_file;
		} tls;
	} grpc;
	struct {
		enum probe_transport transport;
		unsigned ringbuf_kib;
		unsigned perf_pages_per_cpu;
		unsigned fd_table_size;
		unsigned drain_interval_ms;
		struct {
			unsigned events_per_s; /* 0 = off */
			unsigned burst;	       /* 0 = events_per_s */
			unsigned report_s;
		} rate_limit;
	} probe;
	struct {
		bool enabled;
		char **bundle_paths; /* n_bundle_paths strings (podmeta.h) */
		size_t n_bundle_paths;
	} pods;
};

/*
 * Fills @c with the defaults, overwriting (not freeing) what it held.
 * Aborts if the few default strings cannot be allocated: there is no useful
 * way to start without them.
 */
void config_defaults(struct agent_config *c);
/*
 * Defaults overlaid with the file (or @text, labelled @name in errors).
 * @c is overwritten, not freed: config_free() a previous config first.
 * On error @c holds the defaults, nothing from the file, and @err says why;
 * either way the caller owns @c and must config_free() it.
 */
int config_load_file(struct agent_config *c, const char *path, char *err, size_t errcap);
int config_load_string(struct agent_config *c, const char *text, const char *name, char *err,
		       size_t errcap);
void config_free(struct agent_config *c);

/* The effective settings as YAML that config_load_*() reads back (--check). */
void config_print(const struct agent_config *c, FILE *out);

const char *config_stream_mode_name(enum stream_mode m);
const char *config_transport_name(enum probe_transport t);
/* Exact, lower-case names as in the file; 0 on success, -1 otherwise. */
int config_parse_stream_mode(const char *s, enum stream_mode *out);
int config_parse_transport(const char *s, enum probe_transport *out);

#endif /* SENTINEL_CONFIG_H */
