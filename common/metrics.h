/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: Prometheus text exposition format 0.0.4, written to a FILE
 * (normally an open_memstream() that an HTTP handler then sends).
 *
 * There is no registry: each program renders its own families from a
 * snapshot of its counters at scrape time, so a counter lives where it is
 * incremented (pipeline, sink, server) and this file only knows the format.
 *
 *   metrics_family(f, "sentinel_agent_events_total", "counter", "Events forwarded.");
 *   metrics_u64(f, "sentinel_agent_events_total",
 *               METRICS_LABELS({"event_type", "file_read"}), n);
 *
 * Label values are escaped (\\, \", \n) as the format requires, so rule
 * names and other user data are safe in them; so is HELP text (\\, \n).
 * Names are the caller's constants and are not checked.
 *
 * Values: integers as decimal, doubles in the shortest form that reads
 * back as the same double (0.1, not 0.10000000000000001), +Inf, -Inf, NaN.
 */
#ifndef SENTINEL_METRICS_H
#define SENTINEL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_label {
	const char *name;
	const char *value;
};

/* Up to 4 labels; the list ends at the first NULL name. */
struct metrics_labels {
	struct metrics_label l[4];
};
#define METRICS_NO_LABELS ((const struct metrics_labels *)NULL)
/* A label list in place: METRICS_LABELS({"rule", name}, {"type", "read"}). */
#define METRICS_LABELS(...) (&(const struct metrics_labels){{__VA_ARGS__}})

/* "# HELP name help\n# TYPE name type\n"; type: counter|gauge|histogram|untyped. */
void metrics_family(FILE *f, const char *name, const char *type, const char *help);
/* One sample line: name{labels} value. @labels may be NULL. */
void metrics_u64(FILE *f, const char *name, const struct metrics_labels *labels, uint64_t v);
void metrics_double(FILE *f, const char *name, const struct metrics_labels *labels, double v);

/*
 * A fixed-bucket histogram, owned and observed by one thread; copy it (plain
 * struct assignment) to hand a snapshot to another.
 */
#define HISTOGRAM_MAX_BOUNDS 24

struct histogram {
	unsigned n_bounds;
	double bounds[HISTOGRAM_MAX_BOUNDS];	    /* upper bounds, ascending */
	uint64_t buckets[HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket, not cumulative; last = +Inf */
	uint64_t count;
	double sum;
};

/*
 * @bounds ascending, at most HISTOGRAM_MAX_BOUNDS (more are ignored); a
 * bound that is not finite or not above the previous one is skipped (+Inf
 * is always the last bucket anyway).
 */
void histogram_init(struct histogram *h, const double *bounds, unsigned n);
/* @v goes in the first bucket whose bound is >= @v (Prometheus' "le").
 * NaN is not counted: it would poison the sum forever. */
void histogram_observe(struct histogram *h, double v);
/* The family line is the caller's; this writes _bucket (cumulative, le="..."
 * then le="+Inf"), _sum and _count, with @labels before le. */
void metrics_histogram(FILE *f, const char *name, const struct metrics_labels *labels,
		       const struct histogram *h);

/*
 * The standard process_* families from /proc/self: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds. A value that
 * cannot be read is left out (never written as 0).
 */
void metrics_process(FILE *f);

#endif
