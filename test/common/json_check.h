/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON checks for the unit tests and fuzz targets, written from the specs (RFC 8259 and
 * common/json.h), not from common/json.c:
 *   - jcheck_str_decode(): a string token as jbuf_str() must write it,
 *     decoded back to the original bytes (surrogateescape undone);
 *   - jcheck_line(): one JSON value (an object, for the detector's log)
 *     followed by exactly one '\n', nothing else.
 */
#ifndef SENTINEL_TEST_JSON_CHECK_H
#define SENTINEL_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Well-formed UTF-8 (shortest form, no surrogates, at most U+10FFFF),
 * decoded by code point: deliberately not the table method of json.c. */
static inline bool jcheck_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, len, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static inline int jcheck_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at @p (the caller checked there are four), or -1. */
static inline long jcheck_u4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = jcheck_hex(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Length of the well-formed UTF-8 sequence at @p (lead byte >= 0x80), 0 if none. */
static inline size_t jcheck_utf8_len(const unsigned char *p, size_t avail)
{
	size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;

	if (len > avail)
		return 0;
	return jcheck_utf8_valid(p, len) ? len : 0;
}

/*
 * @s[0..n) must be exactly one string token in jbuf_str()'s dialect
 * (common/json.h): lower-case hex, short escapes for the five control
 * bytes that have one, \u00XX for the other control bytes and DEL, \udcXY
 * (XY >= 80) for bytes that are not well-formed UTF-8, and nothing else
 * escaped. Writes the decoded bytes to @out (room for @n) and returns
 * their count, or -1 if @s is not such a token.
 */
static inline long jcheck_str_decode(const char *s, size_t n, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	long o = 0;

	if (n < 2 || p[0] != '"' || end[-1] != '"')
		return -1;
	p++;
	end--;
	while (p < end) {
		unsigned char c = *p;
		long v;

		if (c == '"' || c < 0x20 || c == 0x7f)
			return -1; /* must have been escaped */
		if (c >= 0x80) {
			size_t len = jcheck_utf8_len(p, (size_t)(end - p));

			if (!len)
				return -1; /* raw bytes are well-formed UTF-8 only */
			memcpy(out + o, p, len);
			o += (long)len;
			p += len;
			continue;
		}
		if (c != '\\') {
			out[o++] = c;
			p++;
			continue;
		}
		if (end - p < 2)
			return -1;
		switch (p[1]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case 'b': out[o++] = '\b'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'f': out[o++] = '\f'; break;
		case 'r': out[o++] = '\r'; break;
		case 'u':
			if (end - p < 6 || strspn((const char *)p + 2, "0123456789abcdef") < 4)
				return -1;
			v = jcheck_u4(p + 2);
			if (v < 0)
				return -1;
			if (v >= 0xdc80 && v <= 0xdcff) {
				out[o++] = (unsigned char)(v & 0xff);
			} else if ((v < 0x20 && (!v || !strchr("\b\t\n\f\r", (int)v))) ||
				   v == 0x7f) {
				out[o++] = (unsigned char)v;
			} else {
				return -1;
			}
			p += 4;
			break;
		default: return -1;
		}
		p += 2;
	}
	return o;
}

/* ---- a small RFC 8259 validator ---- */

struct jcheck {
	const unsigned char *p, *end;
	int depth;
};

static inline void jcheck_ws(struct jcheck *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static inline bool jcheck_string(struct jcheck *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = *j->p;

		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			size_t len = jcheck_utf8_len(j->p, (size_t)(j->end - j->p));

			if (!len)
				return false;
			j->p += len;
		} else if (c == '\\') {
			if (j->end - j->p < 2)
				return false;
			if (j->p[1] == 'u') {
				if (j->end - j->p < 6 || jcheck_u4(j->p + 2) < 0)
					return false;
				j->p += 6;
			} else if (j->p[1] && strchr("\"\\/bfnrt", j->p[1])) {
				j->p += 2;
			} else {
				return false;
			}
		} else {
			j->p++;
		}
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static inline size_t jcheck_digits(struct jcheck *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return (size_t)(j->p - s);
}

static inline bool jcheck_number(struct jcheck *j)
{
	const unsigned char *s;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	s = j->p;
	if (!jcheck_digits(j) || (*s == '0' && j->p - s > 1))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jcheck_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jcheck_digits(j))
			return false;
	}
	return true;
}

static inline bool jcheck_word(struct jcheck *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool jcheck_value(struct jcheck *j);

/* An object or an array: @close is '}' or ']'. */
static inline bool jcheck_container(struct jcheck *j, unsigned char close)
{
	if (++j->depth > 64)
		return false;
	j->p++;
	jcheck_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (close == '}') {
			jcheck_ws(j);
			if (!jcheck_string(j))
				return false;
			jcheck_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!jcheck_value(j))
			return false;
		jcheck_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close)
			break;
		if (*j->p++ != ',')
			return false;
	}
	j->p++;
	j->depth--;
	return true;
}

static inline bool jcheck_value(struct jcheck *j)
{
	jcheck_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return jcheck_container(j, '}');
	case '[': return jcheck_container(j, ']');
	case '"': return jcheck_string(j);
	case 't': return jcheck_word(j, "true");
	case 'f': return jcheck_word(j, "false");
	case 'n': return jcheck_word(j, "null");
	default: return jcheck_number(j);
	}
}

/* @s[0..n) is one JSON object and a final '\n', the only one. */
static inline bool jcheck_line(const char *s, size_t n)
{
	struct jcheck j = {(const unsigned char *)s, (const unsigned char *)s + n, 0};

	if (!n || s[n - 1] != '\n' || memchr(s, '\n', n - 1) || s[0] != '{')
		return false;
	j.end--;
	if (!jcheck_value(&j))
		return false;
	jcheck_ws(&j);
	return j.p == j.end;
}

#endif /* SENTINEL_TEST_JSON_CHECK_H */
