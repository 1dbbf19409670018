/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: agent/kpath.c and agent/names.c - the kernel's path walk
 * record (struct se_kpath) decoded into names. The bytes come from the
 * kernel, but a probe bug or a short record must be refused, never read
 * past or turned into a name that is not what the record holds.
 *
 * Input: the record as the probe sends it (header, then names), copied
 * into a buffer of exactly that size (ASan sees any read past it).
 *
 * Invariants (a violation traps):
 *  - kpath_decode() returns 0 or -EINVAL; on -EINVAL the paths are "";
 *  - on 0: host is absolute unless the record is truncated (then it never
 *    starts with '/'), has no empty component ("//"), and is at most
 *    KPATH_MAX - 1 bytes; with SE_KP_F_BIND so is via (readlink's name,
 *    whole: walk 2 runs only after a whole walk 1), else via is "";
 *    in_root is a suffix of what readlink shows (via with SE_KP_F_BIND,
 *    else host) when the walk passed the process root and was not
 *    truncated or escaped;
 *  - names_add() keeps exactly the decoded host path (or a pseudo name
 *    "pipe:[N]"-style that never starts with '/') and names_get() finds
 *    it; its via is kp.via when that differs from host, else NULL.
 */
#include <errno.h>

#include "fuzz.h"
#include "kpath.h"
#include "names.h"

static void check_path(const char *p, bool truncated)
{
	size_t n = strlen(p);

	FUZZ_CHECK(n < KPATH_MAX);
	FUZZ_CHECK(strstr(p, "//") == NULL);
	if (truncated)
		FUZZ_CHECK(p[0] != '/');
	else
		FUZZ_CHECK(p[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kpath kp;
	struct names t;
	struct name *n;
	uint8_t *rec = malloc(size ? size : 1);
	bool bind;
	int rc;

	if (!rec)
		return 0;
	memcpy(rec, data, size);
	rc = kpath_decode(rec, size, &kp);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc) {
		FUZZ_CHECK(kp.host[0] == '\0' && kp.in_root[0] == '\0' && kp.via[0] == '\0');
		free(rec);
		return 0;
	}
	bind = kp.flags & SE_KP_F_BIND;
	if (bind)
		check_path(kp.host, kp.flags & SE_KP_F_TRUNCATED);
	else
		FUZZ_CHECK(kp.via[0] == '\0');
	if (!(kp.flags & SE_KP_F_ESCAPED)) {
		/* what readlink shows: walk 1's path */
		const char *shown = bind ? kp.via : kp.host;

		check_path(shown, !bind && (kp.flags & SE_KP_F_TRUNCATED));
		if ((kp.flags & SE_KP_F_ROOT) && (bind || !(kp.flags & SE_KP_F_TRUNCATED))) {
			size_t h = strlen(shown), r = strlen(kp.in_root);

			FUZZ_CHECK(kp.in_root[0] == '/');
			FUZZ_CHECK(r <= h);
			FUZZ_CHECK(strcmp(shown + h - r, kp.in_root) == 0 ||
				   strcmp(kp.in_root, "/") == 0);
		}
	} else if (bind) {
		FUZZ_CHECK(strcmp(kp.via, "/") == 0);
	}
	names_init(&t, 2);
	n = names_add(&t, 1, &kp, size ? data[0] << 12 : 0);
	if (n) {
		if ((kp.flags & SE_KP_F_ESCAPED) && kp.count == 0)
			FUZZ_CHECK(n->path[0] != '/');
		else
			FUZZ_CHECK(strcmp(n->path, kp.host) == 0);
		if (bind && strcmp(kp.via, kp.host) != 0)
			FUZZ_CHECK(n->via && strcmp(n->via, kp.via) == 0);
		else
			FUZZ_CHECK(n->via == NULL);
		FUZZ_CHECK(names_get(&t, 1) == n);
	}
	names_free(&t);
	free(rec);
	return 0;
}
