/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny HTTP server on civetweb. See http.h.
 *
 * One catch-all civetweb handler dispatches on the exact path, so 404 and
 * 405 are ours and look the same as every other answer. civetweb's own
 * messages go through the log_message callback: while mg_start() runs (on
 * the caller's thread) the first one is kept for the error string,
 * afterwards they are logged.
 */
#include "http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_CONTENT_TYPE "text/plain; charset=utf-8"
#define REQUEST_TIMEOUT_MS "5000"
#define MAX_THREADS 64
#define MG_FEATURE_IPV6 8 /* mg_check_feature() bit */

struct http_server {
	char name[32];
	struct sockaddr_storage self; /* where to connect to reach the listener */
	socklen_t self_len;
	struct mg_context *ctx;
	struct http_route routes[HTTP_MAX_ROUTES];
	size_t n_routes;
	unsigned port;
	char start_error[256]; /* civetweb's first complaint during mg_start() */
};

/* The server whose mg_start() runs on this thread, if any. */
static __thread struct http_server *starting;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
	/* Process lifetime: never mg_exit_library(), other servers may start. */
	mg_init_library(0);
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
	const struct http_server *s = NULL;
	char q[512];

	if (starting) {
		if (!starting->start_error[0])
			snprintf(starting->start_error, sizeof(starting->start_error), "%s",
				 message);
		else
			log_debug("civetweb", "server=%s message=%s", starting->name,
				  log_quote(q, sizeof(q), message));
		return 1;
	}
	if (conn && mg_get_context(conn))
		s = mg_get_user_data(mg_get_context(conn));
	log_error("http server error", "server=%s message=%s", s ? s->name : "?",
		  log_quote(q, sizeof(q), message));
	return 1; /* handled: civetweb prints nothing itself */
}

/* ---- answering ---- */

static void send_reply(struct mg_connection *conn, int status, const char *content_type,
		       const char *body, size_t len, bool head, const char *allow)
{
	char cl[24];

	snprintf(cl, sizeof(cl), "%zu", len);
	mg_response_header_start(conn, status);
	mg_response_header_add(conn, "Content-Type", content_type, -1);
	mg_response_header_add(conn, "Content-Length", cl, -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	if (allow)
		mg_response_header_add(conn, "Allow", allow, -1);
	mg_response_header_send(conn);
	if (!head && len)
		mg_write(conn, body, len);
}

static int send_text(struct mg_connection *conn, int status, const char *text, bool head,
		     const char *allow)
{
	send_reply(conn, status, DEFAULT_CONTENT_TYPE, text, strlen(text), head, allow);
	return status;
}

static const struct http_route *find_route(const struct http_server *s, const char *path)
{
	for (size_t i = 0; path && i < s->n_routes; i++)
		if (strcmp(s->routes[i].path, path) == 0)
			return &s->routes[i];
	return NULL;
}

/* Every request, on a civetweb worker thread. Returns the status (logged). */
static int on_request(struct mg_connection *conn, void *cbdata)
{
	const struct http_server *s = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const struct http_route *route = find_route(s, ri->local_uri);
	bool head = strcmp(ri->request_method, "HEAD") == 0;
	struct http_reply r = {.status = 200, .content_type = DEFAULT_CONTENT_TYPE};
	char *body = NULL;
	size_t len = 0;
	int status;

	if (!route)
		return send_text(conn, 404, "not found\n", head, NULL);
	if (!head && strcmp(ri->request_method, "GET") != 0)
		return send_text(conn, 405, "method not allowed\n", false, "GET, HEAD");
	r.body = open_memstream(&body, &len);
	if (!r.body)
		return send_text(conn, 500, "out of memory\n", head, NULL);
	route->fn(route->ctx, &r);
	/* A memstream reports a failed (out of memory) write at close. */
	if (fclose(r.body) != 0) {
		free(body);
		return send_text(conn, 500, "out of memory\n", head, NULL);
	}
	status = r.status >= 100 && r.status <= 599 ? r.status : 500;
	send_reply(conn, status, r.content_type ? r.content_type : DEFAULT_CONTENT_TYPE, body, len,
		   head, NULL);
	free(body);
	return status;
}

/* ---- starting and stopping ---- */

/*
 * civetweb's "listening_ports" entry for @bind and @port, the address as
 * we show it, and where http_stop() connects to (s->self, port set later).
 * "::" asks for every address: civetweb's "+port" is both families, or IPv4
 * only in a build without IPv6.
 */
static int listen_spec(struct http_server *s, const char *bind, unsigned port, char *spec,
		       size_t speccap, char *show, size_t showcap, char *err, size_t errcap)
{
	static const char want[] = "expected an IP address such as 0.0.0.0, 127.0.0.1 or ::";
	struct sockaddr_in *v4 = (struct sockaddr_in *)&s->self;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s->self;
	bool ipv6 = mg_check_feature(MG_FEATURE_IPV6) != 0;
	size_t len = strlen(bind);
	char host[64];

	if (len >= 2 && bind[0] == '[' && bind[len - 1] == ']' && len - 2 < sizeof(host)) {
		memcpy(host, bind + 1, len - 2);
		host[len - 2] = '\0';
	} else if (len < sizeof(host)) {
		memcpy(host, bind, len + 1);
	} else {
		snprintf(err, errcap, "bind address \"%.80s...\": %s", bind, want);
		return -1;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		if (v4->sin_addr.s_addr == htonl(INADDR_ANY))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->self_len = sizeof(*v4);
		snprintf(spec, speccap, "%s:%u", host, port);
		snprintf(show, showcap, "%s:%u", host, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
		snprintf(err, errcap, "bind address \"%s\": %s", bind, want);
		return -1;
	}
	if (strcmp(host, "::") == 0) {
		if (!ipv6)
			log_warn("no IPv6 in this civetweb build: listening on IPv4 only",
				 "bind=%s port=%u", bind, port);
		/* IPv4 answers in both cases. */
		memset(&s->self, 0, sizeof(s->self));
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->self_len = sizeof(*v4);
		snprintf(spec, speccap, "+%u", port);
		snprintf(show, showcap, "[::]:%u", port);
		return 0;
	}
	if (!ipv6) {
		snprintf(err, errcap, "bind address %s: this civetweb build has no IPv6 support",
			 bind);
		return -1;
	}
	v6->sin6_family = AF_INET6;
	s->self_len = sizeof(*v6);
	snprintf(spec, speccap, "[%s]:%u", host, port);
	snprintf(show, showcap, "[%s]:%u", host, port);
	return 0;
}

static void set_self_port(struct http_server *s)
{
	if (s->self.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&s->self)->sin6_port = htons((uint16_t)s->port);
	else
		((struct sockaddr_in *)&s->self)->sin_port = htons((uint16_t)s->port);
}

/* mg_start() with every signal blocked: its threads inherit the mask. */
static struct mg_context *start_blocked(const struct mg_callbacks *cb, struct http_server *s,
					const char **options)
{
	sigset_t all, old;
	struct mg_context *ctx;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	starting = s;
	ctx = mg_start(cb, s, options);
	starting = NULL;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ctx;
}

struct http_server *http_start(const char *name, const char *bind, unsigned port,
			       const struct http_route *routes, size_t n, unsigned threads,
			       char *err, size_t errcap)
{
	struct mg_callbacks cb = {.log_message = on_log_message};
	struct mg_server_port ports[4];
	struct http_server *s = NULL;
	char spec[96], nthreads[12], show[80];
	const char *options[] = {
		"listening_ports",
		spec,
		"num_threads",
		nthreads,
		"request_timeout_ms",
		REQUEST_TIMEOUT_MS,
		"enable_keep_alive",
		"no",
		NULL,
	};

	pthread_once(&lib_once, lib_init);
	if (port > 65535 || threads < 1 || threads > MAX_THREADS || n > HTTP_MAX_ROUTES) {
		snprintf(err, errcap, "%s server: invalid port, thread count or route count", name);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!routes[i].path || routes[i].path[0] != '/' || !routes[i].fn) {
			snprintf(err, errcap, "%s server: route %zu: invalid path or handler", name,
				 i);
			return NULL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errcap, "%s server: out of memory", name);
		return NULL;
	}
	if (listen_spec(s, bind, port, spec, sizeof(spec), show, sizeof(show), err, errcap) != 0)
		goto fail;
	snprintf(nthreads, sizeof(nthreads), "%u", threads);
	snprintf(s->name, sizeof(s->name), "%s", name);
	memcpy(s->routes, routes, n * sizeof(*routes));
	s->n_routes = n;
	s->ctx = start_blocked(&cb, s, options);
	if (!s->ctx) {
		snprintf(err, errcap, "%s server %s: cannot listen (%s)", name, show,
			 s->start_error[0] ? s->start_error : "see the log");
		goto fail;
	}
	/* Until this is set civetweb answers 404 itself: nobody knows a port 0
	 * server's port yet, and a fixed one is not announced before we return. */
	mg_set_request_handler(s->ctx, "/", on_request, s);
	if (mg_get_server_ports(s->ctx, 4, ports) < 1 || ports[0].port <= 0) {
		snprintf(err, errcap, "%s server %s: cannot tell the port listened on", name, show);
		goto fail;
	}
	s->port = (unsigned)ports[0].port;
	set_self_port(s);
	return s;
fail:
	http_stop(s);
	return NULL;
}

unsigned http_port(const struct http_server *s)
{
	return s->port;
}

struct waker {
	const struct http_server *s;
	atomic_bool done;
};

/*
 * mg_stop() sets a flag that civetweb's accepting thread only sees when its
 * poll() returns, which takes up to 2 s on an idle server. A connection to
 * ourselves ends that poll, so stopping is quick. Repeated until mg_stop()
 * returns, in case the first one came before the flag was set.
 */
static void *wake_listener(void *arg)
{
	struct waker *w = arg;
	struct timeval tv = {.tv_usec = 100 * 1000};

	while (!atomic_load(&w->done)) {
		int fd = socket(w->s->self.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		/* Bounds connect() too, should the backlog be full. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		connect(fd, (const struct sockaddr *)&w->s->self, w->s->self_len);
		close(fd);
		usleep(20 * 1000);
	}
	return NULL;
}

void http_stop(struct http_server *s)
{
	struct waker w = {.s = s};
	pthread_t t;
	bool waking;

	if (!s)
		return;
	if (s->ctx) {
		waking = s->port && pthread_create(&t, NULL, wake_listener, &w) == 0;
		/* Stops accepting, then joins every worker: no handler runs after. */
		mg_stop(s->ctx);
		if (waking) {
			atomic_store(&w.done, true);
			pthread_join(t, NULL);
		}
	}
	free(s);
}
