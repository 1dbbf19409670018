/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The detector's gRPC server (gRPC core C API): sentinel.v1.DetectorService
 * and grpc.health.v1.Health/Check on one completion queue, driven by the
 * caller's thread through server_poll(). Every RPC handler, the scorer and
 * the anomaly log run on that thread.
 *
 * Health/Watch, and any other method, answer UNIMPLEMENTED.
 */
#ifndef SENTINEL_DETECTOR_SERVER_H
#define SENTINEL_DETECTOR_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "score.h"

struct server_opts {
	const char *bind; /* "0.0.0.0", "[::]", "::1", "127.0.0.1", ... */
	int port;
	int max_message_bytes; /* larger requests: RESOURCE_EXHAUSTED (by gRPC) */
	int max_streams;       /* concurrent streams per connection */
	/* gRPC's memory (transport buffers, messages being received), MiB;
	 * 0: unlimited. gRPC buffers a whole message before it checks its
	 * size, so without this N clients sending huge messages cost N times
	 * their size; over it, gRPC resets streams and closes connections. */
	int max_memory_mb;
	int max_connection_age_s; /* 0: connections live forever */
	int max_connection_age_grace_s;
	const char *tls_cert, *tls_key; /* both or neither */
	const char *tls_client_ca;	/* set: mTLS, client certificates required */
	const struct scorer_ops *scorer;
	void *scorer_state;
};

/* Anomalies with one verdict code ("unspecified", "other" included). */
struct server_code_count {
	char code[VERDICT_CODE_LEN];
	uint64_t n;
};

/* Plain data: a copy is a consistent snapshot for another thread. */
struct server_stats {
	uint64_t events;	/* envelopes scored */
	uint64_t anomalies;	/* of those, anomalies */
	uint64_t reports;	/* ReportAnomaly calls */
	uint64_t decode_errors; /* malformed messages (each ended its call) */
	uint64_t streams_opened;
	unsigned streams_active; /* StreamEvents + StreamEventBatches calls */
	/* anomalies by verdict code: the scorer's declared codes first (at 0
	 * until seen), then others as they come; past VERDICT_CODES_MAX, "other" */
	unsigned n_codes;
	struct server_code_count codes[VERDICT_CODES_MAX + 1];
	/* syscall (ts_unix_nano) -> receipt, seconds; events without a
	 * timestamp are not observed, clock skew counts as 0 */
	struct histogram latency;
};

/* Listens and starts serving. NULL with a message in err on failure. */
struct server *server_start(const struct server_opts *o, char *err, size_t errcap);
/* Handles whatever the completion queue delivers for up to timeout_ms. */
void server_poll(struct server *s, int timeout_ms);
/* Health turns NOT_SERVING, new calls are refused, open calls cancelled;
 * returns when every call is gone. */
void server_stop(struct server *s);
void server_get_stats(const struct server *s, struct server_stats *out);
/* p50/p99 of syscall -> receipt latency in ms (-1 when no events), since
 * the last call (which resets it) or, with @whole_run, since the start. */
void server_latency_ms(struct server *s, int whole_run, double *p50, double *p99);
/* The port listened on (the one gRPC chose when opts.port was 0). */
int server_port(const struct server *s);
/*
 * Non-zero once gRPC's listener gave up accepting connections. gRPC 1.51
 * stops its accept loop for good on an accept4() error other than
 * EAGAIN/ECONNABORTED (EMFILE: out of file descriptors), while the process
 * and its open streams carry on; the caller should exit so that it is
 * restarted. Seen in gRPC's own log (the only sign it gives).
 */
int server_listener_failed(void);
/* Stops the server if still running, frees it. */
void server_free(struct server *s);

#endif
