/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-legacy-client: speaks to a DetectorService as an agent of the
 * original project did: StreamEvents only, one EventEnvelope per message,
 * no seq and no agent_id. Sends --count envelopes, reads every answer,
 * checks each answer's event_id against the envelopes, in order, and prints
 *   {"sent":N,"received":M,"anomalies":K}
 * Exit 0 only if M == N, every event_id matched and the call ended OK.
 *
 * --garbage sends one frame that is not a protobuf message instead and
 * exits 0 only if the call ends with INVALID_ARGUMENT.
 *
 * Sending and receiving overlap (one send and one receive in flight, the
 * most gRPC core allows), so the throughput printed on stderr is the
 * detector's per-event rate, not a round-trip rate.
 */
#include <getopt.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.pb-c.h"

#define METHOD "/sentinel.v1.DetectorService/StreamEvents"
#define PROG "sentinel-legacy-client"

enum tag_kind { TAG_START = 1, TAG_SEND, TAG_RECV, TAG_CLOSE, TAG_STATUS };

struct opts {
	const char *target;
	unsigned long count;
	bool sensitive, garbage;
	int timeout_s;
	const char *ca, *cert, *key;
};

struct client {
	struct opts o;
	grpc_completion_queue *cq;
	grpc_call *call;
	int pending;
	unsigned long sent, received, anomalies, mismatches;
	bool status_done, recv_done;
	grpc_byte_buffer *send_buf, *recv_buf;
	grpc_metadata_array md_initial, md_trailing;
	grpc_status_code status;
	grpc_slice details;
};

static void *tag(enum tag_kind k)
{
	return (void *)(uintptr_t)k;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " [options]\n"
		     "  --target HOST:PORT  detector (default localhost:50051)\n"
		     "  --count N           envelopes to send (default 1000)\n"
		     "  --sensitive         file_write events to /etc/sentinel-test (anomalies)\n"
		     "                      instead of file_read events of /tmp\n"
		     "  --garbage           send one malformed frame, expect INVALID_ARGUMENT\n"
		     "  --timeout-s S       call deadline (default 120)\n"
		     "  --ca FILE           TLS with these roots; --cert FILE --key FILE: mTLS\n");
}

static void event_id(char *buf, size_t cap, unsigned long i)
{
	snprintf(buf, cap, "legacy-%d-%lu", (int)getpid(), i);
}

static int start_batch(struct client *c, const grpc_op *ops, size_t n, enum tag_kind k)
{
	grpc_call_error e = grpc_call_start_batch(c->call, ops, n, tag(k), NULL);

	if (e != GRPC_CALL_OK) {
		fprintf(stderr, PROG ": start_batch(%d) failed: %d\n", k, e);
		return -1;
	}
	c->pending++;
	return 0;
}

static grpc_byte_buffer *buffer_of(const uint8_t *p, size_t len)
{
	grpc_slice s = grpc_slice_from_copied_buffer((const char *)p, len);
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

	grpc_slice_unref(s);
	return bb;
}

/* The envelope an original-project agent would send: no seq, no agent_id. */
static grpc_byte_buffer *make_envelope(const struct client *c, unsigned long i)
{
	Sentinel__V1__EventEnvelope env = SENTINEL__V1__EVENT_ENVELOPE__INIT;
	Sentinel__V1__EventEnvelope__DataEntry d[5], *dp[5];
	const char *keys[5] = {"filename", "bytes", "comm", "pid", "tid"};
	char id[64], pid[16], buf[1024];
	const char *vals[5] = {c->o.sensitive ? "/etc/sentinel-test" : "/tmp/sentinel-legacy-test",
			       "4096", "legacy-client", pid, pid};
	struct timespec now;
	size_t len;

	event_id(id, sizeof(id), i);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int k = 0; k < 5; k++) {
		sentinel__v1__event_envelope__data_entry__init(&d[k]);
		d[k].key = (char *)keys[k];
		d[k].value = (char *)vals[k];
		dp[k] = &d[k];
	}
	clock_gettime(CLOCK_REALTIME, &now);
	env.event_id = id;
	env.hostname = "legacy-host";
	env.event_type = c->o.sensitive ? "file_write" : "file_read";
	env.n_data = 5;
	env.data = dp;
	env.ts_unix_nano = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	len = sentinel__v1__event_envelope__get_packed_size(&env);
	if (len > sizeof(buf))
		return NULL;
	sentinel__v1__event_envelope__pack(&env, (uint8_t *)buf);
	return buffer_of((const uint8_t *)buf, len);
}

/* Field 1, length-delimited, says 127 bytes follow; 2 do. */
static grpc_byte_buffer *make_garbage(void)
{
	static const uint8_t bad[] = {0x0a, 0x7f, 'x', 'y'};

	return buffer_of(bad, sizeof(bad));
}

static void send_next(struct client *c)
{
	grpc_op next = {.op = GRPC_OP_SEND_MESSAGE};
	unsigned long total = c->o.garbage ? 1 : c->o.count;

	if (c->sent == total) {
		next.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		start_batch(c, &next, 1, TAG_CLOSE);
		return;
	}
	c->send_buf = c->o.garbage ? make_garbage() : make_envelope(c, c->sent);
	next.data.send_message.send_message = c->send_buf;
	if (start_batch(c, &next, 1, TAG_SEND) != 0) {
		grpc_byte_buffer_destroy(c->send_buf);
		c->send_buf = NULL;
	}
}

static void post_recv(struct client *c)
{
	grpc_op recv = {.op = GRPC_OP_RECV_MESSAGE};

	recv.data.recv_message.recv_message = &c->recv_buf;
	start_batch(c, &recv, 1, TAG_RECV);
}

static void on_response(struct client *c)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;
	Sentinel__V1__DetectionResponse *r;
	char want[64];

	grpc_byte_buffer_reader_init(&rd, c->recv_buf);
	all = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	r = sentinel__v1__detection_response__unpack(NULL, GRPC_SLICE_LENGTH(all),
						     GRPC_SLICE_START_PTR(all));
	grpc_slice_unref(all);
	if (!r) {
		fprintf(stderr, PROG ": undecodable response #%lu\n", c->received);
		c->mismatches++;
		return;
	}
	event_id(want, sizeof(want), c->received);
	if (strcmp(r->event_id, want) != 0) {
		if (c->mismatches++ < 5)
			fprintf(stderr, PROG ": response #%lu: event_id %s, expected %s\n",
				c->received, r->event_id, want);
	}
	c->received++;
	if (r->anomaly)
		c->anomalies++;
	sentinel__v1__detection_response__free_unpacked(r, NULL);
}

static void handle(struct client *c, enum tag_kind k, int ok)
{
	c->pending--;
	switch (k) {
	case TAG_START: break;
	case TAG_SEND:
		grpc_byte_buffer_destroy(c->send_buf);
		c->send_buf = NULL;
		if (ok) {
			c->sent++;
			send_next(c);
		}
		break;
	case TAG_RECV:
		if (ok && c->recv_buf) {
			on_response(c);
			grpc_byte_buffer_destroy(c->recv_buf);
			c->recv_buf = NULL;
			post_recv(c);
		} else {
			c->recv_done = true;
		}
		break;
	case TAG_CLOSE: break;
	case TAG_STATUS: c->status_done = true; break;
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static grpc_channel_credentials *make_creds(const struct opts *o)
{
	grpc_ssl_pem_key_cert_pair pair = {0};
	grpc_channel_credentials *creds = NULL;
	char *ca = NULL, *cert = NULL, *key = NULL;

	if (!o->ca)
		return grpc_insecure_credentials_create();
	ca = slurp(o->ca);
	if (o->cert) {
		cert = slurp(o->cert);
		key = o->key ? slurp(o->key) : NULL;
	}
	if (!ca || (o->cert && (!cert || !key))) {
		fprintf(stderr, PROG ": cannot read the TLS files\n");
		goto cleanup;
	}
	pair.cert_chain = cert;
	pair.private_key = key;
	creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
cleanup:
	free(ca);
	free(cert);
	free(key);
	return creds;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"target", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'},
		{"sensitive", no_argument, NULL, 's'},
		{"garbage", no_argument, NULL, 'g'},
		{"timeout-s", required_argument, NULL, 'T'},
		{"ca", required_argument, NULL, 'C'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	o->target = "localhost:50051";
	o->count = 1000;
	o->timeout_s = 120;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': o->target = optarg; break;
		case 'n': o->count = strtoul(optarg, NULL, 10); break;
		case 's': o->sensitive = true; break;
		case 'g': o->garbage = true; break;
		case 'T': o->timeout_s = atoi(optarg); break;
		case 'C': o->ca = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return optind == argc && o->timeout_s > 0 ? 0 : -1;
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void start_call(struct client *c, grpc_channel *ch)
{
	grpc_op ops[2] = {{0}};
	grpc_op st = {.op = GRPC_OP_RECV_STATUS_ON_CLIENT};
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
					     gpr_time_from_seconds(c->o.timeout_s, GPR_TIMESPAN));

	c->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
					   grpc_slice_from_static_string(METHOD), NULL, deadline,
					   NULL);
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata = &c->md_initial;
	start_batch(c, ops, 2, TAG_START);
	st.data.recv_status_on_client.trailing_metadata = &c->md_trailing;
	st.data.recv_status_on_client.status = &c->status;
	st.data.recv_status_on_client.status_details = &c->details;
	start_batch(c, &st, 1, TAG_STATUS);
	post_recv(c);
	send_next(c);
}

int main(int argc, char **argv)
{
	struct client c = {0};
	grpc_channel_credentials *creds;
	grpc_channel *ch;
	grpc_event ev;
	double t0, dt;
	char *details;
	int ok;

	if (parse_opts(argc, argv, &c.o) != 0)
		return 2;
	grpc_init();
	creds = make_creds(&c.o);
	if (!creds) {
		grpc_shutdown();
		return 2;
	}
	ch = grpc_channel_create(c.o.target, creds, NULL);
	grpc_channel_credentials_release(creds);
	c.cq = grpc_completion_queue_create_for_next(NULL);
	grpc_metadata_array_init(&c.md_initial);
	grpc_metadata_array_init(&c.md_trailing);
	t0 = mono_s();
	start_call(&c, ch);
	while (!c.status_done || c.pending > 0) {
		ev = grpc_completion_queue_next(c.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type != GRPC_OP_COMPLETE)
			break;
		handle(&c, (enum tag_kind)(uintptr_t)ev.tag, ev.success);
	}
	dt = mono_s() - t0;
	details = grpc_slice_to_c_string(c.details);
	if (c.o.garbage) {
		printf("{\"status\":%d}\n", c.status);
		fprintf(stderr, PROG ": call ended with status %d: %s\n", c.status, details);
		ok = c.status == GRPC_STATUS_INVALID_ARGUMENT;
	} else {
		printf("{\"sent\":%lu,\"received\":%lu,\"anomalies\":%lu}\n", c.sent, c.received,
		       c.anomalies);
		if (c.status != GRPC_STATUS_OK)
			fprintf(stderr, PROG ": call ended with status %d: %s\n", c.status,
				details);
		fprintf(stderr, PROG ": %lu events in %.3f s: %.0f events/s\n", c.received, dt,
			dt > 0 ? (double)c.received / dt : 0.0);
		ok = c.received == c.o.count && c.sent == c.o.count && !c.mismatches &&
		     c.status == GRPC_STATUS_OK;
	}
	gpr_free(details);
	grpc_slice_unref(c.details);
	grpc_metadata_array_destroy(&c.md_initial);
	grpc_metadata_array_destroy(&c.md_trailing);
	grpc_call_unref(c.call);
	grpc_channel_destroy(ch);
	grpc_completion_queue_shutdown(c.cq);
	while (grpc_completion_queue_next(c.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(c.cq);
	grpc_shutdown();
	return ok ? 0 : 1;
}
