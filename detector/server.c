/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DetectorService on the gRPC core C API: one completion queue, polled by
 * one thread, and one small state machine per call.
 *
 * A call's context (struct call_ctx) is allocated when we ask gRPC for the
 * next call of a method, and freed when no operation of it is pending any
 * more. Each operation is posted with the tag &ctx->tags[op], so a
 * completion says which call and which operation it was.
 *
 * Streaming calls (StreamEvents, StreamEventBatches):
 *
 *   WAITING --request ok--> READING --message--> score --> WRITING
 *                             ^                               |
 *                             +-----------send ok-------------+
 *   READING --half-close--> FINISHING (status OK)
 *   READING --bad protobuf--> FINISHING (status INVALID_ARGUMENT)
 *   any op failed (cancelled, broken, too large) --> DEAD (call cancelled)
 *
 * gRPC core allows one SEND_MESSAGE in flight per call, and a send
 * completes only once flow control lets the bytes go, so reading the next
 * message only after the previous answer was sent is the back-pressure: a
 * client that does not read its answers stops being read.
 *
 * Unary calls (ReportAnomaly, Health/Check) read one message and finish
 * with {SEND_MESSAGE, SEND_STATUS}. Any other method ("generic" calls)
 * gets UNIMPLEMENTED at once, so unknown RPCs never hang.
 *
 * Every call also has a RECV_CLOSE_ON_SERVER posted from the start: it
 * completes when the call is over for both sides, so a context is freed
 * only after gRPC is done with it.
 */
#include "server.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "events.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "jsonw.h"
#include "latency.h"
#include "log.h"

#define SERVICE_NAME "sentinel.v1.DetectorService"

/* sentinel_detector_event_latency_seconds: a 10 ms drain interval to a
 * backed-up queue. */
static const double latency_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 /* s */
};

enum rpc { RPC_EVENTS, RPC_BATCHES, RPC_REPORT, RPC_HEALTH_CHECK, RPC_OTHER, RPC__COUNT };

static const struct rpc_desc {
	const char *path; /* NULL: every unregistered method */
	const char *name;
	bool streaming;
} rpcs[RPC__COUNT] = {
	[RPC_EVENTS] = {"/" SERVICE_NAME "/StreamEvents", "StreamEvents", true},
	[RPC_BATCHES] = {"/" SERVICE_NAME "/StreamEventBatches", "StreamEventBatches", true},
	[RPC_REPORT] = {"/" SERVICE_NAME "/ReportAnomaly", "ReportAnomaly", false},
	[RPC_HEALTH_CHECK] = {"/grpc.health.v1.Health/Check", "Health/Check", false},
	[RPC_OTHER] = {NULL, "unimplemented", false},
};

enum op { OP_REQUEST, OP_RECV, OP_SEND, OP_STATUS, OP_CLOSE, OP__COUNT };

enum call_state {
	CALL_WAITING,	/* asked gRPC for a call, none yet */
	CALL_READING,	/* a RECV_MESSAGE in flight */
	CALL_WRITING,	/* a SEND_MESSAGE in flight */
	CALL_FINISHING, /* our status is on its way */
	CALL_DEAD,	/* failed or cancelled: waiting for the ops to drain */
};

static const char *const state_names[] = {"waiting", "reading", "writing", "finishing", "dead"};

struct call_ctx;

struct op_tag {
	struct call_ctx *ctx; /* NULL: the server's shutdown notification */
	enum op op;
};

struct call_ctx {
	struct server *srv;
	enum rpc rpc;
	enum call_state state;
	struct op_tag tags[OP__COUNT];
	unsigned pending; /* posted operations not completed yet */
	grpc_call *call;
	gpr_timespec deadline;
	grpc_call_details details; /* RPC_OTHER: the method asked for */
	grpc_metadata_array req_md;
	grpc_byte_buffer *recv_buf, *send_buf;
	grpc_slice status_details;
	int cancelled; /* from RECV_CLOSE_ON_SERVER */
	char *peer;
	uint64_t messages;
	grpc_status_code status;
};

struct server {
	struct server_opts o;
	grpc_server *server;
	grpc_completion_queue *cq;
	void *methods[RPC__COUNT];
	struct op_tag shutdown_tag;
	int port;
	bool stopping, shutdown_done;
	unsigned live_calls;
	struct server_stats stats;
	struct latency_hist lat_interval, lat_total; /* syscall -> receipt */
	struct jw jw;
	/* StreamEventBatches scratch, grown to the largest batch seen */
	struct verdict *verdicts;
	Sentinel__V1__DetectionResponse *resps;
	Sentinel__V1__DetectionResponse **resp_ptrs;
	size_t scratch_cap;
	/* What protobuf-c allocates unpacking one message (a struct and a
	 * string per field), rewound after each: no malloc/free per field. */
	struct arena unpack_mem;
	ProtobufCAllocator unpacker;
};

/* Messages up to this many bytes unpack in one arena chunk, reused. */
#define UNPACK_CHUNK (256 * 1024)

/* ---- small helpers ---- */

static Google__Protobuf__Timestamp now_ts(void)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	ts.seconds = t.tv_sec;
	ts.nanos = (int32_t)t.tv_nsec;
	return ts;
}

/* A packed message as a byte buffer, packed straight into gRPC's slice. */
static grpc_byte_buffer *pack_message(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	grpc_slice slice = grpc_slice_malloc(len);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice));
	bb = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	return bb;
}

/* The received message as one contiguous slice (caller unrefs). */
static grpc_slice take_message(struct call_ctx *c)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all = grpc_empty_slice();

	if (grpc_byte_buffer_reader_init(&rd, c->recv_buf)) {
		all = grpc_byte_buffer_reader_readall(&rd);
		grpc_byte_buffer_reader_destroy(&rd);
	}
	grpc_byte_buffer_destroy(c->recv_buf);
	c->recv_buf = NULL;
	return all;
}

static double clamp01(double x)
{
	if (isnan(x) || x < 0)
		return 0;
	return x > 1 ? 1 : x;
}

static void json_ts(struct jw *j)
{
	struct timespec t;
	struct tm tm;
	char buf[40];

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	jw_key(j, "ts");
	jw_printf(j, "\"%s.%03ldZ\"", buf, t.tv_nsec / 1000000);
}

/* One whole line per write: records from a busy detector never interleave. */
static void json_emit(struct jw *j)
{
	jw_end(j);
	if (jw_ok(j))
		fwrite(j->b.buf, 1, j->b.len, stdout);
	else
		log_error("out of memory writing a JSON record");
}

/* data["pid"] as a JSON number, null when it is not one (JSON numbers have
 * no leading zeros: "0123" would make the whole line unparsable). */
static void json_pid(struct jw *j, const char *pid)
{
	size_t n = pid ? strspn(pid, "0123456789") : 0;

	jw_key(j, "pid");
	if (n && n <= 10 && !pid[n] && (pid[0] != '0' || n == 1))
		jw_raw(j, pid, n);
	else
		jw_raw(j, "null", 4);
}

static void log_anomaly(struct server *s, const Sentinel__V1__EventEnvelope *ev,
			const struct verdict *v)
{
	struct jw *j = &s->jw;
	const char *truncated = envelope_data(ev, "filename_truncated");

	jw_begin(j);
	json_ts(j);
	jw_kv_str(j, "level", "warn");
	jw_kv_str(j, "msg", "anomaly");
	jw_kv_str(j, "type", "event");
	jw_kv_str(j, "event_id", ev->event_id);
	jw_kv_str(j, "reason", v->reason);
	jw_key(j, "score");
	jw_printf(j, "%.6g", v->score);
	jw_kv_str(j, "event_type", ev->event_type);
	jw_kv_str(j, "filename", envelope_data(ev, "filename"));
	if (truncated && strcmp(truncated, "true") == 0) {
		jw_key(j, "filename_truncated"); /* only the name's leading part */
		jw_raw(j, "true", 4);
	}
	jw_kv_str(j, "comm", envelope_data(ev, "comm"));
	json_pid(j, envelope_data(ev, "pid"));
	jw_kv_str(j, "hostname", ev->hostname);
	jw_kv_str(j, "pod", ev->pod_name);
	jw_kv_str(j, "namespace", ev->namespace_);
	jw_kv_str(j, "container_id", ev->container_id);
	jw_kv_str(j, "agent_id", ev->agent_id);
	jw_key(j, "seq");
	jw_printf(j, "%llu", (unsigned long long)ev->seq);
	json_emit(j);
}

static void log_report(struct server *s, const struct call_ctx *c,
		       const Sentinel__V1__AnomalyReport *r)
{
	struct jw *j = &s->jw;

	jw_begin(j);
	json_ts(j);
	jw_kv_str(j, "level", "warn");
	jw_kv_str(j, "msg", "anomaly");
	jw_kv_str(j, "type", "report");
	jw_kv_str(j, "event_id", r->event_id);
	jw_kv_str(j, "reason", r->reason);
	jw_key(j, "score");
	jw_printf(j, "%.6g", clamp01(r->score));
	jw_obj_open(j, "labels");
	for (size_t i = 0; i < r->n_labels; i++)
		jw_kv_str(j, r->labels[i]->key, r->labels[i]->value);
	jw_obj_close(j);
	jw_kv_str(j, "peer", c->peer);
	json_emit(j);
}

/* ---- scoring ---- */

/* The counter for verdict code @code, added on first sight; NULL when the
 * table is full (the caller then counts "other"). */
static struct server_code_count *code_slot(struct server_stats *st, const char *code)
{
	for (unsigned i = 0; i < st->n_codes; i++)
		if (strcmp(st->codes[i].code, code) == 0)
			return &st->codes[i];
	/* The last slot is kept for "other". */
	if (st->n_codes >= VERDICT_CODES_MAX)
		return NULL;
	snprintf(st->codes[st->n_codes].code, sizeof(st->codes[0].code), "%s", code);
	return &st->codes[st->n_codes++];
}

static void count_anomaly(struct server_stats *st, const char *code)
{
	struct server_code_count *c = code_slot(st, code && *code ? code : "unspecified");

	if (!c) {
		c = &st->codes[VERDICT_CODES_MAX];
		if (!c->code[0]) {
			snprintf(c->code, sizeof(c->code), "other");
			st->n_codes = VERDICT_CODES_MAX + 1;
		}
	}
	c->n++;
}

static void score_event(struct server *s, Sentinel__V1__EventEnvelope *ev, struct verdict *v)
{
	struct timespec now;
	uint64_t now_ns;

	envelope_restore_bytes(ev);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	latency_add(&s->lat_interval, ev->ts_unix_nano, now_ns);
	latency_add(&s->lat_total, ev->ts_unix_nano, now_ns);
	if (ev->ts_unix_nano)
		histogram_observe(&s->stats.latency,
				  now_ns > ev->ts_unix_nano
					  ? (double)(now_ns - ev->ts_unix_nano) / 1e9
					  : 0.0);
	memset(v, 0, sizeof(*v));
	s->o.scorer->score(s->o.scorer_state, ev, v);
	v->score = clamp01(v->score);
	s->stats.events++;
	if (v->anomaly) {
		s->stats.anomalies++;
		count_anomaly(&s->stats, v->code);
		log_anomaly(s, ev, v);
	}
}

static void fill_response(Sentinel__V1__DetectionResponse *r, const Sentinel__V1__EventEnvelope *ev,
			  struct verdict *v, Google__Protobuf__Timestamp *ts)
{
	sentinel__v1__detection_response__init(r);
	r->event_id = ev->event_id;
	r->anomaly = v->anomaly;
	r->reason = v->reason;
	r->score = v->score;
	r->ts = ts;
	r->seq = ev->seq;
}

static int grow_scratch(struct server *s, size_t n)
{
	size_t cap = s->scratch_cap ? s->scratch_cap : 64;
	void *v, *r, *p;

	if (n <= s->scratch_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(s->verdicts, cap * sizeof(*s->verdicts));
	if (v)
		s->verdicts = v;
	r = realloc(s->resps, cap * sizeof(*s->resps));
	if (r)
		s->resps = r;
	p = realloc(s->resp_ptrs, cap * sizeof(*s->resp_ptrs));
	if (p)
		s->resp_ptrs = p;
	if (!v || !r || !p)
		return -1;
	s->scratch_cap = cap;
	return 0;
}

/* ---- posting operations ---- */

static int post(struct call_ctx *c, enum op op, const grpc_op *ops, size_t n)
{
	grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->tags[op], NULL);

	if (e != GRPC_CALL_OK) {
		log_error("grpc: starting a call operation failed", "method=%s op=%d error=%d",
			  rpcs[c->rpc].name, op, e);
		return -1;
	}
	c->pending++;
	return 0;
}

/* Gives up on a call: gRPC completes whatever is still pending. */
static void kill_call(struct call_ctx *c)
{
	c->state = CALL_DEAD;
	grpc_call_cancel(c->call, NULL);
}

static void post_recv(struct call_ctx *c, bool with_initial_metadata)
{
	grpc_op ops[2] = {{0}};
	size_t n = 0;

	if (with_initial_metadata)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n++].data.recv_message.recv_message = &c->recv_buf;
	c->state = CALL_READING;
	if (post(c, OP_RECV, ops, n) != 0)
		kill_call(c);
}

static void post_send(struct call_ctx *c, grpc_byte_buffer *bb)
{
	grpc_op send = {.op = GRPC_OP_SEND_MESSAGE};

	c->send_buf = bb;
	send.data.send_message.send_message = bb;
	c->state = CALL_WRITING;
	if (post(c, OP_SEND, &send, 1) != 0)
		kill_call(c);
}

/*
 * Ends the call with @code. @reply (may be NULL) goes in the same batch;
 * @with_initial_metadata for calls that have not sent it yet.
 */
static void finish(struct call_ctx *c, grpc_status_code code, const char *details,
		   grpc_byte_buffer *reply, bool with_initial_metadata)
{
	grpc_op ops[3] = {{0}};
	size_t n = 0;

	if (with_initial_metadata)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (reply) {
		c->send_buf = reply;
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = reply;
	}
	c->status = code;
	c->status_details = grpc_slice_from_copied_string(details ? details : "");
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = code;
	ops[n++].data.send_status_from_server.status_details = &c->status_details;
	c->state = CALL_FINISHING;
	if (post(c, OP_STATUS, ops, n) != 0)
		kill_call(c);
}

/* ---- call contexts ---- */

static void request_call(struct server *s, enum rpc rpc)
{
	struct call_ctx *c = calloc(1, sizeof(*c));
	grpc_call_error e;

	if (!c) {
		log_error("out of memory: not accepting more calls", "method=%s", rpcs[rpc].name);
		return;
	}
	c->srv = s;
	c->rpc = rpc;
	c->state = CALL_WAITING;
	for (int i = 0; i < OP__COUNT; i++)
		c->tags[i] = (struct op_tag){.ctx = c, .op = (enum op)i};
	c->status_details = grpc_empty_slice();
	grpc_metadata_array_init(&c->req_md);
	if (rpc == RPC_OTHER) {
		grpc_call_details_init(&c->details);
		e = grpc_server_request_call(s->server, &c->call, &c->details, &c->req_md, s->cq,
					     s->cq, &c->tags[OP_REQUEST]);
	} else {
		e = grpc_server_request_registered_call(s->server, s->methods[rpc], &c->call,
							&c->deadline, &c->req_md, NULL, s->cq,
							s->cq, &c->tags[OP_REQUEST]);
	}
	if (e != GRPC_CALL_OK) {
		log_error("grpc: requesting a call failed", "method=%s error=%d", rpcs[rpc].name,
			  e);
		grpc_metadata_array_destroy(&c->req_md);
		if (rpc == RPC_OTHER)
			grpc_call_details_destroy(&c->details);
		free(c);
		return;
	}
	c->pending = 1;
	s->live_calls++;
}

static void free_call(struct call_ctx *c)
{
	struct server *s = c->srv;

	if (c->call && rpcs[c->rpc].streaming) {
		s->stats.streams_active--;
		/* state=dead: the call failed (client gone, cancelled, message
		 * too large); finishing: we ended it, with status=. */
		log_debug("stream closed",
			  "method=%s peer=%s messages=%llu state=%s status=%d cancelled=%d",
			  rpcs[c->rpc].name, c->peer ? c->peer : "",
			  (unsigned long long)c->messages, state_names[c->state], c->status,
			  c->cancelled);
	}
	if (c->recv_buf)
		grpc_byte_buffer_destroy(c->recv_buf);
	if (c->send_buf)
		grpc_byte_buffer_destroy(c->send_buf);
	grpc_slice_unref(c->status_details);
	grpc_metadata_array_destroy(&c->req_md);
	if (c->rpc == RPC_OTHER)
		grpc_call_details_destroy(&c->details);
	if (c->call)
		grpc_call_unref(c->call);
	gpr_free(c->peer);
	free(c);
	s->live_calls--;
}

/* ---- handlers: one message in, what to send back ---- */

static void malformed(struct call_ctx *c, const char *what, size_t len)
{
	char msg[96];

	c->srv->stats.decode_errors++;
	log_warn("malformed message: ending the call with INVALID_ARGUMENT",
		 "method=%s peer=%s bytes=%zu", rpcs[c->rpc].name, c->peer, len);
	snprintf(msg, sizeof(msg), "malformed %s", what);
	finish(c, GRPC_STATUS_INVALID_ARGUMENT, msg, NULL, false);
}

static void on_envelope(struct call_ctx *c, grpc_slice msg)
{
	size_t len = GRPC_SLICE_LENGTH(msg);
	Sentinel__V1__EventEnvelope *ev = sentinel__v1__event_envelope__unpack(
		&c->srv->unpacker, len, GRPC_SLICE_START_PTR(msg));
	Sentinel__V1__DetectionResponse r;
	Google__Protobuf__Timestamp ts = now_ts();
	struct verdict v;

	if (!ev) {
		arena_reset(&c->srv->unpack_mem);
		malformed(c, "EventEnvelope", len);
		return;
	}
	score_event(c->srv, ev, &v);
	fill_response(&r, ev, &v, &ts);
	post_send(c, pack_message(&r.base));
	arena_reset(&c->srv->unpack_mem);
}

static void on_batch(struct call_ctx *c, grpc_slice msg)
{
	struct server *s = c->srv;
	size_t len = GRPC_SLICE_LENGTH(msg);
	Sentinel__V1__EventBatch *b =
		sentinel__v1__event_batch__unpack(&s->unpacker, len, GRPC_SLICE_START_PTR(msg));
	Sentinel__V1__DetectionBatch out = SENTINEL__V1__DETECTION_BATCH__INIT;
	Google__Protobuf__Timestamp ts = now_ts();

	if (!b) {
		arena_reset(&s->unpack_mem);
		malformed(c, "EventBatch", len);
		return;
	}
	if (grow_scratch(s, b->n_events) != 0) {
		log_error("out of memory for a batch", "events=%zu", b->n_events);
		finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "detector out of memory", NULL, false);
		goto cleanup;
	}
	for (size_t i = 0; i < b->n_events; i++) {
		score_event(s, b->events[i], &s->verdicts[i]);
		fill_response(&s->resps[i], b->events[i], &s->verdicts[i], &ts);
		s->resp_ptrs[i] = &s->resps[i];
	}
	out.n_responses = b->n_events;
	out.responses = s->resp_ptrs;
	post_send(c, pack_message(&out.base));
cleanup:
	arena_reset(&s->unpack_mem);
}

static void on_report(struct call_ctx *c, grpc_slice msg)
{
	size_t len = GRPC_SLICE_LENGTH(msg);
	Sentinel__V1__AnomalyReport *r =
		sentinel__v1__anomaly_report__unpack(NULL, len, GRPC_SLICE_START_PTR(msg));
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;

	if (!r) {
		malformed(c, "AnomalyReport", len);
		return;
	}
	c->srv->stats.reports++;
	log_report(c->srv, c, r);
	sentinel__v1__anomaly_report__free_unpacked(r, NULL);
	finish(c, GRPC_STATUS_OK, NULL, pack_message(&empty.base), false);
}

static void on_health_check(struct call_ctx *c, grpc_slice msg)
{
	size_t len = GRPC_SLICE_LENGTH(msg);
	Grpc__Health__V1__HealthCheckRequest *req = grpc__health__v1__health_check_request__unpack(
		NULL, len, GRPC_SLICE_START_PTR(msg));
	Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

	if (!req) {
		malformed(c, "HealthCheckRequest", len);
		return;
	}
	if (req->service[0] && strcmp(req->service, SERVICE_NAME) != 0) {
		/* What the standard health service does for unknown names. */
		finish(c, GRPC_STATUS_NOT_FOUND, "unknown service", NULL, false);
	} else {
		resp.status =
			c->srv->stopping
				? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
				: GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
		finish(c, GRPC_STATUS_OK, NULL, pack_message(&resp.base), false);
	}
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

/* ---- completions: the state machine ---- */

static void on_request(struct call_ctx *c, int ok)
{
	struct server *s = c->srv;
	grpc_op close = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};

	if (!ok) /* the server is shutting down: no call came */
		return;
	if (!s->stopping)
		request_call(s, c->rpc); /* be ready for the next one */
	c->peer = grpc_call_get_peer(c->call);
	if (rpcs[c->rpc].streaming) {
		s->stats.streams_opened++;
		s->stats.streams_active++; /* until free_call() */
		log_debug("stream opened", "method=%s peer=%s", rpcs[c->rpc].name, c->peer);
	}
	close.data.recv_close_on_server.cancelled = &c->cancelled;
	if (post(c, OP_CLOSE, &close, 1) != 0) {
		kill_call(c);
		return;
	}
	if (c->rpc == RPC_OTHER) {
		char *method = grpc_slice_to_c_string(c->details.method);

		log_info("unimplemented method called", "method=%s peer=%s", method, c->peer);
		gpr_free(method);
		finish(c, GRPC_STATUS_UNIMPLEMENTED, "method not implemented by sentinel-detector",
		       NULL, true);
		return;
	}
	post_recv(c, true);
}

static void on_recv(struct call_ctx *c, int ok)
{
	grpc_slice msg;

	if (!ok) {
		kill_call(c);
		return;
	}
	if (!c->recv_buf) {
		/* The client closed its side: all its messages were answered. */
		if (rpcs[c->rpc].streaming)
			finish(c, GRPC_STATUS_OK, NULL, NULL, false);
		else
			finish(c, GRPC_STATUS_INVALID_ARGUMENT, "missing request message", NULL,
			       false);
		return;
	}
	c->messages++;
	msg = take_message(c);
	switch (c->rpc) {
	case RPC_EVENTS: on_envelope(c, msg); break;
	case RPC_BATCHES: on_batch(c, msg); break;
	case RPC_REPORT: on_report(c, msg); break;
	case RPC_HEALTH_CHECK: on_health_check(c, msg); break;
	default: kill_call(c); break;
	}
	grpc_slice_unref(msg);
}

static void on_sent(struct call_ctx *c, int ok)
{
	grpc_byte_buffer_destroy(c->send_buf);
	c->send_buf = NULL;
	if (!ok)
		kill_call(c);
	else
		post_recv(c, false);
}

static void on_status_sent(struct call_ctx *c)
{
	if (c->send_buf) {
		grpc_byte_buffer_destroy(c->send_buf);
		c->send_buf = NULL;
	}
}

static void dispatch(struct server *s, const grpc_event *ev)
{
	struct op_tag *t = ev->tag;
	struct call_ctx *c = t->ctx;

	if (!c) {
		s->shutdown_done = true;
		return;
	}
	c->pending--;
	switch (t->op) {
	case OP_REQUEST: on_request(c, ev->success); break;
	case OP_RECV: on_recv(c, ev->success); break;
	case OP_SEND: on_sent(c, ev->success); break;
	case OP_STATUS: on_status_sent(c); break;
	case OP_CLOSE: break; /* c->cancelled is set */
	default: break;
	}
	if (c->pending == 0)
		free_call(c);
}

void server_poll(struct server *s, int timeout_ms)
{
	gpr_timespec until = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
					  gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(s->cq, until, NULL);

		if (ev.type != GRPC_OP_COMPLETE)
			return; /* timeout */
		dispatch(s, &ev);
		/* A busy queue always has an event ready, past the deadline too:
		 * return anyway so the caller sees signals and its timers. */
		if (gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), until) >= 0)
			return;
	}
}

/* ---- gRPC's own log ---- */

static atomic_int listener_failed;

/*
 * gRPC logs from its own threads too: log_emit() writes whole lines, so
 * this is safe. Its lines join ours in logfmt; one of them is the only
 * sign that its accept loop is gone (see server_listener_failed()).
 */
static void grpc_log(gpr_log_func_args *a)
{
	static const enum log_level levels[] = {
		[GPR_LOG_SEVERITY_DEBUG] = LOG_DEBUG,
		[GPR_LOG_SEVERITY_INFO] = LOG_INFO,
		[GPR_LOG_SEVERITY_ERROR] = LOG_ERROR,
	};
	const char *file = a->file ? strrchr(a->file, '/') : NULL;
	const char *text = a->message ? a->message : "";
	enum log_level lv = LOG_ERROR;
	char q[1024];

	file = file ? file + 1 : a->file ? a->file : "";
	/* tcp_server_posix.cc, on any accept4() error but EAGAIN/ECONNABORTED:
	 * the listener is deactivated and never polled again. */
	if (strstr(file, "tcp_server_posix") && strncmp(text, "Failed accept4", 14) == 0)
		atomic_store(&listener_failed, 1);
	if ((unsigned)a->severity < sizeof(levels) / sizeof(levels[0]))
		lv = levels[a->severity];
	log_emit(lv, "grpc", "source=%s:%d text=%s", file, a->line, log_quote(q, sizeof(q), text));
}

int server_listener_failed(void)
{
	return atomic_load(&listener_failed);
}

/* ---- setup and teardown ---- */

static char *read_file(const char *path, char *err, size_t errcap)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f) {
		snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	if (!buf)
		snprintf(err, errcap, "cannot read %s", path);
	fclose(f);
	return buf;
}

static grpc_server_credentials *make_creds(const struct server_opts *o, char *err, size_t errcap)
{
	grpc_ssl_pem_key_cert_pair pair = {0};
	grpc_server_credentials *creds = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL;

	if (!o->tls_cert)
		return grpc_insecure_server_credentials_create();
	cert = read_file(o->tls_cert, err, errcap);
	key = cert ? read_file(o->tls_key, err, errcap) : NULL;
	if (!key)
		goto cleanup;
	if (o->tls_client_ca && !(ca = read_file(o->tls_client_ca, err, errcap)))
		goto cleanup;
	pair.cert_chain = cert;
	pair.private_key = key;
	/* gRPC copies the PEM text. */
	creds = grpc_ssl_server_credentials_create_ex(
		ca, &pair, 1,
		ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
		   : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
		NULL);
	if (!creds)
		snprintf(err, errcap, "TLS: cannot create server credentials");
cleanup:
	free(cert);
	free(key);
	free(ca);
	return creds;
}

static grpc_arg int_arg(const char *key, int value)
{
	grpc_arg a = {.type = GRPC_ARG_INTEGER, .key = (char *)key, .value.integer = value};

	return a;
}

static grpc_server *create_server(const struct server_opts *o)
{
	grpc_arg args[16];
	grpc_channel_args ca = {.args = args};
	grpc_resource_quota *quota = NULL;
	grpc_server *srv;
	size_t n = 0;

	args[n++] = int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, o->max_message_bytes);
	args[n++] = int_arg(GRPC_ARG_MAX_CONCURRENT_STREAMS, o->max_streams);
	/* A second detector on the same port must fail, not share it. */
	args[n++] = int_arg(GRPC_ARG_ALLOW_REUSEPORT, 0);
	/* Agents ping every 30 s even when idle; the default policy (one ping
	 * per 5 min without data) would GOAWAY them as abusive. */
	args[n++] = int_arg(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
	args[n++] = int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
	/* Our own pings find dead agents, so their streams do not linger. */
	args[n++] = int_arg(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
	args[n++] = int_arg(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
	args[n++] = int_arg(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
	/* Connections end after an age (+-10% jitter, then a grace for the
	 * streams on them): clients reconnect and re-resolve, so new replicas
	 * get their share. */
	if (o->max_connection_age_s > 0) {
		args[n++] = int_arg(GRPC_ARG_MAX_CONNECTION_AGE_MS, o->max_connection_age_s * 1000);
		args[n++] = int_arg(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
				    o->max_connection_age_grace_s * 1000);
	}
	/* One budget for gRPC's memory over all connections: past it gRPC
	 * resets streams and closes connections instead of growing (it reads a
	 * whole message before checking it against max_message_bytes). */
	if (o->max_memory_mb > 0) {
		quota = grpc_resource_quota_create("sentinel-detector");
		grpc_resource_quota_resize(quota, (size_t)o->max_memory_mb << 20);
		args[n].type = GRPC_ARG_POINTER;
		args[n].key = GRPC_ARG_RESOURCE_QUOTA;
		args[n].value.pointer.p = quota;
		args[n++].value.pointer.vtable = grpc_resource_quota_arg_vtable();
	}
	ca.num_args = n;
	srv = grpc_server_create(&ca, NULL);
	if (quota)
		grpc_resource_quota_unref(quota); /* the server holds its own ref */
	return srv;
}

static void format_addr(char *buf, size_t cap, const char *bind, int port)
{
	/* A bare IPv6 address needs brackets before the port. */
	if (strchr(bind, ':') && bind[0] != '[')
		snprintf(buf, cap, "[%s]:%d", bind, port);
	else
		snprintf(buf, cap, "%s:%d", bind, port);
}

/* Everything of a server but gRPC: what the handlers need (the fuzz
 * harness starts a server with this alone). Allocates nothing. */
static void state_init(struct server *s, const struct server_opts *o)
{
	s->o = *o;
	arena_init(&s->unpack_mem, UNPACK_CHUNK);
	s->unpacker = (ProtobufCAllocator){arena_alloc_cb, arena_free_cb, &s->unpack_mem};
	s->shutdown_tag.ctx = NULL;
	histogram_init(&s->stats.latency, latency_bounds,
		       sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	for (size_t i = 0; o->scorer->codes && o->scorer->codes[i]; i++)
		code_slot(&s->stats, o->scorer->codes[i]);
}

struct server *server_start(const struct server_opts *o, char *err, size_t errcap)
{
	struct server *s = calloc(1, sizeof(*s));
	grpc_server_credentials *creds = NULL;
	char addr[300];
	int bound;

	if (!s) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	gpr_set_log_function(grpc_log);
	grpc_init();
	state_init(s, o);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	s->server = create_server(o);
	grpc_server_register_completion_queue(s->server, s->cq, NULL);
	for (int i = 0; i < RPC__COUNT; i++) {
		if (!rpcs[i].path)
			continue;
		s->methods[i] = grpc_server_register_method(s->server, rpcs[i].path, NULL,
							    GRPC_SRM_PAYLOAD_NONE, 0);
		if (!s->methods[i]) {
			snprintf(err, errcap, "cannot register %s", rpcs[i].path);
			goto fail;
		}
	}
	creds = make_creds(o, err, errcap);
	if (!creds)
		goto fail;
	format_addr(addr, sizeof(addr), o->bind, o->port);
	bound = grpc_server_add_http2_port(s->server, addr, creds);
	grpc_server_credentials_release(creds);
	s->port = bound;
	if (bound == 0) {
		snprintf(err, errcap, "cannot listen on %s: port in use or address not available%s",
			 addr, o->tls_cert ? " (or the TLS certificate/key is not valid)" : "");
		goto fail;
	}
	grpc_server_start(s->server);
	for (int i = 0; i < RPC__COUNT; i++)
		request_call(s, (enum rpc)i);
	return s;
fail:
	/* Not started: nothing can be pending on the queue. */
	grpc_server_destroy(s->server);
	grpc_completion_queue_shutdown(s->cq);
	while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(s->cq);
	free(s);
	grpc_shutdown();
	return NULL;
}

void server_stop(struct server *s)
{
	grpc_event ev;

	if (s->stopping)
		return;
	s->stopping = true; /* Health says NOT_SERVING from now on */
	grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
	grpc_server_cancel_all_calls(s->server);
	/* Every call (and every unanswered request) completes after cancel. */
	while (!s->shutdown_done || s->live_calls) {
		ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_OP_COMPLETE)
			dispatch(s, &ev);
	}
	grpc_server_destroy(s->server);
	s->server = NULL;
	grpc_completion_queue_shutdown(s->cq);
	do {
		ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	} while (ev.type != GRPC_QUEUE_SHUTDOWN);
	grpc_completion_queue_destroy(s->cq);
	s->cq = NULL;
}

void server_get_stats(const struct server *s, struct server_stats *out)
{
	*out = s->stats;
}

void server_latency_ms(struct server *s, int whole_run, double *p50, double *p99)
{
	struct latency_hist *h = whole_run ? &s->lat_total : &s->lat_interval;

	*p50 = latency_quantile_ms(h, 0.50);
	*p99 = latency_quantile_ms(h, 0.99);
	if (!whole_run)
		latency_reset(h);
}

int server_port(const struct server *s)
{
	return s->port;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	server_stop(s);
	jw_free(&s->jw);
	free(s->verdicts);
	free(s->resps);
	free(s->resp_ptrs);
	arena_free(&s->unpack_mem);
	free(s);
	grpc_shutdown();
}
