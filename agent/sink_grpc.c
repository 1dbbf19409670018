/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC sink: envelopes to a DetectorService over one long-lived stream,
 * on the gRPC core C API.
 *
 * The reader thread packs each envelope (protobuf-c) and pushes it into a
 * sendq; it never waits on the network. A sender thread owns the channel
 * and its completion queue and runs one call at a time:
 *
 *   StreamEventBatches (EventBatch of up to batchSize, sent when full or
 *   after flush_ms) -- or, when the detector answers UNIMPLEMENTED,
 *   StreamEvents (one envelope per message), said once in the log.
 *
 * gRPC core allows one send in flight per call; a completed send only
 * means the library took the bytes. The detector's responses acknowledge
 * envelopes (by seq, or by event_id in order for detectors that predate
 * seq); a broken stream rewinds the sendq so the unanswered are sent again
 * on the next call (at-least-once while the sendq holds them).
 *
 * At most INFLIGHT_BATCHES batches are sent and unanswered at a time: a
 * slow detector's backlog then waits in the sendq, where it is bounded and
 * counted, instead of in gRPC's and the kernel's buffers (which flow control
 * lets grow to megabytes), and what a full sendq drops was never sent. At
 * 10 ms per answer that still allows 400k events/s with batches of 128.
 *
 * A full sendq drops its oldest unsent entry (the reader never waits): said at
 * once, then at most once a second while it lasts, each line with the
 * count since the previous one, so the lines add up to the counter.
 *
 * Re-sending is only safe if the detector accepts what it is sent again. A
 * detector that refuses one envelope every time (a bug, a limit, a decoder
 * stricter than ours) would make the agent re-send it forever while the
 * queue behind it overflows. So after REFUSALS_TO_ISOLATE streams in a row
 * end refused (INVALID_ARGUMENT, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED)
 * without any answer, the sender isolates: one envelope at a time, so the
 * refusal names it. An envelope refused twice alone is dropped, counted as
 * rejected and logged; after a batch's worth of answers batching
 * resumes. Twice, because memory pressure (RESOURCE_EXHAUSTED) may refuse a
 * healthy envelope once.
 */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "decimal.h"
#include "detwatch.h"
#include "events.pb-c.h"
#include "log.h"
#include "pb_envelope.h"
#include "sendq.h"
#include "sink.h"
#include "utf8.h"

#define METHOD_BATCHES "/sentinel.v1.DetectorService/StreamEventBatches"
#define METHOD_EVENTS "/sentinel.v1.DetectorService/StreamEvents"
#define POLL_MS 5
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define DROP_LOG_NS 1000000000ULL
#define ACK_WATCH_NS 100000000ULL /* looks at the acknowledgements 10 times a second */
#define INFLIGHT_BATCHES 32
#define REFUSALS_TO_ISOLATE 3
#define REFUSALS_TO_REJECT 2
/* An answer to a batch of 256 unpacks into ~35 KiB (a 80-byte struct and a
 * 48-byte id per event; reasons only for anomalies): one chunk, kept
 * between answers. */
#define RESP_CHUNK (64 * 1024)

enum tag_kind { TAG_START = 1, TAG_SEND, TAG_RECV, TAG_STATUS };

/* A name made wire-safe (wire_text()): scratch grown to the longest seen. */
struct wire_text {
	char *text, *hex;
	size_t cap;
};

/* One call to the detector; a new one after each failure. */
struct stream {
	grpc_call *call;
	int ops_pending;
	int send_busy;
	int status_done;
	int fallback; /* ended by UNIMPLEMENTED: retry at once with StreamEvents */
	const char *method;
	grpc_metadata_array md_initial, md_trailing;
	grpc_status_code status;
	grpc_slice details;
	grpc_byte_buffer *recv_buf;
	grpc_byte_buffer *send_buf;
	uint64_t acked_at_start; /* to tell a refused stream from a broken one */
};

struct sink_grpc {
	struct sink base;
	struct sink_grpc_opts o;
	char *target;
	char *agent_id;
	struct sendq q;
	/* reader thread only (and destroy, after it is joined) */
	uint64_t drops_unlogged, drops_unlogged_unacked, drop_log_ns;
	pthread_t sender;
	atomic_int stop;
	atomic_int connected;
	atomic_ullong sent, reconnects, anomalies, responses;
	/* the detector's faults, for telemetry (detwatch.h) */
	atomic_ullong connect_failures, unacked_since_ns;
	atomic_int ack_stalled;
	/* sender thread only */
	struct detwatch watch;
	uint64_t ack_watch_ns;
	grpc_channel *channel;
	grpc_completion_queue *cq;
	struct stream st;
	int batch_mode;
	unsigned backoff_ms;
	uint64_t next_attempt_ns;
	uint8_t *buf; /* the batch being built; handed to gRPC with it */
	size_t buf_cap;
	/* what protobuf-c allocates unpacking one answer, rewound after it:
	 * no malloc/free per field of every response */
	struct arena resp_mem;
	ProtobufCAllocator resp_alloc;
	/* the refusal guard (see the top of this file) */
	unsigned refusals;     /* streams in a row refused without an answer */
	int isolate;	       /* one envelope at a time */
	uint64_t isolated_seq; /* the envelope last refused alone, and how often */
	unsigned isolated_refusals;
	uint64_t isolate_acked; /* acked when isolation began */
	/* reader thread only: names that are not UTF-8, made wire-safe, and
	 * the envelope being encoded (grown to the largest seen) */
	struct wire_text fname, comm, extra[ENVELOPE_EXTRA_MAX];
	uint8_t *pack;
	size_t pack_cap;
	uint64_t not_utf8;
};

static uint64_t acked_total(struct sink_grpc *s)
{
	struct sendq_stats qs;

	sendq_get_stats(&s->q, &qs);
	return qs.acked;
}

static void *tag(enum tag_kind k)
{
	return (void *)(uintptr_t)k;
}

/* ---- reader side ---- */

static void log_drops(struct sink_grpc *s)
{
	struct sendq_stats qs;

	sendq_get_stats(&s->q, &qs);
	log_warn("grpc: queue full, dropped the oldest unsent events",
		 "dropped=%llu sent_before=%llu total=%llu queue_length=%u connected=%d",
		 (unsigned long long)s->drops_unlogged,
		 (unsigned long long)s->drops_unlogged_unacked, (unsigned long long)qs.dropped,
		 s->o.queue_length, atomic_load(&s->connected));
	s->drops_unlogged = s->drops_unlogged_unacked = 0;
}

static void note_push(struct sink_grpc *s, enum sendq_push_result r)
{
	uint64_t now;

	if (r != SENDQ_KEPT) {
		s->drops_unlogged++;
		if (r == SENDQ_DROPPED_UNACKED)
			s->drops_unlogged_unacked++;
	}
	if (!s->drops_unlogged)
		return;
	now = clock_mono_ns();
	if (s->drop_log_ns && now - s->drop_log_ns < DROP_LOG_NS)
		return;
	s->drop_log_ns = now;
	log_drops(s);
}

/*
 * proto3 `string` fields must hold UTF-8, and conforming decoders (Python,
 * Go, Java, C++) reject the whole message when one does not: the detector
 * would fail the stream and the agent re-send the envelope forever. File
 * names and comm are bytes that any local user chooses. So a value that is
 * not UTF-8 goes as text with U+FFFD for each ill-formed subpart (prefix
 * rules on the text still work), plus its exact bytes in hex under
 * "<key>_hex".
 * Returns the text to send; sets *hex when one is needed, else NULL.
 */
static const char *wire_text(struct wire_text *w, const char *s, const char **hex, int *oom)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(s), need = n * UTF8_MAX_EXPANSION + 1;

	*hex = NULL;
	if (utf8_valid(s, n))
		return s;
	if (need < 2 * n + 1)
		need = 2 * n + 1;
	if (w->cap < need) {
		char *t = realloc(w->text, need), *h;

		if (t)
			w->text = t;
		h = t ? realloc(w->hex, need) : NULL;
		if (!h) {
			*oom = 1;
			return s;
		}
		w->hex = h;
		w->cap = need;
	}
	utf8_replace_invalid(s, n, w->text);
	for (size_t i = 0; i < n; i++) {
		w->hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		w->hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	w->hex[2 * n] = '\0';
	*hex = w->hex;
	return w->text;
}

/*
 * The envelope's extra data. The paths among them (hex_key set: the name
 * as the process sees it, the name through a bind mount) can hold bytes
 * that are not UTF-8: each goes like filename, with its exact bytes under
 * its hex_key when needed, in a scratch of its own (both may be in one
 * envelope). The others are the pipeline's digits and flags.
 */
static size_t add_extra(struct sink_grpc *s, const struct envelope *e, const char **keys,
			const char **vals, size_t n, int *oom)
{
	for (unsigned i = 0; i < e->n_extra && i < ENVELOPE_EXTRA_MAX; i++) {
		const char *hex = NULL;

		keys[n] = e->extra[i].key;
		if (!e->extra[i].hex_key) {
			vals[n++] = e->extra[i].value;
			continue;
		}
		vals[n++] = wire_text(&s->extra[i], e->extra[i].value, &hex, oom);
		if (hex) {
			keys[n] = e->extra[i].hex_key;
			vals[n++] = hex;
		}
	}
	return n;
}

/* Data entries of one envelope at most: five fixed, two hex, one flag,
 * and each extra with its hex. */
#define DATA_MAX (8 + 2 * ENVELOPE_EXTRA_MAX)
_Static_assert(DATA_MAX <= PB_ENVELOPE_DATA_MAX, "every data entry reaches the encoder");

/* @e encoded into s->pack (grown to fit); returns its length, 0 when out
 * of memory. */
static size_t encode(struct sink_grpc *s, const struct envelope *e, const char **keys,
		     const char **vals, size_t n)
{
	const struct pb_envelope m = {.event_id = e->event_id,
				      .hostname = e->hostname,
				      .pod_name = e->pod,
				      .namespace_ = e->namespace_,
				      .container_id = e->container_id,
				      .event_type = e->event_type,
				      .keys = keys,
				      .vals = vals,
				      .n_data = n,
				      .ts_unix_nano = e->ts_unix_nano,
				      .seq = e->seq,
				      .agent_id = s->agent_id};
	size_t len = pb_envelope_encode(&m, s->pack, s->pack_cap);

	if (len > s->pack_cap) {
		uint8_t *p = realloc(s->pack, len);

		if (!p)
			return 0;
		s->pack = p;
		s->pack_cap = len;
		pb_envelope_encode(&m, s->pack, s->pack_cap);
	}
	return len;
}

static int grpc_emit(struct sink *base, const struct envelope *e)
{
	struct sink_grpc *s = (struct sink_grpc *)base;
	const char *keys[DATA_MAX] = {"filename", "bytes", "comm", "pid", "tid"};
	char bytes[DECIMAL_U64_LEN + 1], pid[DECIMAL_U64_LEN + 1], tid[DECIMAL_U64_LEN + 1];
	const char *fname_hex, *comm_hex;
	int oom = 0;
	const char *vals[DATA_MAX] = {wire_text(&s->fname, e->filename, &fname_hex, &oom), bytes,
				      wire_text(&s->comm, e->comm, &comm_hex, &oom), pid, tid};
	size_t n = 5, len;
	enum sendq_push_result r;

	if (oom) {
		base->errors[e->type]++;
		return -ENOMEM;
	}
	if (fname_hex || comm_hex)
		s->not_utf8++;
	if (fname_hex) {
		keys[n] = "filename_hex";
		vals[n++] = fname_hex;
	}
	if (comm_hex) {
		keys[n] = "comm_hex";
		vals[n++] = comm_hex;
	}
	if (e->filename_truncated) {
		keys[n] = "filename_truncated";
		vals[n++] = "true";
	}
	n = add_extra(s, e, keys, vals, n, &oom);
	decimal_u64(bytes, e->bytes);
	decimal_u64(pid, e->pid);
	decimal_u64(tid, e->tid);
	len = oom ? 0 : encode(s, e, keys, vals, n);
	r = len ? sendq_push(&s->q, e->seq, e->type, s->pack, (uint32_t)len, e->event_id,
			     e->seen_ns)
		: SENDQ_NO_MEMORY;
	if (r == SENDQ_NO_MEMORY) {
		base->errors[e->type]++;
		return -ENOMEM;
	}
	note_push(s, r);
	base->emitted++;
	return 0;
}

static int grpc_flush(struct sink *base)
{
	(void)base; /* the sender thread sends on its own clock */
	return 0;
}

/* ---- sender thread: one call ---- */

static int start_batch(struct sink_grpc *s, grpc_op *ops, size_t n, enum tag_kind k)
{
	grpc_call_error err = grpc_call_start_batch(s->st.call, ops, n, tag(k), NULL);

	if (err != GRPC_CALL_OK) {
		log_error("grpc: starting an operation failed", "op=%d error=%d", k, err);
		return -1;
	}
	s->st.ops_pending++;
	return 0;
}

static void post_recv(struct sink_grpc *s)
{
	grpc_op recv = {.op = GRPC_OP_RECV_MESSAGE};

	recv.data.recv_message.recv_message = &s->st.recv_buf;
	start_batch(s, &recv, 1, TAG_RECV);
}

static void start_stream(struct sink_grpc *s)
{
	struct stream *st = &s->st;
	grpc_op ops[2] = {{0}};
	grpc_op status = {.op = GRPC_OP_RECV_STATUS_ON_CLIENT};
	const char *method = s->batch_mode ? METHOD_BATCHES : METHOD_EVENTS;
	size_t rewound;

	memset(st, 0, sizeof(*st));
	st->method = s->batch_mode ? "StreamEventBatches" : "StreamEvents";
	grpc_metadata_array_init(&st->md_initial);
	grpc_metadata_array_init(&st->md_trailing);
	/* A stream lives as long as the agent: no deadline. */
	st->call = grpc_channel_create_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq,
					    grpc_slice_from_static_string(method), NULL,
					    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	/* Wait for the detector instead of failing at once while it is down. */
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY;
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata = &st->md_initial;
	start_batch(s, ops, 2, TAG_START);
	status.data.recv_status_on_client.trailing_metadata = &st->md_trailing;
	status.data.recv_status_on_client.status = &st->status;
	status.data.recv_status_on_client.status_details = &st->details;
	start_batch(s, &status, 1, TAG_STATUS);
	post_recv(s);
	st->acked_at_start = acked_total(s);
	rewound = sendq_rewind(&s->q);
	if (rewound)
		log_info("grpc: re-sending unacknowledged events", "count=%zu", rewound);
}

static void end_stream(struct sink_grpc *s)
{
	struct stream *st = &s->st;

	grpc_call_unref(st->call);
	st->call = NULL;
	grpc_metadata_array_destroy(&st->md_initial);
	grpc_metadata_array_destroy(&st->md_trailing);
	grpc_slice_unref(st->details);
}

static void free_batch(void *p, size_t len)
{
	(void)len;
	free(p);
}

static void maybe_send(struct sink_grpc *s, uint64_t now, int draining)
{
	struct stream *st = &s->st;
	grpc_op send = {.op = GRPC_OP_SEND_MESSAGE};
	uint64_t age;
	size_t unsent = sendq_unsent(&s->q, now, &age), n, len;
	size_t batch = s->isolate ? 1 : s->o.batch_size; /* isolating: one at a time */
	grpc_slice slice;

	if (!unsent || sendq_in_flight(&s->q) >= (s->isolate ? 1 : INFLIGHT_BATCHES * batch))
		return;
	/* Wait a little for a batch to fill, but not past flush_ms. */
	if (s->batch_mode && unsent < batch && age < s->o.flush_ms * 1000000ULL && !draining)
		return;
	n = sendq_take(&s->q, batch, s->batch_mode, &s->buf, &s->buf_cap, &len);
	if (!n)
		return;
	/* The batch's memory goes to gRPC (freed when the send is done): no
	 * copy of every byte; the next take allocates a new one. */
	slice = grpc_slice_new_with_len(s->buf, len, free_batch);
	s->buf = NULL;
	s->buf_cap = 0;
	st->send_buf = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	send.data.send_message.send_message = st->send_buf;
	if (start_batch(s, &send, 1, TAG_SEND) != 0) {
		grpc_byte_buffer_destroy(st->send_buf);
		st->send_buf = NULL;
		return;
	}
	st->send_busy = 1;
	atomic_fetch_add(&s->sent, n);
}

static void on_response(struct sink_grpc *s, const Sentinel__V1__DetectionResponse *r)
{
	atomic_fetch_add(&s->responses, 1);
	if (r->seq)
		sendq_ack_seq(&s->q, r->seq);
	else if (r->event_id)
		sendq_ack_event_id(&s->q, r->event_id);
	if (s->isolate && acked_total(s) - s->isolate_acked >= s->o.batch_size) {
		s->isolate = 0;
		s->refusals = 0;
		log_info("grpc: the detector answers again; sending batches");
	}
	if (r->anomaly) {
		char reason[512];

		atomic_fetch_add(&s->anomalies, 1);
		log_warn("detector: anomaly", "event_id=%s score=%.3f reason=%s seq=%llu",
			 r->event_id ? r->event_id : "", r->score,
			 log_quote(reason, sizeof(reason), r->reason ? r->reason : ""),
			 (unsigned long long)r->seq);
	}
}

static void on_message(struct sink_grpc *s, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;

	if (!grpc_byte_buffer_reader_init(&rd, bb))
		return;
	all = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	if (s->batch_mode) {
		Sentinel__V1__DetectionBatch *b = sentinel__v1__detection_batch__unpack(
			&s->resp_alloc, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));

		for (size_t i = 0; b && i < b->n_responses; i++)
			on_response(s, b->responses[i]);
	} else {
		Sentinel__V1__DetectionResponse *r = sentinel__v1__detection_response__unpack(
			&s->resp_alloc, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));

		if (r)
			on_response(s, r);
	}
	arena_reset(&s->resp_mem);
	grpc_slice_unref(all);
}

static int is_refusal(grpc_status_code c)
{
	return c == GRPC_STATUS_INVALID_ARGUMENT || c == GRPC_STATUS_INTERNAL ||
	       c == GRPC_STATUS_UNKNOWN || c == GRPC_STATUS_RESOURCE_EXHAUSTED;
}

/* The stream ended refused: isolate, or drop the envelope refused alone. */
static void on_refusal(struct sink_grpc *s, const char *details)
{
	char id[SENDQ_ID_LEN + 1], q[512];
	uint64_t seq = 0;

	if (acked_total(s) > s->st.acked_at_start) {
		s->refusals = 0; /* answers came: not one envelope refused every time */
		return;
	}
	if (!s->isolate) {
		if (++s->refusals < REFUSALS_TO_ISOLATE)
			return;
		s->isolate = 1;
		s->isolated_refusals = 0;
		s->isolate_acked = acked_total(s);
		log_warn("grpc: the detector refuses what it is sent; sending one event at a time "
			 "to find which",
			 "refusals=%u", s->refusals);
		return;
	}
	/* Isolated: the one envelope in flight is the one refused. */
	if (sendq_in_flight(&s->q) != 1 || !sendq_oldest_sent(&s->q, &seq))
		return;
	if (seq != s->isolated_seq) {
		s->isolated_seq = seq;
		s->isolated_refusals = 0;
	}
	if (++s->isolated_refusals < REFUSALS_TO_REJECT)
		return;
	if (sendq_reject_oldest(&s->q, &seq, id))
		log_warn("grpc: the detector refused an event every time: dropped it",
			 "seq=%llu event_id=%s status=%d details=%s", (unsigned long long)seq, id,
			 s->st.status, log_quote(q, sizeof(q), details));
	s->isolated_refusals = 0;
	s->backoff_ms = BACKOFF_MIN_MS; /* nothing wrong with the connection */
}

static void on_status(struct sink_grpc *s)
{
	struct stream *st = &s->st;
	char *details = grpc_slice_to_c_string(st->details);
	char q[512];
	uint64_t now = clock_mono_ns();

	if (st->status == GRPC_STATUS_UNIMPLEMENTED && s->batch_mode) {
		st->fallback = 1;
		log_warn("grpc: detector has no StreamEventBatches; falling back to StreamEvents "
			 "(one event per message)");
		s->batch_mode = 0;
		s->next_attempt_ns = now;
	} else {
		if (!atomic_load(&s->stop))
			log_warn("grpc: stream to detector ended",
				 "status=%d details=%s retry_ms=%u", st->status,
				 log_quote(q, sizeof(q), details), s->backoff_ms);
		if (is_refusal(st->status))
			on_refusal(s, details);
		s->next_attempt_ns = now + s->backoff_ms * 1000000ULL;
		s->backoff_ms =
			s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
	}
	gpr_free(details);
}

static void handle(struct sink_grpc *s, enum tag_kind k, int ok)
{
	struct stream *st = &s->st;

	st->ops_pending--;
	switch (k) {
	case TAG_START:
		/* A call refused at once (UNIMPLEMENTED) may still complete this. */
		if (ok && !st->status_done)
			s->backoff_ms = BACKOFF_MIN_MS;
		break;
	case TAG_SEND:
		st->send_busy = 0;
		grpc_byte_buffer_destroy(st->send_buf);
		st->send_buf = NULL;
		break;
	case TAG_RECV:
		if (ok && st->recv_buf) {
			on_message(s, st->recv_buf);
			grpc_byte_buffer_destroy(st->recv_buf);
			st->recv_buf = NULL;
			if (!st->status_done)
				post_recv(s);
		}
		break;
	case TAG_STATUS:
		st->status_done = 1;
		on_status(s);
		break;
	}
	if (st->status_done && st->ops_pending == 0) {
		int again = !atomic_load(&s->stop) && !st->fallback;

		end_stream(s);
		if (again)
			atomic_fetch_add(&s->reconnects, 1);
	}
}

/* ---- sender thread: channel and loop ---- */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static grpc_channel_credentials *make_creds(const struct sink_grpc_opts *o)
{
	grpc_ssl_pem_key_cert_pair pair = {0};
	grpc_channel_credentials *c = NULL;
	char *ca = NULL, *cert = NULL, *key = NULL;

	if (!o->tls)
		return grpc_insecure_credentials_create();
	if (o->ca_file && *o->ca_file && !(ca = read_file(o->ca_file))) {
		log_error("grpc.tls.caFile unreadable", "path=%s errno=%d", o->ca_file, errno);
		goto cleanup;
	}
	if (o->cert_file && *o->cert_file) {
		cert = read_file(o->cert_file);
		key = o->key_file && *o->key_file ? read_file(o->key_file) : NULL;
		if (!cert || !key) {
			log_error("grpc.tls: certFile and keyFile must both be readable for mTLS",
				  "cert=%s key=%s", o->cert_file, o->key_file ? o->key_file : "");
			goto cleanup;
		}
		pair.cert_chain = cert;
		pair.private_key = key;
	}
	/* NULL roots: gRPC's default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH). */
	c = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
cleanup:
	free(ca);
	free(cert);
	free(key);
	return c;
}

static int open_channel(struct sink_grpc *s)
{
	grpc_arg args[] = {
		/* dns:/// resolves every detector replica; round_robin spreads
		 * agents' streams over them (the detector also caps connection
		 * age so long-lived streams move to new replicas). */
		{.type = GRPC_ARG_STRING,
		 .key = GRPC_ARG_LB_POLICY_NAME,
		 .value.string = "round_robin"},
		{.type = GRPC_ARG_INTEGER,
		 .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
		 .value.integer = BACKOFF_MIN_MS},
		{.type = GRPC_ARG_INTEGER,
		 .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
		 .value.integer = BACKOFF_MIN_MS},
		{.type = GRPC_ARG_INTEGER,
		 .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
		 .value.integer = BACKOFF_MAX_MS},
		{.type = GRPC_ARG_INTEGER,
		 .key = GRPC_ARG_KEEPALIVE_TIME_MS,
		 .value.integer = 30000},
		{.type = GRPC_ARG_INTEGER,
		 .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		 .value.integer = 64 << 20},
	};
	grpc_channel_args ca = {.num_args = sizeof(args) / sizeof(args[0]), .args = args};
	grpc_channel_credentials *creds = make_creds(&s->o);

	if (!creds)
		return -EINVAL;
	s->channel = grpc_channel_create(s->target, creds, &ca);
	grpc_channel_credentials_release(creds);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	return s->channel && s->cq ? 0 : -ENOMEM;
}

static void close_channel(struct sink_grpc *s)
{
	grpc_event ev;

	if (s->st.call) {
		grpc_call_cancel(s->st.call, NULL);
		while (s->st.call) {
			ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME),
							NULL);
			if (ev.type != GRPC_OP_COMPLETE)
				break;
			handle(s, (enum tag_kind)(uintptr_t)ev.tag, ev.success);
		}
	}
	if (s->channel)
		grpc_channel_destroy(s->channel);
	if (s->cq) {
		grpc_completion_queue_shutdown(s->cq);
		do {
			ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME),
							NULL);
		} while (ev.type != GRPC_QUEUE_SHUTDOWN);
		grpc_completion_queue_destroy(s->cq);
	}
}

static gpr_timespec in_ms(unsigned ms)
{
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static enum detwatch_conn conn_of(grpc_connectivity_state st)
{
	switch (st) {
	case GRPC_CHANNEL_CONNECTING: return DETWATCH_CONNECTING;
	case GRPC_CHANNEL_READY: return DETWATCH_READY;
	case GRPC_CHANNEL_TRANSIENT_FAILURE: return DETWATCH_FAILURE;
	case GRPC_CHANNEL_SHUTDOWN: return DETWATCH_SHUTDOWN;
	case GRPC_CHANNEL_IDLE:
	default: return DETWATCH_IDLE;
	}
}

/* A failed attempt to reach the detector, said where operators look. */
static void watch_channel(struct sink_grpc *s, grpc_connectivity_state cs, uint64_t now)
{
	struct detwatch *w = &s->watch;

	enum detwatch_say say = detwatch_channel(w, conn_of(cs), now);

	atomic_store(&s->connect_failures, w->failures);
	if (say != DETWATCH_SAY_UNREACHABLE)
		return;
	log_warn("grpc: cannot connect to the detector",
		 "target=%s failed_attempts=%llu down_s=%llu hint=\"check grpc.endpoint and that "
		 "the detector is up; events wait in the queue\"",
		 s->target, (unsigned long long)w->failures_said,
		 (unsigned long long)((now - w->down_since_ns) / 1000000000ULL));
}

/* A detector that leaves what it was sent unanswered (detwatch.h). */
static void watch_acks(struct sink_grpc *s, uint64_t now)
{
	struct detwatch *w = &s->watch;
	enum detwatch_say say;

	if (now - s->ack_watch_ns < ACK_WATCH_NS)
		return;
	s->ack_watch_ns = now;
	say = detwatch_acks(w, sendq_in_flight(&s->q), acked_total(s), atomic_load(&s->connected),
			    now);
	atomic_store(&s->unacked_since_ns, w->wait_since_ns);
	atomic_store(&s->ack_stalled, w->stalled);
	if (say == DETWATCH_SAY_NOT_ACKING)
		log_error("grpc: the detector does not acknowledge what it is sent",
			  "target=%s unanswered=%llu waited_s=%llu hint=\"the detector must answer "
			  "every message: a reply with seq N acknowledges every event up to N "
			  "(proto/events.proto); meanwhile the queue fills and drops the oldest\"",
			  s->target, (unsigned long long)w->outstanding,
			  (unsigned long long)(detwatch_unacked_ns(w, now) / 1000000000ULL));
	else if (say == DETWATCH_SAY_ACKING_AGAIN)
		log_info("grpc: the detector acknowledges again", "target=%s", s->target);
}

/*
 * Connected: a call is open and the channel is READY. Some servers send
 * their initial metadata only with the first answer, so the call's own
 * start is not a reliable sign.
 */
static void update_connected(struct sink_grpc *s, uint64_t now)
{
	grpc_connectivity_state cs = grpc_channel_check_connectivity_state(s->channel, 0);
	int up = s->st.call && !s->st.status_done && cs == GRPC_CHANNEL_READY;

	watch_channel(s, cs, now);
	if (up != atomic_load(&s->connected)) {
		atomic_store(&s->connected, up);
		if (up)
			log_info("grpc: connected to detector", "target=%s method=%s", s->target,
				 s->st.method);
		else if (!atomic_load(&s->stop))
			log_warn("grpc: disconnected from detector; buffering", "target=%s",
				 s->target);
	}
	watch_acks(s, now);
}

static int drained(struct sink_grpc *s)
{
	struct sendq_stats qs;

	sendq_get_stats(&s->q, &qs);
	return qs.depth == 0;
}

static void *sender_main(void *arg)
{
	struct sink_grpc *s = arg;
	uint64_t grace_end = 0;

	for (;;) {
		uint64_t now = clock_mono_ns();
		int stopping = atomic_load(&s->stop);
		grpc_event ev;

		if (stopping) {
			/* Flush what we hold, for a bounded time. */
			if (!grace_end)
				grace_end = now + s->o.shutdown_grace_ms * 1000000ULL;
			if (drained(s) || now >= grace_end)
				break;
		}
		if (!s->st.call && now >= s->next_attempt_ns)
			start_stream(s);
		if (s->st.call && !s->st.send_busy && !s->st.status_done)
			maybe_send(s, now, stopping);
		ev = grpc_completion_queue_next(s->cq, in_ms(POLL_MS), NULL);
		if (ev.type == GRPC_OP_COMPLETE)
			handle(s, (enum tag_kind)(uintptr_t)ev.tag, ev.success);
		update_connected(s, clock_mono_ns());
	}
	close_channel(s);
	return NULL;
}

/* ---- lifecycle ---- */

static void grpc_destroy(struct sink *base)
{
	struct sink_grpc *s = (struct sink_grpc *)base;
	struct sendq_stats qs;

	atomic_store(&s->stop, 1);
	pthread_join(s->sender, NULL);
	if (s->drops_unlogged)
		log_drops(s);
	sendq_get_stats(&s->q, &qs);
	if (qs.depth)
		log_warn("grpc: events not acknowledged by the detector at shutdown",
			 "count=%llu unsent=%llu", (unsigned long long)qs.depth,
			 (unsigned long long)qs.unsent);
	log_info("grpc sink stopped",
		 "emitted=%llu sent=%llu acked=%llu resent=%llu dropped=%llu "
		 "dropped_sent_before=%llu unacked=%llu reconnects=%llu anomalies=%llu "
		 "rejected=%llu not_utf8=%llu",
		 (unsigned long long)base->emitted, (unsigned long long)atomic_load(&s->sent),
		 (unsigned long long)qs.acked, (unsigned long long)qs.resent,
		 (unsigned long long)qs.dropped, (unsigned long long)qs.dropped_unacked,
		 (unsigned long long)qs.depth, (unsigned long long)atomic_load(&s->reconnects),
		 (unsigned long long)atomic_load(&s->anomalies), (unsigned long long)qs.rejected,
		 (unsigned long long)s->not_utf8);
	for (int t = 0; t < EV_TYPES; t++)
		base->errors[t] += sendq_type_held(&qs.type[t]);
	sendq_free(&s->q);
	grpc_shutdown();
	free(s->buf);
	free(s->pack);
	arena_free(&s->resp_mem);
	free(s->fname.text);
	free(s->fname.hex);
	free(s->comm.text);
	free(s->comm.hex);
	for (unsigned i = 0; i < ENVELOPE_EXTRA_MAX; i++) {
		free(s->extra[i].text);
		free(s->extra[i].hex);
	}
	free(s->target);
	free(s->agent_id);
	free(s);
}

static const struct sink_ops grpc_ops = {
	.emit = grpc_emit,
	.flush = grpc_flush,
	.destroy = grpc_destroy,
};

/* "host:port" -> "dns:///host:port"; targets with a scheme are kept. */
static char *make_target(const char *endpoint)
{
	char *t = NULL;

	if (strstr(endpoint, "://") || strncmp(endpoint, "dns:", 4) == 0 ||
	    strncmp(endpoint, "unix:", 5) == 0 || strncmp(endpoint, "ipv4:", 5) == 0 ||
	    strncmp(endpoint, "ipv6:", 5) == 0)
		return strdup(endpoint);
	if (asprintf(&t, "dns:///%s", endpoint) < 0)
		return NULL;
	return t;
}

struct sink *sink_grpc_new(const struct sink_grpc_opts *o)
{
	struct sink_grpc *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &grpc_ops;
	s->o = *o;
	s->batch_mode = 1;
	s->backoff_ms = BACKOFF_MIN_MS;
	detwatch_init(&s->watch, (uint64_t)o->ack_timeout_s * 1000000000ULL);
	arena_init(&s->resp_mem, RESP_CHUNK);
	s->resp_alloc = (ProtobufCAllocator){arena_alloc_cb, arena_free_cb, &s->resp_mem};
	s->target = make_target(o->endpoint);
	s->agent_id = strdup(o->agent_id ? o->agent_id : "");
	if (!s->target || !s->agent_id || sendq_init(&s->q, o->queue_length) != 0)
		goto fail;
	grpc_init();
	if (open_channel(s) != 0) {
		close_channel(s);
		grpc_shutdown();
		goto fail;
	}
	if (pthread_create(&s->sender, NULL, sender_main, s) != 0) {
		close_channel(s);
		grpc_shutdown();
		goto fail;
	}
	log_info("grpc sink started", "target=%s batch_size=%u queue_length=%u tls=%s", s->target,
		 o->batch_size, o->queue_length, o->tls ? "on" : "off");
	return &s->base;
fail:
	sendq_free(&s->q);
	free(s->target);
	free(s->agent_id);
	free(s);
	return NULL;
}

void sink_grpc_get_stats(struct sink *base, struct sink_grpc_stats *out)
{
	struct sink_grpc *s = (struct sink_grpc *)base;
	struct sendq_stats qs;
	uint64_t since, now;

	sendq_get_stats(&s->q, &qs);
	out->sent = atomic_load(&s->sent);
	out->acked = qs.acked;
	out->resent = qs.resent;
	out->dropped = qs.dropped;
	out->dropped_unacked = qs.dropped_unacked;
	out->rejected = qs.rejected;
	memcpy(out->type, qs.type, sizeof(out->type));
	out->queue_depth = qs.depth;
	out->reconnects = atomic_load(&s->reconnects);
	out->connected = atomic_load(&s->connected);
	out->connect_failures = atomic_load(&s->connect_failures);
	since = atomic_load(&s->unacked_since_ns);
	now = clock_mono_ns();
	out->unacked_ns = since && now > since ? now - since : 0;
	out->ack_stalled = atomic_load(&s->ack_stalled) && out->connected;
	out->anomalies = atomic_load(&s->anomalies);
	out->responses = atomic_load(&s->responses);
	out->not_utf8 = s->not_utf8; /* the reader thread's own counter: it calls this */
}
