/* SPDX-License-Identifier: Apache-2.0 */
/*
 * telemetry: what an operator sees of the agent from outside.
 *
 *   health.port   /healthz  200 while the reader thread keeps polling
 *                 /readyz   200 when probes are attached, the detector stream
 *                           is up (grpc mode; or was, within the grace period)
 *                           and the kernel's drop rate is below the threshold;
 *                           else 503 and a one-line reason
 *   metrics.port  /metrics  Prometheus text 0.0.4 (see telemetry.c for names)
 *
 * Every counter lives where its event happens (pipeline, probe maps, sink)
 * and is owned by the reader thread. That thread calls telemetry_tick()
 * after each drain and from the pipeline every few thousand records; at most
 * every TELEMETRY_PUBLISH_MS it copies the counters into a snapshot under a
 * mutex. HTTP handlers (civetweb's threads) read only that snapshot and a
 * few atomics, so a scrape never touches the data path, and answers in
 * microseconds however busy the reader is.
 */
#ifndef SENTINEL_TELEMETRY_H
#define SENTINEL_TELEMETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "pipeline.h"
#include "probe.h"
#include "sink.h"

#define TELEMETRY_PUBLISH_MS 100
#define TELEMETRY_DROP_WINDOW_S 10 /* the kernel drop rate is over this long */
/* ...and counts only from this many lost records in the window: on an idle
 * node one lost exit among 50 records is 2 %, not a reason to be unready
 * (it is still counted in kernel_dropped_total). */
#define TELEMETRY_DROP_MIN_LOST 100
/* Rate limit report: the processes with the most suppressed events exposed
 * as labelled series (a bounded label set, whatever a fork flood does), and
 * the most log lines one report writes before it sums up the rest. */
#define TELEMETRY_RL_TOP 10
#define TELEMETRY_RL_LOG_MAX 20

struct telemetry_opts {
	const char *health_bind;
	unsigned health_port; /* 0: any free port (logged) */
	bool metrics_enabled;
	const char *metrics_bind;
	unsigned metrics_port;
	unsigned stall_s;	      /* /healthz fails when the reader is stuck this long */
	bool grpc;		      /* /readyz needs a detector stream */
	unsigned detector_grace_s;    /* ... or one that broke at most this long ago */
	double max_kernel_drop_ratio; /* /readyz fails above this, over dropwin.h's window */
	/* sentinel_agent_rules_reload_total{result}: @n_reload counters, named */
	const atomic_ullong *reloads;
	const char *const *reload_names;
	unsigned n_reload;
};

/* The reader thread's data: read on that thread only, in telemetry_tick(). */
struct telemetry_sources {
	struct pipeline *pl;
	struct sink *sink;
};

struct telemetry;

/* Starts the HTTP servers (health always, metrics when enabled), before the
 * probe is compiled, so /healthz answers and /readyz says why not yet. NULL
 * with a message in @err (e.g. the port is in use) on failure. */
struct telemetry *telemetry_start(const struct telemetry_opts *o,
				  const struct telemetry_sources *src, char *err, size_t errcap);
/* The ports actually listened on (0 when that server is off). */
unsigned telemetry_health_port(const struct telemetry *t);
unsigned telemetry_metrics_port(const struct telemetry *t);
/* Probes attached: called before the reader thread starts. */
void telemetry_attached(struct telemetry *t, struct probe *probe);
/* Probes detached (shutdown): /readyz fails from now on. */
void telemetry_detached(struct telemetry *t);
/* Reader thread: heartbeat, and a snapshot when the last is older than
 * TELEMETRY_PUBLISH_MS (or now, with @force). */
void telemetry_tick(struct telemetry *t, bool force);
/* pipeline_tick_fn */
void telemetry_pipeline_tick(void *t);
/*
 * The rate limit report (when the probe has a limit), on the reader thread
 * every probe_rate_limit()->report_s from telemetry_tick(): one warn line per
 * process whose suppressed count grew since the last report, and the top
 * TELEMETRY_RL_TOP for /metrics. Processes found gone are reported a last
 * time and forgotten, here and in the kernel's map. Call it once more after
 * the reader thread stopped, for what the last interval suppressed.
 */
void telemetry_rate_limit_report(struct telemetry *t);
/* Stops the servers and frees. Call before the sources are freed. */
void telemetry_stop(struct telemetry *t);

/*
 * Readiness and liveness as the handlers decide them, for @now_ns
 * (CLOCK_MONOTONIC): 1 ready/alive, 0 not, with the reason in @why.
 */
int telemetry_ready(struct telemetry *t, uint64_t now_ns, char *why, size_t cap);
int telemetry_alive(struct telemetry *t, uint64_t now_ns, char *why, size_t cap);
#define TELEMETRY_WHY_MAX 256 /* room for any reason above */

/*
 * Says readiness where operators look, not only on /readyz: `msg="agent
 * ready"` (info) when it becomes ready, `msg="agent not ready"` (warn, with
 * the reason) when it stops being ready. Not being ready after start is
 * said once it has lasted TELEMETRY_READY_SETTLE_MS from telemetry_attached()
 * (a detector stream takes a few ms to come up: no warning for that). Call
 * from one thread, after telemetry_attached(), at least every
 * TELEMETRY_READY_WATCH_MS.
 */
#define TELEMETRY_READY_WATCH_MS 200
#define TELEMETRY_READY_SETTLE_MS 2000
void telemetry_watch_ready(struct telemetry *t, uint64_t now_ns);

#endif
