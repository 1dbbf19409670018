/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8: well-formed UTF-8 as Unicode defines it (table 3-7: shortest form,
 * no surrogates, at most U+10FFFF). File names and comm are bytes, not
 * text; these helpers decide where they are text and make them text where
 * a format demands it (proto3 `string` fields, which conforming decoders
 * reject whole when they are not UTF-8).
 */
#ifndef SENTINEL_UTF8_H
#define SENTINEL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, and the most bytes one input byte becomes. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"
#define UTF8_MAX_EXPANSION 3

/*
 * Length of the well-formed sequence at @p (whose lead byte is >= 0x80),
 * or 0 if none starts there. The second byte's range rules out overlongs
 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
 */
static inline size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0xc2) /* continuation byte, or C0/C1: always overlong */
		return 0;
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Whether the @n bytes at @s are all well-formed UTF-8 (NULs allowed). */
bool utf8_valid(const char *s, size_t n);

/*
 * Copies the @n bytes at @s to @out as UTF-8, each maximal ill-formed
 * subpart replaced by one U+FFFD: the same text as Python's
 * bytes.decode("utf-8", errors="replace") and the WHATWG decoder, so a
 * consumer holding the exact bytes can check the text. The output is never
 * longer than n * UTF8_MAX_EXPANSION bytes and never shorter than n; @out
 * needs room for that plus the NUL written after it. Returns the length.
 */
size_t utf8_replace_invalid(const char *s, size_t n, char *out);

#endif
