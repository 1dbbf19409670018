/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the HTTP server (common/http.c), on 127.0.0.1, talked to with
 * a plain socket client so every byte of the answer is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"

#define BIG_BODY (1 << 20)

struct resp {
	int status;
	char head[4096]; /* status line and headers, NUL-terminated */
	char *body;	 /* malloc'ed, NUL-terminated */
	size_t body_len;
};

static atomic_int calls;

static void h_hello(void *ctx, struct http_reply *r)
{
	(void)ctx;
	atomic_fetch_add(&calls, 1);
	r->content_type = METRICS_CONTENT_TYPE;
	fputs("hello\n", r->body);
}

static void h_unavailable(void *ctx, struct http_reply *r)
{
	fprintf(r->body, "down: %s\n", (const char *)ctx);
	r->status = 503;
}

static void h_empty(void *ctx, struct http_reply *r)
{
	(void)ctx;
	(void)r;
}

static void h_big(void *ctx, struct http_reply *r)
{
	(void)ctx;
	for (int i = 0; i < BIG_BODY; i++)
		fputc('a' + i % 26, r->body);
}

static void h_bad_status(void *ctx, struct http_reply *r)
{
	(void)ctx;
	r->status = 42;
}

static atomic_int slow_done;

static void h_slow(void *ctx, struct http_reply *r)
{
	(void)ctx;
	usleep(300 * 1000);
	fputs("slow\n", r->body);
	atomic_store(&slow_done, 1);
}

static const struct http_route routes[] = {
	{"/metrics", h_hello, NULL},  {"/down", h_unavailable, "detector"},
	{"/empty", h_empty, NULL},    {"/big", h_big, NULL},
	{"/bad", h_bad_status, NULL}, {"/slow", h_slow, NULL},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static struct http_server *start_ok(const char *bind, unsigned port, unsigned threads)
{
	char err[512] = "";
	struct http_server *s =
		http_start("test", bind, port, routes, N_ROUTES, threads, err, sizeof(err));

	if (!s)
		fail_msg("http_start(%s, %u): %s", bind, port, err);
	assert_true(http_port(s) > 0 && http_port(s) <= 65535);
	return s;
}

/* Sends @raw to 127.0.0.1:@port, reads to EOF. 0, or -1 on a socket error. */
static int exchange(unsigned port, const char *raw, struct resp *out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 10};
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *sep;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret = -1;

	memset(out, 0, sizeof(*out));
	if (fd < 0 || !buf)
		goto cleanup;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    write(fd, raw, strlen(raw)) != (ssize_t)strlen(raw))
		goto cleanup;
	for (;;) {
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				goto cleanup;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0)
			goto cleanup;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || (size_t)(sep - buf) >= sizeof(out->head) ||
	    sscanf(buf, "HTTP/1.%*d %d ", &out->status) != 1)
		goto cleanup;
	memcpy(out->head, buf, (size_t)(sep - buf));
	out->head[sep - buf] = '\0';
	out->body_len = len - (size_t)(sep + 4 - buf);
	out->body = malloc(out->body_len + 1);
	if (!out->body)
		goto cleanup;
	memcpy(out->body, sep + 4, out->body_len + 1);
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static void request(unsigned port, const char *raw, struct resp *out)
{
	if (exchange(port, raw, out) != 0)
		fail_msg("no well-formed answer to: %s", raw);
}

/* The value of header @name (case-insensitive), NULL when absent. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name);

	for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p, "\r\n")) {
		const char *eol;

		p += 2;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ')
			p++;
		eol = strstr(p, "\r\n");
		snprintf(buf, cap, "%.*s", (int)(eol ? (size_t)(eol - p) : strlen(p)), p);
		return buf;
	}
	return NULL;
}

static void assert_header(const struct resp *r, const char *name, const char *want)
{
	char buf[256];
	const char *v = header(r, name, buf, sizeof(buf));

	if (!v || strcmp(v, want) != 0)
		fail_msg("header %s: want \"%s\", got \"%s\" in\n%s", name, want, v ? v : "(none)",
			 r->head);
}

static void test_get(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 2);
	struct resp r;

	(void)state;
	request(http_port(s), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello\n");
	assert_int_equal(r.body_len, 6);
	assert_header(&r, "Content-Length", "6");
	assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	assert_header(&r, "Cache-Control", "no-store");
	assert_header(&r, "Connection", "close");
	free(r.body);

	/* The query string is not part of the path; HTTP/1.0 works too. */
	request(http_port(s), "GET /metrics?x=1 HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello\n");
	free(r.body);

	/* A handler's status and the default content type. */
	request(http_port(s), "GET /down HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "down: detector\n");
	assert_header(&r, "Content-Length", "15");
	assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	free(r.body);

	/* An empty body, and a status that is not one: 500. */
	request(http_port(s), "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	assert_header(&r, "Content-Length", "0");
	free(r.body);
	request(http_port(s), "GET /bad HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 500);
	free(r.body);
	http_stop(s);
}

static void test_big_body(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 1);
	char want[16];
	struct resp r;

	(void)state;
	request(http_port(s), "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, BIG_BODY);
	snprintf(want, sizeof(want), "%d", BIG_BODY);
	assert_header(&r, "Content-Length", want);
	for (size_t i = 0; i < r.body_len; i++)
		if (r.body[i] != 'a' + (int)(i % 26))
			fail_msg("byte %zu differs", i);
	free(r.body);
	http_stop(s);
}

static void test_not_found_and_method(void **state)
{
	static const char *const missing[] = {"/", "/nope", "/metrics/", "/metricsx", "/METRICS"};
	struct http_server *s = start_ok("127.0.0.1", 0, 2);
	char raw[128];
	struct resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", missing[i]);
		request(http_port(s), raw, &r);
		if (r.status != 404)
			fail_msg("%s: status %d, want 404", missing[i], r.status);
		assert_string_equal(r.body, "not found\n");
		free(r.body);
	}
	request(http_port(s), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		&r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	assert_string_equal(r.body, "method not allowed\n");
	free(r.body);
	request(http_port(s), "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	free(r.body);
	http_stop(s);
}

static void test_head(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 2);
	struct resp r;
	int before = atomic_load(&calls);

	(void)state;
	request(http_port(s), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	/* The GET body's length, and no body. */
	assert_header(&r, "Content-Length", "6");
	assert_int_equal(r.body_len, 0);
	assert_int_equal(atomic_load(&calls), before + 1);
	free(r.body);
	request(http_port(s), "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body_len, 0);
	free(r.body);
	http_stop(s);
}

static void test_port_in_use(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 1), *s2;
	char err[512] = "", want[64];
	struct resp r;

	(void)state;
	s2 = http_start("metrics", "127.0.0.1", http_port(s), routes, N_ROUTES, 1, err,
			sizeof(err));
	assert_null(s2);
	snprintf(want, sizeof(want), "metrics server 127.0.0.1:%u: cannot listen (", http_port(s));
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, "Address already in use"))
		fail_msg("unclear error: %s", err);
	/* The first one is unharmed. */
	request(http_port(s), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	http_stop(s);
}

static void test_bad_arguments(void **state)
{
	char err[512] = "";
	struct http_route bad = {"metrics", h_hello, NULL};

	(void)state;
	assert_null(http_start("t", "localhost", 0, routes, N_ROUTES, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "bind address \"localhost\": expected an IP address"));
	assert_null(http_start("t", "127.0.0.1", 65536, routes, N_ROUTES, 1, err, sizeof(err)));
	assert_null(http_start("t", "127.0.0.1", 0, routes, N_ROUTES, 0, err, sizeof(err)));
	assert_null(
		http_start("t", "127.0.0.1", 0, routes, HTTP_MAX_ROUTES + 1, 1, err, sizeof(err)));
	assert_null(http_start("t", "127.0.0.1", 0, &bad, 1, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "route 0"));
	http_stop(NULL);
}

static void test_any_address(void **state)
{
	static const char *const binds[] = {"0.0.0.0", "::", "[::]"};
	struct resp r;

	(void)state;
	/* "::" is every address: IPv4 127.0.0.1 answers either way. */
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		struct http_server *s = start_ok(binds[i], 0, 1);

		request(http_port(s), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
		assert_int_equal(r.status, 200);
		free(r.body);
		http_stop(s);
	}
}

struct hammer {
	unsigned port;
	int ok;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	struct resp r;

	for (int i = 0; i < 25; i++) {
		if (exchange(h->port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0 &&
		    r.status == 200 && strcmp(r.body, "hello\n") == 0)
			h->ok++;
		free(r.body);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 4);
	struct hammer h[16];
	pthread_t t[16];
	int before = atomic_load(&calls), total = 0;

	(void)state;
	for (int i = 0; i < 16; i++) {
		h[i] = (struct hammer){.port = http_port(s)};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		total += h[i].ok;
	}
	assert_int_equal(total, 16 * 25);
	assert_int_equal(atomic_load(&calls), before + 16 * 25);
	http_stop(s);
}

static void *slow_client(void *arg)
{
	struct resp r;

	if (exchange(*(unsigned *)arg, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0)
		free(r.body);
	return NULL;
}

static void test_stop_waits_for_handlers(void **state)
{
	struct http_server *s = start_ok("127.0.0.1", 0, 2);
	unsigned port = http_port(s);
	struct resp r;
	pthread_t t;

	(void)state;
	atomic_store(&slow_done, 0);
	assert_int_equal(pthread_create(&t, NULL, slow_client, &port), 0);
	usleep(100 * 1000); /* the handler is sleeping now */
	http_stop(s);
	assert_int_equal(atomic_load(&slow_done), 1);
	pthread_join(t, NULL);
	/* Nobody listens any more. */
	assert_int_equal(exchange(port, "GET /metrics HTTP/1.1\r\n\r\n", &r), -1);
	free(r.body);
	/* The port can be listened on again at once. */
	s = start_ok("127.0.0.1", port, 1);
	assert_int_equal(http_port(s), port);
	http_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_big_body),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_any_address),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_stop_waits_for_handlers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
