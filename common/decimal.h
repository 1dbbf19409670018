/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decimal: unsigned integers in decimal without printf. The hot paths (the
 * JSON writer, the gRPC sink's data values) format several numbers per
 * event; snprintf's format parsing cost ~6 % of the agent's CPU flat out
 * (perf, stop 37).
 */
#ifndef SENTINEL_DECIMAL_H
#define SENTINEL_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DECIMAL_U64_LEN 20 /* digits of UINT64_MAX */

/* Writes @v in decimal ending just before @end (two digits a division);
 * returns where it starts. */
static inline char *decimal_u64_end(char *end, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		end -= 2;
		memcpy(end, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* @v in decimal at @out, NUL-terminated; returns its length. */
static inline size_t decimal_u64(char out[DECIMAL_U64_LEN + 1], uint64_t v)
{
	char *start = decimal_u64_end(out + DECIMAL_U64_LEN, v);
	size_t n = (size_t)(out + DECIMAL_U64_LEN - start);

	memmove(out, start, n);
	out[n] = '\0';
	return n;
}

#endif
