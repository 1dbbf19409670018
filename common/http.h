/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: a small HTTP/1.1 server on civetweb for /healthz, /readyz and
 * /metrics. GET and HEAD only; the handler fills a status and a body and
 * this file sends them (with Content-Length, Cache-Control: no-store and
 * Connection: close: no keep-alive, a probe or a scrape is one request and
 * an idle connection would hold a worker thread). Unknown paths get 404,
 * other methods on a known path 405. HEAD runs the handler and sends its
 * headers, Content-Length included, without the body.
 *
 * Handlers run on civetweb's worker threads, never on the caller's: they
 * must only read state that is safe to read concurrently (atomics, or a
 * snapshot under the owner's lock) and must not block. Those threads start
 * with every signal blocked, so signals keep going to the program's own
 * threads (signalfd and sigwait users need that). Note that civetweb sets
 * SIGPIPE to SIG_IGN for the whole process when a server starts.
 *
 * IPv6: Debian's libcivetweb is built without it. "::" and "[::]" then
 * listen on every IPv4 address instead (with a warning); another IPv6
 * address is an error. With an IPv6-enabled civetweb, "::" listens on both.
 */
#ifndef SENTINEL_HTTP_H
#define SENTINEL_HTTP_H

#include <stddef.h>
#include <stdio.h>

struct http_reply {
	int status;		  /* preset to 200 */
	const char *content_type; /* preset to "text/plain; charset=utf-8" */
	FILE *body;		  /* write the body here (an open_memstream) */
};

typedef void (*http_handler_fn)(void *ctx, struct http_reply *r);

struct http_route {
	const char *path; /* exact match, e.g. "/metrics" */
	http_handler_fn fn;
	void *ctx;
};

struct http_server;

/*
 * Listens on @bind:@port ("0.0.0.0", "127.0.0.1", "::" or "[::]"; @port 0
 * picks a free one, see http_port()) and serves @routes (copied; @n at most
 * HTTP_MAX_ROUTES) with @threads worker threads (1..64). @name says which
 * server in logs and errors ("health" -> "health server ..."). NULL with a
 * message in @err on failure, e.g. "health server 127.0.0.1:9101: cannot
 * listen (cannot bind to 127.0.0.1:9101: 98 (Address already in use))".
 */
#define HTTP_MAX_ROUTES 8

struct http_server *http_start(const char *name, const char *bind, unsigned port,
			       const struct http_route *routes, size_t n, unsigned threads,
			       char *err, size_t errcap);
/* The port actually listened on. */
unsigned http_port(const struct http_server *s);
/* Stops listening, waits for running handlers, frees. NULL is fine. */
void http_stop(struct http_server *s);

#endif
