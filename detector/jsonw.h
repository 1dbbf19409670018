/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON object writer for the detector's one-line records
 * (anomalies, reports). Header-only: the detector core is server.c and
 * score.c, and only server.c writes JSON.
 *
 * Strings come from the network (filenames, comms, labels), so every one is
 * escaped: quotes, backslashes and control characters, and bytes that are
 * not valid UTF-8 become U+FFFD, so a hostile filename can neither end the
 * line early nor make it unparsable. The buffer grows as needed and is
 * reused; on allocation failure the writer stops and jw_ok() says so.
 */
#ifndef SENTINEL_DETECTOR_JSONW_H
#define SENTINEL_DETECTOR_JSONW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jw {
	char *buf;
	size_t len, cap;
	bool first; /* no member written yet in the current object */
	bool oom;
};

static inline bool jw_reserve(struct jw *j, size_t more)
{
	size_t cap = j->cap ? j->cap : 512;
	char *nb;

	if (j->oom)
		return false;
	if (j->len + more + 1 <= j->cap)
		return true;
	while (cap < j->len + more + 1)
		cap *= 2;
	nb = realloc(j->buf, cap);
	if (!nb) {
		j->oom = true;
		return false;
	}
	j->buf = nb;
	j->cap = cap;
	return true;
}

static inline void jw_raw(struct jw *j, const char *s, size_t n)
{
	if (!jw_reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static inline void jw_printf(struct jw *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void jw_printf(struct jw *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !jw_reserve(j, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(j->buf + j->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	j->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid (overlong
 * forms, surrogates and code points past U+10FFFF included). */
static inline size_t jw_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		n = 2;
	} else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	/* A NUL fails here, so we never read past the string's end. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* s as a quoted JSON string; NULL as "". */
static inline void jw_str(struct jw *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[8];

	jw_raw(j, "\"", 1);
	while (*p) {
		size_t n = jw_utf8_len(p);

		if (n == 0) {
			jw_raw(j, "\\ufffd", 6);
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			jw_raw(j, esc, 2);
		} else if (*p == '\n') {
			jw_raw(j, "\\n", 2);
		} else if (*p == '\t') {
			jw_raw(j, "\\t", 2);
		} else if (*p == '\r') {
			jw_raw(j, "\\r", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			jw_raw(j, esc, 6);
		} else {
			jw_raw(j, (const char *)p, n);
		}
		p += n;
	}
	jw_raw(j, "\"", 1);
}

static inline void jw_begin(struct jw *j)
{
	j->len = 0;
	j->oom = false;
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
	return !j->oom && j->len > 0;
}

static inline void jw_free(struct jw *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

#endif
