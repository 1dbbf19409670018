/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The detector's /metrics and /healthz. See telemetry.h.
 */
#include "telemetry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "http.h"
#include "metrics.h"

#define HTTP_THREADS 2

struct telemetry {
	struct http_server *http;
	pthread_mutex_t lock; /* guards snap */
	struct server_stats snap;
	_Atomic int64_t heartbeat_ms; /* CLOCK_MONOTONIC of the last publish */
};

static int64_t mono_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000);
}

void telemetry_render(FILE *f, const struct server_stats *st)
{
	metrics_family(f, "sentinel_detector_build_info", "gauge",
		       "The detector's version, as a label; the value is always 1.");
	metrics_u64(f, "sentinel_detector_build_info",
		    METRICS_LABELS({"version", SENTINEL_VERSION}), 1);
	metrics_family(f, "sentinel_detector_events_total", "counter",
		       "Events scored (StreamEvents and StreamEventBatches).");
	metrics_u64(f, "sentinel_detector_events_total", METRICS_NO_LABELS, st->events);
	metrics_family(f, "sentinel_detector_anomalies_total", "counter",
		       "Events scored as anomalies, by the code of the rule that decided the "
		       "score.");
	for (unsigned i = 0; i < st->n_codes; i++)
		metrics_u64(f, "sentinel_detector_anomalies_total",
			    METRICS_LABELS({"reason", st->codes[i].code}), st->codes[i].n);
	metrics_family(f, "sentinel_detector_reports_total", "counter",
		       "ReportAnomaly calls received.");
	metrics_u64(f, "sentinel_detector_reports_total", METRICS_NO_LABELS, st->reports);
	metrics_family(f, "sentinel_detector_decode_errors_total", "counter",
		       "Malformed messages; each ended its call with INVALID_ARGUMENT.");
	metrics_u64(f, "sentinel_detector_decode_errors_total", METRICS_NO_LABELS,
		    st->decode_errors);
	metrics_family(f, "sentinel_detector_streams_opened_total", "counter",
		       "Event streams (StreamEvents, StreamEventBatches) opened.");
	metrics_u64(f, "sentinel_detector_streams_opened_total", METRICS_NO_LABELS,
		    st->streams_opened);
	metrics_family(f, "sentinel_detector_streams_active", "gauge", "Event streams open now.");
	metrics_u64(f, "sentinel_detector_streams_active", METRICS_NO_LABELS, st->streams_active);
	metrics_family(f, "sentinel_detector_event_latency_seconds", "histogram",
		       "From the traced syscall (the event's timestamp) to the detector's "
		       "receipt. Needs synchronised clocks when the agent runs elsewhere.");
	metrics_histogram(f, "sentinel_detector_event_latency_seconds", METRICS_NO_LABELS,
			  &st->latency);
	metrics_process(f);
}

static void on_metrics(void *ctx, struct http_reply *r)
{
	struct telemetry *t = ctx;
	/* Static would race between the two HTTP threads; ~1 KiB of stack. */
	struct server_stats st;

	pthread_mutex_lock(&t->lock);
	st = t->snap;
	pthread_mutex_unlock(&t->lock);
	r->content_type = METRICS_CONTENT_TYPE;
	telemetry_render(r->body, &st);
}

static void on_healthz(void *ctx, struct http_reply *r)
{
	const struct telemetry *t = ctx;
	int64_t age = mono_ms() - atomic_load(&t->heartbeat_ms);

	if (age > TELEMETRY_STALL_S * 1000) {
		r->status = 503;
		fprintf(r->body, "main loop stalled: last poll %llds ago\n",
			(long long)(age / 1000));
		return;
	}
	fputs("ok\n", r->body);
}

struct telemetry *telemetry_start(const char *bind, unsigned port,
				  const struct server_stats *initial, char *err, size_t errcap)
{
	struct telemetry *t = calloc(1, sizeof(*t));
	struct http_route routes[2] = {
		{"/metrics", on_metrics, t},
		{"/healthz", on_healthz, t},
	};

	if (!t) {
		snprintf(err, errcap, "metrics server: out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->snap = *initial;
	atomic_store(&t->heartbeat_ms, mono_ms());
	t->http = http_start("metrics", bind, port, routes, 2, HTTP_THREADS, err, errcap);
	if (!t->http) {
		telemetry_stop(t);
		return NULL;
	}
	return t;
}

void telemetry_publish(struct telemetry *t, const struct server_stats *st)
{
	pthread_mutex_lock(&t->lock);
	t->snap = *st;
	pthread_mutex_unlock(&t->lock);
	atomic_store(&t->heartbeat_ms, mono_ms());
}

unsigned telemetry_port(const struct telemetry *t)
{
	return http_port(t->http);
}

void telemetry_stop(struct telemetry *t)
{
	if (!t)
		return;
	http_stop(t->http); /* no handler runs after this */
	pthread_mutex_destroy(&t->lock);
	free(t);
}
