/* SPDX-License-Identifier: Apache-2.0 */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void names_init(struct names *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap ? cap : NAMES_DEFAULT_CAPACITY;
}

static void drop(struct names *t, struct name *e)
{
	HASH_DEL(t->by_seq, e);
	free(e->path);
	free(e->in_root);
	free(e->via);
	free(e);
	t->n--;
}

void names_free(struct names *t)
{
	struct name *e, *tmp;

	HASH_ITER (hh, t->by_seq, e, tmp) {
		HASH_DEL(t->by_seq, e);
		free(e->path);
		free(e->in_root);
		free(e->via);
		free(e);
	}
	t->n = 0;
}

/*
 * The name of a file whose walk met a root that is not a mount's (kpath's
 * "escaped") without a single component: a pipe, a socket or an anonymous
 * inode, which the kernel names by its inode ("pipe:[123]") as readlink
 * shows. Such a name never starts with '/', so no path prefix matches it.
 */
static char *pseudo_name(const struct kpath *kp, uint32_t mode)
{
	const char *kind = S_ISFIFO(mode) ? "pipe" : S_ISSOCK(mode) ? "socket" : "anon_inode";
	char *s = NULL;

	if (asprintf(&s, "%s:[%llu]", kind, (unsigned long long)kp->ino) < 0)
		return NULL;
	return s;
}

static int fill(struct name *e, const struct kpath *kp, uint32_t mode)
{
	bool pseudo = (kp->flags & SE_KP_F_ESCAPED) && kp->count == 0;
	bool bind = kp->flags & SE_KP_F_BIND;
	/* What readlink shows from the host: the process has another root
	 * (chroot, container) when it sees something else. */
	const char *shown = bind ? kp->via : kp->host;

	e->path = pseudo ? pseudo_name(kp, mode) : strdup(kp->host);
	if (!e->path)
		return -1;
	if (!pseudo && strcmp(kp->in_root, shown) != 0) {
		e->in_root = strdup(kp->in_root);
		if (!e->in_root)
			return -1;
	}
	if (bind && strcmp(kp->via, kp->host) != 0) {
		e->via = strdup(kp->via);
		if (!e->via)
			return -1;
	}
	snprintf(e->dev, sizeof(e->dev), "%u:%u", kp->dev_major, kp->dev_minor);
	snprintf(e->ino, sizeof(e->ino), "%llu", (unsigned long long)kp->ino);
	snprintf(e->mntns, sizeof(e->mntns), "%u", kp->mntns);
	e->truncated = kp->flags & SE_KP_F_TRUNCATED;
	e->unlinked = kp->flags & SE_KP_F_UNLINKED;
	return 0;
}

struct name *names_add(struct names *t, uint64_t seq, const struct kpath *kp, uint32_t mode)
{
	struct name *e;

	HASH_FIND(hh, t->by_seq, &seq, sizeof(seq), e);
	if (e)
		drop(t, e);
	if (t->n >= t->cap && t->by_seq) {
		drop(t, t->by_seq); /* the head: least recently used */
		t->evicted++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->seq = seq;
	if (fill(e, kp, mode) != 0) {
		free(e->path);
		free(e->in_root);
		free(e->via);
		free(e);
		return NULL;
	}
	HASH_ADD(hh, t->by_seq, seq, sizeof(e->seq), e);
	t->n++;
	return e;
}

struct name *names_get(struct names *t, uint64_t seq)
{
	struct name *e;

	HASH_FIND(hh, t->by_seq, &seq, sizeof(seq), e);
	if (!e)
		return NULL;
	/* Most recently used: to the tail. Skipped when it is there already
	 * (a run of one file's events), which costs nothing. */
	if (t->by_seq->hh.tbl->tail != &e->hh) {
		HASH_DEL(t->by_seq, e);
		HASH_ADD(hh, t->by_seq, seq, sizeof(e->seq), e);
	}
	return e;
}
