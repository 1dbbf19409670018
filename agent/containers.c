/* SPDX-License-Identifier: Apache-2.0 */
#include "containers.h"

#include <errno.h>
#include <fts.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

void containers_init(struct containers *c)
{
	memset(c, 0, sizeof(*c));
}

static void free_table(struct container_of **t)
{
	struct container_of *e, *tmp;

	HASH_ITER (hh, *t, e, tmp) {
		HASH_DEL(*t, e);
		free(e);
	}
}

void containers_free(struct containers *c)
{
	free_table(&c->by_cgroup);
	free_table(&c->by_tgid);
	c->n_cgroups = c->n_tgids = 0;
	c->last = NULL;
}

/* The entry for @key in table @t, made (the oldest dropped past
 * CONTAINERS_MAX) when there is none; NULL when out of memory. */
static struct container_of *entry(struct containers *c, struct container_of **t, unsigned *n,
				  uint64_t key, bool *made)
{
	struct container_of *e;

	*made = false;
	HASH_FIND(hh, *t, &key, sizeof(key), e);
	if (e)
		return e;
	if (*n >= CONTAINERS_MAX && *t) {
		struct container_of *old = *t; /* the oldest: uthash keeps insertion order */

		if (c->last == old)
			c->last = NULL;
		HASH_DEL(*t, old);
		free(old);
		(*n)--;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = key;
	HASH_ADD(hh, *t, key, sizeof(e->key), e);
	(*n)++;
	*made = true;
	return e;
}

void containers_learn(struct containers *c, uint64_t cgroup, const char *path, size_t len)
{
	bool made;
	struct container_of *e = entry(c, &c->by_cgroup, &c->n_cgroups, cgroup, &made);

	if (!e)
		return;
	path_cgroup_container_id(path, len, e->id, sizeof(e->id));
	c->learnt++;
}

long containers_scan(struct containers *c, const char *mount)
{
	char *roots[] = {(char *)mount, NULL};
	size_t skip = strlen(mount);
	long n = 0;
	FTS *fts;
	FTSENT *f;

	/* Physical, one filesystem, no chdir: a cgroup hierarchy only. */
	fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	if (!fts)
		return -errno;
	while ((f = fts_read(fts)) != NULL && n < CONTAINERS_MAX) {
		const char *rel;

		/* fts_open takes any root: an unreadable one shows here. */
		if (f->fts_level == 0 && (f->fts_info == FTS_NS || f->fts_info == FTS_ERR ||
					  f->fts_info == FTS_DNR || f->fts_info == FTS_F)) {
			n = f->fts_info == FTS_F ? -ENOTDIR : -(f->fts_errno ? f->fts_errno : EIO);
			break;
		}
		if (f->fts_info != FTS_D)
			continue;
		rel = f->fts_pathlen > skip ? f->fts_path + skip : "/";
		containers_learn(c, (uint64_t)f->fts_statp->st_ino, rel, strlen(rel));
		n++;
	}
	fts_close(fts);
	return n;
}

/* The fallback: /proc/<tgid>/cgroup, cached per process. */
static const char *ask_proc(struct containers *c, uint32_t tgid, uint64_t cgroup, uint64_t now_ns)
{
	bool made;
	struct container_of *e = entry(c, &c->by_tgid, &c->n_tgids, tgid, &made);
	char id[sizeof(e->id)];
	int n;

	if (!e)
		return "";
	if (!made && e->cgroup == cgroup && now_ns - e->asked_ns < CONTAINERS_TTL_NS)
		return e->id;
	c->fallback++;
	n = path_proc_container_id(tgid, id, sizeof(id));
	/* A process already gone keeps the answer it had for this cgroup;
	 * none, the first time (counted as unknown). */
	if (n >= 0)
		memcpy(e->id, n > 0 ? id : "", n > 0 ? sizeof(id) : 1);
	else if (made || e->cgroup != cgroup) {
		e->id[0] = '\0';
		c->unknown++;
	}
	e->cgroup = cgroup;
	e->asked_ns = now_ns;
	return e->id;
}

const char *containers_id(struct containers *c, uint32_t tgid, uint64_t cgroup, uint64_t now_ns)
{
	struct container_of *e;

	if (c->last && c->last->key == cgroup)
		return c->last->id;
	HASH_FIND(hh, c->by_cgroup, &cgroup, sizeof(cgroup), e);
	if (e) {
		c->last = e;
		return e->id;
	}
	return ask_proc(c, tgid, cgroup, now_ns);
}
