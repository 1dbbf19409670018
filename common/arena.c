/* SPDX-License-Identifier: Apache-2.0 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#define ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(ALIGN) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk)
{
	a->head = NULL;
	a->chunk = chunk < 1024 ? 1024 : chunk;
}

static struct arena_chunk *chunk_new(size_t cap, struct arena_chunk *next)
{
	struct arena_chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = next;
	c->used = 0;
	c->cap = cap;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need;
	void *p;

	if (n > SIZE_MAX - ALIGN)
		return NULL;
	need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (!c || c->cap - c->used < need) {
		if (need > a->chunk) {
			/* A chunk of its own, behind the current one, which keeps
			 * filling. */
			struct arena_chunk *big = chunk_new(need, c ? c->next : NULL);

			if (!big)
				return NULL;
			big->used = need;
			if (c)
				c->next = big;
			else
				a->head = big;
			return big->data;
		}
		c = chunk_new(a->chunk, c);
		if (!c)
			return NULL;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *keep = NULL, *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		if (!keep && c->cap == a->chunk) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
		c = next;
	}
	a->head = keep;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}

void *arena_alloc_cb(void *a, size_t n)
{
	return arena_alloc(a, n);
}

void arena_free_cb(void *a, void *p)
{
	(void)a;
	(void)p;
}
