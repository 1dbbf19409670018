/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the fuzz targets (test/fuzz/fuzz_*.c). Header-only:
 * each target is one translation unit plus the sources it fuzzes.
 */
#ifndef SENTINEL_FUZZ_H
#define SENTINEL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An invariant of the code under test. A violation must stop the run the
 * way a sanitizer finding does, so libFuzzer saves the input as a crash:
 * say what failed, then trap.
 */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,    \
				__LINE__);                                                         \
			__builtin_trap();                                                          \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated string (cut at its first NUL, as C APIs
 * see it); the caller frees it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Everything written to a memory stream by @print(@arg, f); caller frees. */
#define FUZZ_PRINT_TO_STRING(out, print, arg)                                                      \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *f_ = open_memstream(&(out), &len_);                                          \
                                                                                                   \
		if (!f_)                                                                           \
			abort();                                                                   \
		print(arg, f_);                                                                    \
		if (fclose(f_))                                                                    \
			abort();                                                                   \
	} while (0)

#endif /* SENTINEL_FUZZ_H */
