/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: common/json.c, the JSON writer every event and every
 * detector log line goes through. The input is the bytes of one string (a
 * file name, say: any bytes, NULs included).
 *
 * Invariants (a violation traps):
 *  - jbuf_str() writes exactly one string token in the dialect of
 *    common/json.h, which decodes back to the input bytes (surrogateescape
 *    undone): lossless, and valid JSON;
 *  - it equals a plain byte-at-a-time encoder of that spec, so a byte is
 *    escaped if and only if the spec says so;
 *  - the same holds at any offset from the writer's 4096-byte chunks (the
 *    input is also encoded after 0..15 or 4081..4096 bytes of padding, in a
 *    reused buffer, inside an object: a valid JSON line);
 *  - jbuf_u64() and jbuf_u64_str() print what printf prints;
 *  - common/utf8.c: utf8_valid() agrees with an independent decoder, and
 *    utf8_replace_invalid() (the gRPC sink's names) always writes valid
 *    UTF-8 within its stated bounds, unchanged when the input was valid.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "json_check.h"
#include "utf8.h"

#define CHUNK 4096 /* STR_CHUNK in json.c */

static struct jbuf reused; /* like the agent's per-record buffer */

/* The spec, one byte at a time. @out has room for 6 bytes per input byte + 2. */
static size_t ref_encode(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *d = out;

	*d++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;

		if (c >= 0x80 && (len = jcheck_utf8_len(s + i, n - i))) {
			memcpy(d, s + i, len);
			d += len;
			i += len;
			continue;
		}
		i++;
		if (c >= 0x80) {
			memcpy(d, "\\udc", 4);
			d[4] = hex[c >> 4];
			d[5] = hex[c & 0xf];
			d += 6;
		} else if (c == '"' || c == '\\') {
			*d++ = '\\';
			*d++ = (char)c;
		} else if (c && strchr("\b\t\n\f\r", c)) {
			*d++ = '\\';
			*d++ = "btnfr"[strchr("\b\t\n\f\r", c) - "\b\t\n\f\r"];
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(d, "\\u00", 4);
			d[4] = hex[c >> 4];
			d[5] = hex[c & 0xf];
			d += 6;
		} else {
			*d++ = (char)c;
		}
	}
	*d++ = '"';
	return (size_t)(d - out);
}

/* The token at @tok[0..len) is the encoding of @s[0..n). */
static void check_token(const char *tok, size_t len, const unsigned char *s, size_t n)
{
	unsigned char *dec = malloc(len + 1);
	char *ref = malloc(n * 6 + 2);
	size_t rlen;
	long dlen;

	if (!dec || !ref)
		abort();
	dlen = jcheck_str_decode(tok, len, dec);
	FUZZ_CHECK(dlen >= 0); /* a well-formed token of the documented dialect */
	FUZZ_CHECK((size_t)dlen == n && memcmp(dec, s, n) == 0); /* lossless */
	rlen = ref_encode(s, n, ref);
	FUZZ_CHECK(rlen == len && memcmp(ref, tok, len) == 0); /* escapes exactly per spec */
	free(ref);
	free(dec);
}

static void check_u64(uint64_t v)
{
	struct jbuf b;
	char want[32];
	int n;

	jbuf_init(&b, 0);
	jbuf_u64(&b, v);
	n = snprintf(want, sizeof(want), "%" PRIu64, v);
	FUZZ_CHECK(!b.oom && b.len == (size_t)n && memcmp(b.buf, want, b.len) == 0);
	jbuf_reset(&b);
	jbuf_u64_str(&b, v);
	n = snprintf(want, sizeof(want), "\"%" PRIu64 "\"", v);
	FUZZ_CHECK(!b.oom && b.len == (size_t)n && memcmp(b.buf, want, b.len) == 0);
	jbuf_free(&b);
}

static void check_utf8(const uint8_t *data, size_t size)
{
	char *out = malloc(size * UTF8_MAX_EXPANSION + 1);
	bool valid = utf8_valid((const char *)data, size);
	size_t len;

	if (!out)
		abort();
	FUZZ_CHECK(valid == jcheck_utf8_valid(data, size));
	len = utf8_replace_invalid((const char *)data, size, out);
	FUZZ_CHECK(len >= size && len <= size * UTF8_MAX_EXPANSION && out[len] == '\0');
	FUZZ_CHECK(jcheck_utf8_valid((const unsigned char *)out, len));
	if (valid)
		FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf b;
	unsigned sel = size ? data[0] : 0;
	size_t pad = sel & 16 ? CHUNK - (sel & 15) : (sel & 15);
	unsigned char *s;
	char *tail, saved;
	uint64_t v = 0;

	/* A fresh buffer, the input alone. */
	jbuf_init(&b, sel & 32 ? 0 : 1);
	jbuf_str(&b, (const char *)data, size);
	FUZZ_CHECK(!b.oom && b.len <= b.cap);
	check_token(b.buf, b.len, data, size);
	jbuf_free(&b);

	/* A reused buffer: the input straddling a chunk boundary, in a record. */
	s = malloc(pad + size + 1);
	if (!s)
		abort();
	memset(s, 'a', pad);
	memcpy(s + pad, data, size);
	jbuf_reset(&reused);
	jbuf_raw(&reused, "{\"k\":", 5);
	jbuf_str(&reused, (const char *)s, pad + size);
	jbuf_raw(&reused, "}\n", 2);
	FUZZ_CHECK(!reused.oom && reused.len <= reused.cap && reused.len >= pad + 9);
	if (pad + size < 64)
		FUZZ_CHECK(jcheck_line(reused.buf, reused.len));
	/*
	 * ASCII letters encode as themselves whatever follows, so the padding
	 * is checked with memcmp and the rest as a token of its own: the
	 * checks then cost what the input costs, not 4 KiB byte by byte.
	 */
	FUZZ_CHECK(memcmp(reused.buf, "{\"k\":\"", 6) == 0);
	FUZZ_CHECK(memcmp(reused.buf + 6, s, pad) == 0);
	FUZZ_CHECK(memcmp(reused.buf + reused.len - 2, "}\n", 2) == 0);
	tail = reused.buf + 5 + pad; /* one byte early: room for a quote */
	saved = *tail;
	*tail = '"';
	check_token(tail, reused.len - 7 - pad, data, size);
	*tail = saved;
	free(s);

	check_utf8(data, size);
	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	check_u64(v);
	check_u64(v >> (sel & 63));
	return 0;
}
