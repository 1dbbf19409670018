/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "utf8.h"

#define JBUF_MIN_CAP 256
/*
 * jbuf_str() reserves room for the worst case (every byte escaped) once per
 * chunk of input, then writes without bounds checks. Chunking keeps a huge
 * string from demanding 6x its size in one go.
 */
#define STR_CHUNK 4096
#define ESC_MAX 6 /* longest output for one input byte: \u00XX or \udcXY */

static const char hexdig[] = "0123456789abcdef";

/*
 * Bytes jbuf_str() cannot copy as they are: 1 = ASCII to escape, 2 = not
 * ASCII (valid UTF-8 or not, decided by utf8_seq()).
 */
/* clang-format off */
static const unsigned char str_class[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x7f] = 1,
	[0x80 ... 0xff] = 2,
};
/* clang-format on */

static int jbuf_grow(struct jbuf *b, size_t need)
{
	size_t want, ncap;
	char *nbuf;

	if (b->oom)
		return -1;
	if (need > SIZE_MAX - b->len)
		goto oom;
	want = b->len + need;
	ncap = b->cap ? b->cap : JBUF_MIN_CAP;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2) {
			ncap = want;
			break;
		}
		ncap *= 2;
	}
	nbuf = realloc(b->buf, ncap);
	if (!nbuf)
		goto oom;
	b->buf = nbuf;
	b->cap = ncap;
	return 0;
oom:
	/* b->buf stays valid (realloc keeps it on failure): the caller may
	 * reset and retry with a smaller record. */
	b->oom = 1;
	return -1;
}

/* Makes room for @need more bytes; 0 on success. */
static inline int jbuf_reserve(struct jbuf *b, size_t need)
{
	if (__builtin_expect(!b->oom && need <= b->cap - b->len, 1))
		return 0;
	return jbuf_grow(b, need);
}

void jbuf_init(struct jbuf *b, size_t initial_cap)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
	if (initial_cap && jbuf_grow(b, initial_cap))
		b->oom = 1;
}

void jbuf_free(struct jbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
}

void jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
	if (!n || jbuf_reserve(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static inline char *put_u00(char *d, unsigned char c, char x, char y)
{
	d[0] = '\\';
	d[1] = 'u';
	d[2] = x;
	d[3] = y;
	d[4] = hexdig[c >> 4];
	d[5] = hexdig[c & 0xf];
	return d + 6;
}

static inline char *put_ascii_esc(char *d, unsigned char c)
{
	char e;

	switch (c) {
	case '"': e = '"'; break;
	case '\\': e = '\\'; break;
	case '\b': e = 'b'; break;
	case '\t': e = 't'; break;
	case '\n': e = 'n'; break;
	case '\f': e = 'f'; break;
	case '\r': e = 'r'; break;
	default: return put_u00(d, c, '0', '0');
	}
	d[0] = '\\';
	d[1] = e;
	return d + 2;
}

/* clang-format off */
#define REP8(c) (0x0101010101010101ULL * (c))
/* Nonzero iff some byte of @v is zero (exact as a yes/no answer). */
#define HASZERO(v) (((v) - REP8(0x01)) & ~(v) & REP8(0x80))
/* clang-format on */

/* Nonzero iff some byte of @x needs more than a copy. */
static inline uint64_t word_special(uint64_t x)
{
	/* Once no byte has its top bit set, x - 0x20.. borrows into a top
	 * bit exactly where a byte is below 0x20. */
	uint64_t special = x | ((x - REP8(0x20)) & ~x) | HASZERO(x ^ REP8('"')) |
			   HASZERO(x ^ REP8('\\')) | HASZERO(x ^ REP8(0x7f));

	return special & REP8(0x80);
}

/*
 * Encodes the input from *@pp up to @lim into @d (room for ESC_MAX bytes per
 * input byte). A UTF-8 sequence starting before @lim may run past it, up to
 * @end; it yields no more bytes than it has, so the room still suffices.
 */
static char *str_chunk(char *d, const unsigned char **pp, const unsigned char *lim,
		       const unsigned char *end)
{
	const unsigned char *p = *pp;

	while (p < lim) {
		unsigned char c;
		size_t n;

		/* Fast path: plain ASCII, copied a word at a time. */
		while (lim - p >= 8) {
			uint64_t x;

			memcpy(&x, p, 8);
			if (word_special(x))
				break;
			memcpy(d, &x, 8);
			d += 8;
			p += 8;
		}
		while (p < lim && !str_class[*p])
			*d++ = (char)*p++;
		if (p >= lim)
			break;

		c = *p;
		if (str_class[c] == 1) {
			d = put_ascii_esc(d, c);
			p++;
		} else if ((n = utf8_seq(p, end))) {
			memcpy(d, p, n);
			d += n;
			p += n;
		} else {
			/* surrogateescape: one lone low surrogate per bad byte */
			d = put_u00(d, c, 'd', 'c');
			p++;
		}
	}
	*pp = p;
	return d;
}

void jbuf_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chunk = n < STR_CHUNK ? n : STR_CHUNK;
	char *d;

	/* Opening quote, the first chunk and the closing quote. */
	if (jbuf_reserve(b, chunk * ESC_MAX + 2))
		return;
	d = b->buf + b->len;
	*d++ = '"';
	if (n) {
		const unsigned char *end = p + n;

		for (;;) {
			d = str_chunk(d, &p, p + chunk, end);
			b->len = (size_t)(d - b->buf);
			if (p >= end)
				break;
			chunk = (size_t)(end - p) < STR_CHUNK ? (size_t)(end - p) : STR_CHUNK;
			if (jbuf_reserve(b, chunk * ESC_MAX + 1))
				return;
			d = b->buf + b->len;
		}
	}
	*d++ = '"';
	b->len = (size_t)(d - b->buf);
}

void jbuf_u64(struct jbuf *b, uint64_t v)
{
	char tmp[20]; /* UINT64_MAX has 20 digits */
	char *start = decimal_u64_end(tmp + sizeof(tmp), v);

	jbuf_raw(b, start, (size_t)(tmp + sizeof(tmp) - start));
}

void jbuf_u64_str(struct jbuf *b, uint64_t v)
{
	char tmp[22];
	char *start;

	tmp[21] = '"';
	start = decimal_u64_end(tmp + 21, v);
	*--start = '"';
	jbuf_raw(b, start, (size_t)(tmp + sizeof(tmp) - start));
}
