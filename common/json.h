/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: a tiny append-only JSON text writer into a growable byte buffer.
 * It only emits tokens; the caller places the punctuation ({ } [ ] , :) with
 * jbuf_raw(). Built for the per-event hot path: no stdio, and no allocation
 * once the buffer has grown to the size of the largest record (reuse it with
 * jbuf_reset()).
 *
 * Strings: file names on Linux are arbitrary bytes, not text, and we must
 * report them losslessly. jbuf_str() therefore emits, for any byte sequence:
 *   - '"' and '\' as \" and \\,
 *   - control bytes < 0x20 as \b \t \n \f \r or \u00XX, and DEL (0x7f) as
 *     \u007f, so a record is always one line,
 *   - well-formed UTF-8 (shortest form, no surrogates, <= U+10FFFF) unchanged,
 *   - every other byte 0xXY (stray continuation, overlong form, encoded
 *     surrogate, code point above U+10FFFF, truncated sequence, 0xc0/0xc1,
 *     0xf5..0xff) as the lone low surrogate escape \udcXY.
 * This is Python's "surrogateescape" mapping: in Python,
 * os.fsencode(json.loads(s)) gives back the exact original bytes. \udcXY is
 * always a *low* surrogate (U+DC80..U+DCFF) and we never emit a high one, so
 * two escapes can never pair up into a different code point. The output is
 * JSON per RFC 8259 (which allows lone surrogate escapes), but it is not
 * I-JSON: strict decoders may reject it, and Go's encoding/json or any
 * re-encoding to UTF-8 (jq, JS TextEncoder) turn the escapes into U+FFFD.
 * Names that are valid UTF-8 - nearly all of them - are unaffected.
 *
 * Out of memory: the first failed allocation sets ->oom and every later
 * append is dropped, so a half-written record is never mistaken for a whole
 * one. Check ->oom once per record, before using ->buf; jbuf_reset() clears
 * it (the buffer kept what it had, so the next record may well fit).
 *
 * The buffer is not NUL-terminated: use ->buf and ->len.
 */
#ifndef SENTINEL_JSON_H
#define SENTINEL_JSON_H

#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *buf;
	size_t len, cap;
	int oom;
};

/* @initial_cap may be 0 (allocate on first append); a failed allocation
 * only sets ->oom. */
void jbuf_init(struct jbuf *b, size_t initial_cap);
void jbuf_free(struct jbuf *b);
/* Start a new record, keeping the allocation. */
static inline void jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	b->oom = 0;
}

/* Append @n bytes as-is (punctuation, pre-built fragments). */
void jbuf_raw(struct jbuf *b, const char *s, size_t n);
/* Append a quoted JSON string of the @n bytes at @s (NULs included). */
void jbuf_str(struct jbuf *b, const char *s, size_t n);
/* Append @v in decimal, no quotes. */
void jbuf_u64(struct jbuf *b, uint64_t v);
/* Append @v in decimal inside quotes ("123"), for consumers whose numbers
 * are doubles and would round values above 2^53. */
void jbuf_u64_str(struct jbuf *b, uint64_t v);

#endif
