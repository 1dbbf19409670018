/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: what the detector does with a request message from the
 * network, exactly as detector/server.c does it. The input is one gRPC
 * message payload; each input goes, as a fresh call, through the handler of
 * every method: StreamEvents (EventEnvelope), StreamEventBatches
 * (EventBatch), ReportAnomaly (AnomalyReport) and Health/Check.
 *
 * How: server.c is compiled into this file, so that its static handlers
 * can be driven, with the two gRPC functions that need a live call
 * (grpc_call_start_batch, grpc_call_cancel) redirected to stubs that
 * record what the server posts. Everything else is the real code: the byte
 * buffer as gRPC hands it over, protobuf-c unpacking, the reference scorer,
 * the latency histograms, the verdict-code counters, the anomaly log line,
 * packing the answer, freeing the call. One server lives across inputs, as
 * in a real detector (its batch scratch space grows and is reused).
 *
 * Invariants (a violation traps):
 *  - a message protobuf-c cannot unpack ends its call with
 *    INVALID_ARGUMENT and counts one decode error; nothing is sent;
 *  - otherwise the answer unpacks, with one verdict per envelope in order,
 *    carrying its event_id and seq, a score in [0, 1], and reason "" and
 *    score 0 when not an anomaly; counters add up (events, anomalies, the
 *    per-code counts, latency observations);
 *  - every anomaly or report log line is one valid JSON object on one line;
 *  - no call is cancelled, and every call is freed (LeakSanitizer).
 */
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>

static grpc_call_error fuzz_start_batch(grpc_call *call, const grpc_op *ops, size_t nops, void *tag,
					void *reserved);
static grpc_call_error fuzz_call_cancel(grpc_call *call, void *reserved);

/* server.c's own #includes of the gRPC headers are no-ops now (include
 * guards), so only its calls are renamed, not the declarations. */
#define grpc_call_start_batch fuzz_start_batch
#define grpc_call_cancel fuzz_call_cancel
#include "server.c"
#undef grpc_call_start_batch
#undef grpc_call_cancel

#include "fuzz.h"
#include "json_check.h"

/* What the server posted for the call under test. */
static struct {
	unsigned batches;
	bool recv, send, status;
	grpc_status_code code;
	unsigned cancels;
} posted;

static grpc_call_error fuzz_start_batch(grpc_call *call, const grpc_op *ops, size_t nops, void *tag,
					void *reserved)
{
	(void)call;
	(void)tag;
	(void)reserved;
	posted.batches++;
	for (size_t i = 0; i < nops; i++) {
		switch (ops[i].op) {
		case GRPC_OP_RECV_MESSAGE: posted.recv = true; break;
		case GRPC_OP_SEND_MESSAGE:
			FUZZ_CHECK(ops[i].data.send_message.send_message != NULL);
			posted.send = true;
			break;
		case GRPC_OP_SEND_STATUS_FROM_SERVER:
			posted.status = true;
			posted.code = ops[i].data.send_status_from_server.status;
			break;
		default: break;
		}
	}
	return GRPC_CALL_OK;
}

static grpc_call_error fuzz_call_cancel(grpc_call *call, void *reserved)
{
	(void)call;
	(void)reserved;
	posted.cancels++;
	return GRPC_CALL_OK;
}

static struct server *srv;
static uint64_t observed; /* events with a timestamp: latency observations */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct server_opts opts = {0};
	char err[256];

	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR); /* one warning per malformed message otherwise */
	/* Anomaly lines go to stdout: the checks read them from the buffer. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	/* The reference scorer's settings, fixed so that crashes reproduce. */
	setenv("DETECTOR_SENSITIVE_PREFIXES", "/etc,/bin,/usr,/sbin,/boot,/", 1);
	setenv("DETECTOR_HIGH_WRITE_BYTES", "4096", 1);
	setenv("DETECTOR_ALLOWED_COMMS", "bash, dpkg,a-very-long-process-name", 1);

	/* server_start() without the listening part. */
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		abort();
	opts.scorer = &scorer_reference;
	if (scorer_reference.init(&opts.scorer_state, err, sizeof(err))) {
		fprintf(stderr, "scorer: %s\n", err);
		abort();
	}
	state_init(srv, &opts);
	return 0;
}

/* A call of @rpc whose RECV_MESSAGE just completed with the input. */
static struct call_ctx *recv_call(enum rpc rpc, const uint8_t *data, size_t size)
{
	struct call_ctx *c = calloc(1, sizeof(*c));
	grpc_slice slice = grpc_slice_from_copied_buffer((const char *)data, size);

	if (!c)
		abort();
	c->srv = srv;
	c->rpc = rpc;
	c->state = CALL_READING;
	for (int i = 0; i < OP__COUNT; i++)
		c->tags[i] = (struct op_tag){.ctx = c, .op = (enum op)i};
	c->status_details = grpc_empty_slice();
	grpc_metadata_array_init(&c->req_md);
	c->peer = gpr_strdup("ipv4:127.0.0.1:40000");
	c->recv_buf = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	c->pending = 1; /* the RECV_MESSAGE completing now */
	srv->live_calls++;
	return c;
}

/* Hands the message to the server; returns the call for inspection. */
static struct call_ctx *deliver(enum rpc rpc, const uint8_t *data, size_t size)
{
	struct call_ctx *c = recv_call(rpc, data, size);
	grpc_event ev = {.type = GRPC_OP_COMPLETE, .success = 1, .tag = &c->tags[OP_RECV]};

	memset(&posted, 0, sizeof(posted));
	jbuf_reset(&srv->jw.b); /* so that a line written now can be told apart */
	dispatch(srv, &ev);
	/* Nothing posted would have freed the call already. */
	FUZZ_CHECK(posted.cancels == 0 && posted.batches > 0);
	FUZZ_CHECK(c->state != CALL_DEAD && c->pending == posted.batches);
	if (srv->jw.b.len)
		FUZZ_CHECK(jcheck_line(srv->jw.b.buf, srv->jw.b.len));
	return c;
}

/* The payload the server sent (a copy; caller frees). */
static uint8_t *sent_bytes(struct call_ctx *c, size_t *len)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;
	uint8_t *copy;

	FUZZ_CHECK(c->send_buf != NULL);
	FUZZ_CHECK(grpc_byte_buffer_reader_init(&rd, c->send_buf));
	all = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	*len = GRPC_SLICE_LENGTH(all);
	copy = malloc(*len + 1);
	if (!copy)
		abort();
	memcpy(copy, GRPC_SLICE_START_PTR(all), *len);
	grpc_slice_unref(all);
	return copy;
}

static void done(struct call_ctx *c)
{
	unsigned live = srv->live_calls;

	free_call(c);
	FUZZ_CHECK(srv->live_calls == live - 1);
}

static void check_malformed(struct call_ctx *c, uint64_t decode_errors)
{
	FUZZ_CHECK(srv->stats.decode_errors == decode_errors + 1);
	FUZZ_CHECK(posted.status && posted.code == GRPC_STATUS_INVALID_ARGUMENT);
	FUZZ_CHECK(!posted.send && !c->send_buf && c->state == CALL_FINISHING);
}

/* One verdict against its envelope. */
static void check_verdict(const Sentinel__V1__DetectionResponse *r,
			  const Sentinel__V1__EventEnvelope *ev)
{
	FUZZ_CHECK(r && strcmp(r->event_id, ev->event_id) == 0 && r->seq == ev->seq);
	FUZZ_CHECK(r->score >= 0 && r->score <= 1 && r->ts && r->reason);
	if (!r->anomaly)
		FUZZ_CHECK(r->score == 0 && r->reason[0] == '\0');
	else
		FUZZ_CHECK(r->score > 0 && r->reason[0] != '\0');
}

static void check_counters(const struct server_stats *before, size_t n_events, uint64_t anomalies)
{
	const struct server_stats *st = &srv->stats;
	uint64_t by_code = 0;

	FUZZ_CHECK(st->events == before->events + n_events);
	FUZZ_CHECK(st->anomalies == before->anomalies + anomalies);
	FUZZ_CHECK(st->n_codes <= VERDICT_CODES_MAX + 1);
	for (unsigned i = 0; i < st->n_codes; i++)
		by_code += st->codes[i].n;
	FUZZ_CHECK(by_code == st->anomalies);
	FUZZ_CHECK(st->latency.count == observed);
	FUZZ_CHECK(srv->lat_total.n == st->events);
}

static void count_observed(const Sentinel__V1__EventEnvelope *ev)
{
	observed += ev->ts_unix_nano != 0;
}

static void fuzz_envelope(const uint8_t *data, size_t size)
{
	Sentinel__V1__EventEnvelope *ev = sentinel__v1__event_envelope__unpack(NULL, size, data);
	struct server_stats before = srv->stats;
	struct call_ctx *c = deliver(RPC_EVENTS, data, size);
	Sentinel__V1__DetectionResponse *r;
	uint8_t *out;
	size_t len;

	if (!ev) {
		check_malformed(c, before.decode_errors);
		done(c);
		return;
	}
	FUZZ_CHECK(posted.send && !posted.status && c->state == CALL_WRITING);
	out = sent_bytes(c, &len);
	r = sentinel__v1__detection_response__unpack(NULL, len, out);
	check_verdict(r, ev);
	count_observed(ev);
	check_counters(&before, 1, r->anomaly);
	sentinel__v1__detection_response__free_unpacked(r, NULL);
	free(out);
	sentinel__v1__event_envelope__free_unpacked(ev, NULL);
	done(c);
}

static void fuzz_batch(const uint8_t *data, size_t size)
{
	Sentinel__V1__EventBatch *b = sentinel__v1__event_batch__unpack(NULL, size, data);
	struct server_stats before = srv->stats;
	struct call_ctx *c = deliver(RPC_BATCHES, data, size);
	Sentinel__V1__DetectionBatch *out;
	uint64_t anomalies = 0;
	uint8_t *bytes;
	size_t len;

	if (!b) {
		check_malformed(c, before.decode_errors);
		done(c);
		return;
	}
	FUZZ_CHECK(posted.send && !posted.status && c->state == CALL_WRITING);
	bytes = sent_bytes(c, &len);
	out = sentinel__v1__detection_batch__unpack(NULL, len, bytes);
	FUZZ_CHECK(out && out->n_responses == b->n_events);
	for (size_t i = 0; i < b->n_events; i++) {
		check_verdict(out->responses[i], b->events[i]);
		anomalies += out->responses[i]->anomaly;
		count_observed(b->events[i]);
	}
	check_counters(&before, b->n_events, anomalies);
	sentinel__v1__detection_batch__free_unpacked(out, NULL);
	free(bytes);
	sentinel__v1__event_batch__free_unpacked(b, NULL);
	done(c);
}

static void fuzz_report(const uint8_t *data, size_t size)
{
	Sentinel__V1__AnomalyReport *r = sentinel__v1__anomaly_report__unpack(NULL, size, data);
	struct server_stats before = srv->stats;
	struct call_ctx *c = deliver(RPC_REPORT, data, size);
	Google__Protobuf__Empty *empty;
	uint8_t *bytes;
	size_t len;

	if (!r) {
		check_malformed(c, before.decode_errors);
		done(c);
		return;
	}
	FUZZ_CHECK(posted.send && posted.status && posted.code == GRPC_STATUS_OK);
	FUZZ_CHECK(srv->stats.reports == before.reports + 1);
	FUZZ_CHECK(srv->jw.b.len > 0); /* the report's log line */
	bytes = sent_bytes(c, &len);
	empty = google__protobuf__empty__unpack(NULL, len, bytes);
	FUZZ_CHECK(empty != NULL);
	google__protobuf__empty__free_unpacked(empty, NULL);
	free(bytes);
	sentinel__v1__anomaly_report__free_unpacked(r, NULL);
	done(c);
}

static void fuzz_health(const uint8_t *data, size_t size)
{
	Grpc__Health__V1__HealthCheckRequest *req =
		grpc__health__v1__health_check_request__unpack(NULL, size, data);
	struct server_stats before = srv->stats;
	struct call_ctx *c = deliver(RPC_HEALTH_CHECK, data, size);
	Grpc__Health__V1__HealthCheckResponse *resp;
	uint8_t *bytes;
	size_t len;

	if (!req) {
		check_malformed(c, before.decode_errors);
		done(c);
		return;
	}
	FUZZ_CHECK(posted.status);
	if (req->service[0] && strcmp(req->service, SERVICE_NAME) != 0) {
		FUZZ_CHECK(posted.code == GRPC_STATUS_NOT_FOUND && !posted.send);
	} else {
		FUZZ_CHECK(posted.code == GRPC_STATUS_OK && posted.send);
		bytes = sent_bytes(c, &len);
		resp = grpc__health__v1__health_check_response__unpack(NULL, len, bytes);
		FUZZ_CHECK(
			resp &&
			resp->status ==
				GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
		grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
		free(bytes);
	}
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
	done(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double p50, p99;

	fuzz_envelope(data, size);
	fuzz_batch(data, size);
	fuzz_report(data, size);
	fuzz_health(data, size);
	FUZZ_CHECK(srv->live_calls == 0);

	/* What the detector's periodic log line reads (and resets). */
	server_latency_ms(srv, size & 1, &p50, &p99);
	FUZZ_CHECK((p50 == -1 && p99 == -1) || (p50 > 0 && p50 <= p99));
	return 0;
}
