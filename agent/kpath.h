/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpath: decode the in-kernel path walk's record (struct se_kpath,
 * probes/pathwalk.h) into the path the kernel resolved for an open file.
 * A pure function: no I/O, no allocation. The record comes from the kernel,
 * but a bug there (or a short read) must not overflow here, so every length
 * is checked and a malformed record is refused.
 */
#ifndef SENTINEL_KPATH_H
#define SENTINEL_KPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pathwalk.h"

/* The longest decoded path with its NUL: "/" per component instead of each
 * NUL, so SE_KP_BUF bytes of names give at most SE_KP_BUF characters. */
#define KPATH_MAX (SE_KP_BUF + 1)

struct kpath {
	/*
	 * The file's name, what rules match. Without SE_KP_F_BIND: the path
	 * from the top of the file's mount namespace, as readlink of
	 * /proc/<pid>/fd/<n> gives it from the host, without the
	 * " (deleted)" it appends for an unlinked file (SE_KP_F_UNLINKED).
	 * With it: the path at the file's origin, the mount of its whole
	 * filesystem (in the host's namespace if there is one) rather than
	 * the bind mount it was written through, which via names.
	 * SE_KP_F_TRUNCATED: only the leaf-most components, joined with '/'
	 * and without a leading '/' ("d/e/f"; "" with none), so it can never
	 * pass for an absolute path.
	 */
	char host[KPATH_MAX];
	/*
	 * SE_KP_F_BIND: the path readlink shows, through the bind mount (as
	 * host without it; "/" when escaped). "" otherwise.
	 */
	char via[KPATH_MAX];
	/*
	 * The path as the process sees it, below its root (chroot,
	 * container): exact with SE_KP_F_ROOT, even when host is truncated.
	 * Without it the file lies outside the process's root, and the
	 * kernel shows the process the same text as readlink from the host
	 * (via with SE_KP_F_BIND, else host): so do we (truncated the same
	 * way when host is; in_root_partial says so).
	 */
	char in_root[KPATH_MAX];
	bool in_root_partial;
	/*
	 * SE_KP_F_ESCAPED: the walk met the root of the file's filesystem
	 * before its mount's root (a file moved out of the directory a bind
	 * mount shows), and the kernel then names it "/" (in_root says so
	 * too, and host unless SE_KP_F_BIND found where it is). fs_path is
	 * where it lies below the root of its filesystem: not a path in any
	 * mount namespace. "" otherwise.
	 */
	char fs_path[KPATH_MAX];
	uint64_t ino;
	uint32_t dev_major, dev_minor; /* st_dev of the file, as stat(1) %Hd:%Ld */
	uint32_t mntns;		       /* mount namespace inum of the process */
	uint32_t count;		       /* components, both walks */
	uint32_t root_at;	       /* components below the process root (SE_KP_F_ROOT) */
	/* SE_KP_F_BIND, SE_KP_F_NO_ORIGIN: walk 1's components below the
	 * subtree mount's root, and walk 1's count (see struct se_kpath) */
	uint32_t bind_at, bind_from;
	uint32_t origin_ns; /* SE_KP_F_BIND: the origin mount's namespace (inum) */
	unsigned flags;	    /* SE_KP_F_* */
};

/*
 * Decode the record in @rec (@size bytes: SE_KP_HDR and then at least len)
 * into @out. Returns 0, or -EINVAL for a malformed record: shorter than its
 * header or its len, len beyond SE_KP_BUF, unknown flags, SE_KP_F_FAULT
 * without SE_KP_F_TRUNCATED, SE_KP_F_BIND with SE_KP_F_NO_ORIGIN,
 * bind_at > bind_from > count (bind_from < count with SE_KP_F_NO_ORIGIN;
 * bind_at, bind_from or origin_ns not 0 without either flag), root_at beyond
 * walk 1's components (or not 0 without SE_KP_F_ROOT), a component empty,
 * holding a '/', longer than SE_KP_NAME_MAX or without its NUL, or len not
 * holding exactly count components. On error @out has empty paths.
 */
int kpath_decode(const void *rec, size_t size, struct kpath *out);

#endif
