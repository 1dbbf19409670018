/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON object writer for the detector's one-line records
 * (anomalies, reports). Header-only: the detector core is server.c and
 * score.c, and only server.c writes JSON.
 *
 * Strings come from the network (filenames, comms, labels), so every one is
 * escaped: quotes, backslashes and control characters, and bytes that are
 * not valid UTF-8 become \udcXX (lossless, see common/json.h), so a hostile
 * filename can neither end the line early nor make it unparsable. The buffer grows as needed and is
 * reused; on allocation failure the writer stops and jw_ok() says so.
 */
#ifndef SENTINEL_DETECTOR_JSONW_H
#define SENTINEL_DETECTOR_JSONW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/*
 * One-line JSON objects for the detector's log, on common/json.c: the same
 * string escaping as the agent (invalid UTF-8 bytes as \udcXX, lossless).
 */
struct jw {
	struct jbuf b;
	bool first; /* no member written yet in the current object */
};

static inline void jw_raw(struct jw *j, const char *s, size_t n)
{
	jbuf_raw(&j->b, s, n);
}

static inline void jw_printf(struct jw *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void jw_printf(struct jw *j, const char *fmt, ...)
{
	char small[128], *heap = NULL;
	const char *p = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		heap = malloc((size_t)n + 1);
		if (!heap) {
			j->b.oom = 1;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(heap, (size_t)n + 1, fmt, ap);
		va_end(ap);
		p = heap;
	}
	jbuf_raw(&j->b, p, (size_t)n);
	free(heap);
}

/* s as a quoted JSON string; NULL as "". */
static inline void jw_str(struct jw *j, const char *s)
{
	if (!s)
		s = "";
	jbuf_str(&j->b, s, strlen(s));
}

static inline void jw_begin(struct jw *j)
{
	jbuf_reset(&j->b);
	j->first = true;
	jw_raw(j, "{", 1);
}

/* Starts a member: the caller writes the value next. */
static inline void jw_key(struct jw *j, const char *key)
{
	if (!j->first)
		jw_raw(j, ",", 1);
	j->first = false;
	jw_str(j, key);
	jw_raw(j, ":", 1);
}

static inline void jw_kv_str(struct jw *j, const char *key, const char *val)
{
	jw_key(j, key);
	jw_str(j, val);
}

/* A nested object member: jw_obj_open(j, "labels"), members, jw_obj_close(j). */
static inline void jw_obj_open(struct jw *j, const char *key)
{
	jw_key(j, key);
	jw_raw(j, "{", 1);
	j->first = true;
}

static inline void jw_obj_close(struct jw *j)
{
	jw_raw(j, "}", 1);
	j->first = false;
}

/* Ends the object and the line. */
static inline void jw_end(struct jw *j)
{
	jw_raw(j, "}\n", 2);
}

static inline bool jw_ok(const struct jw *j)
{
	return !j->b.oom && j->b.len > 0;
}

static inline void jw_free(struct jw *j)
{
	jbuf_free(&j->b);
	memset(j, 0, sizeof(*j));
}

#endif
