/* SPDX-License-Identifier: Apache-2.0 */
/*
 * names: the files the kernel named, by seq. The probe walks a file's path
 * once (its first read or write, or after a rename, a mount change or a
 * rules reload made the name stale) and sends it as an SE_NAME record; the
 * file's events then carry only the seq. This table holds each seq's
 * decoded name and what user space decided about it.
 *
 * Bounded, least recently used first out: an event touches its name. A
 * name evicted while its file is still in use makes that file's next event
 * unnamed: the pipeline counts it and has the kernel forget the file, whose
 * following event walks again (names_capacity() should exceed the number
 * of files written or read at once, which is far below the default).
 *
 * Not thread-safe: the reader thread owns it.
 */
#ifndef SENTINEL_NAMES_H
#define SENTINEL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpath.h"
#include "uthash.h"

#define NAMES_DEFAULT_CAPACITY 65536

struct name {
	uint64_t seq;
	char *path; /* host-rooted, what rules match (a bind's at its origin); owned */
	/* As the process sees it below its root; NULL when that is what
	 * readlink shows from the host (via for a bind, else path). */
	char *in_root;
	char *via; /* through the bind mount it was used by (kpath.via); NULL when the same */
	/* The file's device ("major:minor"), inode and the mount namespace,
	 * formatted once here: every event of the file carries them. */
	char dev[24], ino[21], mntns[11];
	bool truncated; /* only the leaf-most components (a bound was hit) */
	bool unlinked;	/* the file was deleted when named */
	/* What the pipeline decided, for the rules generation mask_gen. */
	uint64_t path_mask;
	uint32_t mask_gen;
	bool posted; /* its verdict was posted to the kernel */
	UT_hash_handle hh;
};

struct names {
	struct name *by_seq; /* uthash; iteration order = least recently used first */
	size_t n, cap;
	uint64_t evicted;
};

void names_init(struct names *t, size_t cap);
void names_free(struct names *t);
/*
 * Adds the name @kp decoded for @seq (an SE_NAME record; @mode is the
 * file's inode mode, for pipes and sockets whose walk ends at their
 * pseudo filesystem's root). A seq already present is replaced. Evicts the
 * least recently used entry when full. Returns the entry, or NULL when out
 * of memory.
 */
struct name *names_add(struct names *t, uint64_t seq, const struct kpath *kp, uint32_t mode);
/* The entry for @seq, made the most recently used; NULL if unknown. */
struct name *names_get(struct names *t, uint64_t seq);

#endif
