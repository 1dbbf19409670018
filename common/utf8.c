/* SPDX-License-Identifier: Apache-2.0 */
#include "utf8.h"

#include <string.h>

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t len;

		if (*p < 0x80) {
			p++;
			continue;
		}
		len = utf8_seq(p, end);
		if (!len)
			return false;
		p += len;
	}
	return true;
}

/*
 * Length of the maximal ill-formed subpart at @p, where utf8_seq() found no
 * sequence: a valid lead byte and the continuation bytes that could still
 * have completed it, else the one byte. Unicode recommends one U+FFFD per
 * such subpart (chapter 3, "U+FFFD Substitution of Maximal Subparts"), as
 * Python's errors="replace" and the WHATWG decoder do.
 */
static size_t bad_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i = 1;

	if (c < 0xc2 || c > 0xf4)
		return 1;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (end - p > 1 && p[1] >= lo && p[1] <= hi)
		for (i = 2; i < len && p + i < end && (p[i] & 0xc0) == 0x80; i++)
			;
	return i;
}

size_t utf8_replace_invalid(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *o = out;

	while (p < end) {
		size_t len = *p < 0x80 ? 1 : utf8_seq(p, end);

		if (len) {
			memcpy(o, p, len);
			o += len;
			p += len;
		} else {
			memcpy(o, UTF8_REPLACEMENT, sizeof(UTF8_REPLACEMENT) - 1);
			o += sizeof(UTF8_REPLACEMENT) - 1;
			p += bad_len(p, end);
		}
	}
	*o = '\0';
	return (size_t)(o - out);
}
