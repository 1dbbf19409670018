/* SPDX-License-Identifier: Apache-2.0 */
#include "containers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

void containers_init(struct containers *c)
{
	memset(c, 0, sizeof(*c));
}

static void drop(struct containers *c, struct container_of *e)
{
	if (c->last == e)
		c->last = NULL;
	HASH_DEL(c->by_tgid, e);
	free(e);
	c->n--;
}

void containers_free(struct containers *c)
{
	struct container_of *e, *tmp;

	HASH_ITER (hh, c->by_tgid, e, tmp) {
		HASH_DEL(c->by_tgid, e);
		free(e);
	}
	c->n = 0;
	c->last = NULL;
}

/* Asks /proc for @e->tgid. A process already gone keeps the answer it had
 * (none, the first time: counted as unknown). */
static void ask(struct containers *c, struct container_of *e, uint64_t now_ns, bool first)
{
	char id[sizeof(e->id)];
	int n = path_proc_container_id(e->tgid, id, sizeof(id));

	e->asked_ns = now_ns;
	if (n >= 0) {
		memcpy(e->id, n > 0 ? id : "", n > 0 ? sizeof(id) : 1);
		return;
	}
	if (first) {
		e->id[0] = '\0';
		c->unknown++;
	}
}

const char *containers_id(struct containers *c, uint32_t tgid, uint64_t cgroup, uint64_t now_ns)
{
	struct container_of *e = c->last;
	bool first = false;

	if (!e || e->tgid != tgid)
		HASH_FIND(hh, c->by_tgid, &tgid, sizeof(tgid), e);
	if (e && e->cgroup == cgroup && now_ns - e->asked_ns < CONTAINERS_TTL_NS) {
		c->last = e;
		return e->id;
	}
	if (!e) {
		first = true;
		if (c->n >= CONTAINERS_MAX && c->by_tgid)
			drop(c, c->by_tgid); /* the oldest */
		e = calloc(1, sizeof(*e));
		if (!e)
			return "";
		e->tgid = tgid;
		HASH_ADD(hh, c->by_tgid, tgid, sizeof(e->tgid), e);
		c->n++;
	}
	/* New, moved to another cgroup (or a reused tgid), or an old answer. */
	first = first || e->cgroup != cgroup;
	e->cgroup = cgroup;
	ask(c, e, now_ns, first);
	c->last = e;
	return e->id;
}
