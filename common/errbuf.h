/* SPDX-License-Identifier: Apache-2.0 */
/*
 * errbuf: an error message built from parts in a caller's fixed buffer,
 * "; " between them ("struct file has no member f_path; struct mount ...").
 * For modules that report every problem they found at once (btfoff,
 * kheaders) into the err/errcap pair their callers pass.
 */
#ifndef SENTINEL_ERRBUF_H
#define SENTINEL_ERRBUF_H

#include <stddef.h>

/* Appends one printf-formatted part to the NUL-terminated @buf of @cap
 * bytes, "; " first unless @buf is empty; a part that does not fit is cut
 * (the buffer stays NUL-terminated). */
__attribute__((format(printf, 3, 4))) void errbuf_append(char *buf, size_t cap, const char *fmt,
							 ...);

#endif
