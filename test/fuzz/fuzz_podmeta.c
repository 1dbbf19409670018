/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: agent/podmeta.c - a runtime's OCI config.json, read for the
 * pod annotations (json-c underneath; our part is choosing the keys and
 * checking the names).
 *
 * Input: the file's bytes, passed with their exact length in a buffer of
 * exactly that size (no NUL after it), so ASan sees any read past the end.
 *
 * Invariants (a violation traps):
 *  - the result is one of FOUND, NO_POD, INVALID (MISSING is for files);
 *  - FOUND: the name is a DNS-1123 subdomain of 1..253 bytes, the
 *    namespace a DNS-1123 label of 1..63; otherwise both are empty;
 *  - the same bytes give the same answer twice.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "podmeta.h"

static bool dns_chars(const char *s, bool dots)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      (dots && *s == '.')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct podmeta_pod a, b;
	enum podmeta_result r, r2;
	char *buf = malloc(size ? size : 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	r = podmeta_parse(buf, size, &a);
	FUZZ_CHECK(r == PODMETA_FOUND || r == PODMETA_NO_POD || r == PODMETA_INVALID);
	if (r == PODMETA_FOUND) {
		size_t n = strlen(a.name), m = strlen(a.ns);

		FUZZ_CHECK(n >= 1 && n <= PODMETA_NAME_MAX && dns_chars(a.name, true));
		FUZZ_CHECK(m >= 1 && m <= PODMETA_NS_MAX && dns_chars(a.ns, false));
		FUZZ_CHECK(a.name[0] != '-' && a.name[n - 1] != '-' && a.ns[0] != '-' &&
			   a.ns[m - 1] != '-');
	} else {
		FUZZ_CHECK(!a.name[0] && !a.ns[0]);
	}
	r2 = podmeta_parse(buf, size, &b);
	FUZZ_CHECK(r2 == r && !strcmp(a.name, b.name) && !strcmp(a.ns, b.ns));
	free(buf);
	return 0;
}
