/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: a bump allocator for memory that dies all at once, e.g. everything
 * protobuf-c allocates while unpacking one message (a string and a struct
 * per field: 20-odd malloc/free pairs per event otherwise). Allocations are
 * 16-byte aligned; nothing is freed singly; arena_reset() rewinds.
 *
 * Not thread-safe: one arena per thread. Owned by its user; arena_free()
 * releases every chunk.
 */
#ifndef SENTINEL_ARENA_H
#define SENTINEL_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* the chunk being filled; older ones after it */
	size_t chunk;		  /* bytes of a standard chunk */
};

/* An empty arena whose chunks hold @chunk bytes (larger requests get a
 * chunk of their own). Allocates nothing yet. */
void arena_init(struct arena *a, size_t chunk);

/* @n bytes, 16-byte aligned, valid until the next reset; NULL when out of
 * memory (or @n is absurd). */
void *arena_alloc(struct arena *a, size_t n);

/* Forgets every allocation. Keeps one standard chunk for the next use and
 * frees the rest, so one huge message does not stay resident. */
void arena_reset(struct arena *a);

void arena_free(struct arena *a);

/* The two halves of an allocator interface with a context pointer (e.g.
 * protobuf-c's ProtobufCAllocator{arena_alloc_cb, arena_free_cb, &a}):
 * allocate from the arena @a; a single free does nothing (arena_reset()
 * frees all). */
void *arena_alloc_cb(void *a, size_t n);
void arena_free_cb(void *a, void *p);

#endif
