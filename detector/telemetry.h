/* SPDX-License-Identifier: Apache-2.0 */
/*
 * telemetry: the detector's /metrics and /healthz (common/http.h).
 *
 * The gRPC server is single-threaded and its counters are not atomics, so
 * HTTP handlers (civetweb threads) never read them. The main loop hands
 * over a copy instead: telemetry_publish() after every server_poll() (at
 * least every 200 ms) stores the stats under a mutex and a heartbeat in an
 * atomic; /metrics renders the last copy, /healthz answers 503 when the
 * heartbeat is older than TELEMETRY_STALL_S.
 */
#ifndef SENTINEL_DETECTOR_TELEMETRY_H
#define SENTINEL_DETECTOR_TELEMETRY_H

#include <stddef.h>

#include "server.h"

#define TELEMETRY_STALL_S 10

struct telemetry;

/* Serves on @bind:@port (0 picks a free one) with @initial as the first
 * snapshot. NULL with a message in @err on failure. */
struct telemetry *telemetry_start(const char *bind, unsigned port,
				  const struct server_stats *initial, char *err, size_t errcap);
/* From the main loop: a new snapshot, and "still polling". */
void telemetry_publish(struct telemetry *t, const struct server_stats *st);
unsigned telemetry_port(const struct telemetry *t);
/* Stops serving, frees. NULL is fine. */
void telemetry_stop(struct telemetry *t);

/* The exposition text for @st (the /metrics body): for tests. */
void telemetry_render(FILE *f, const struct server_stats *st);

#endif
