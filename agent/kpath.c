/* SPDX-License-Identifier: Apache-2.0 */
#include "kpath.h"

#include <errno.h>
#include <string.h>

/* Byte offsets in names[] where some components start (see check_names). */
enum { AT_ROOT, AT_BIND, AT_FROM, AT_N };

/*
 * Check names[0..len) holds exactly @count non-empty NUL-terminated
 * components of at most SE_KP_NAME_MAX bytes, none with a '/'. Sets off[k]
 * to the byte offset of component @at[k] (len for @at[k] == @count; each
 * @at[k] is at most @count). 0 or -EINVAL.
 */
static int check_names(const char *names, size_t len, unsigned count, const unsigned at[AT_N],
		       size_t off_at[AT_N])
{
	size_t off = 0;

	for (unsigned i = 0; i <= count; i++) {
		const char *nul;
		size_t room;

		for (unsigned k = 0; k < AT_N; k++)
			if (at[k] == i)
				off_at[k] = off;
		if (i == count)
			break;
		room = len - off;
		if (room > SE_KP_NAME_MAX + 1)
			room = SE_KP_NAME_MAX + 1;
		nul = memchr(names + off, '\0', room);
		if (!nul || nul == names + off)
			return -EINVAL;
		/* No name the VFS accepts holds a '/': one would forge structure
		 * ("a/b" as one component passing for two). */
		if (memchr(names + off, '/', (size_t)(nul - (names + off))))
			return -EINVAL;
		off = (size_t)(nul - names) + 1;
	}
	return off == len ? 0 : -EINVAL;
}

/*
 * Join the components in a[0..alen) and then b[0..blen) (each leaf first)
 * root first into @out: "/a/b/c" (alen + blen characters and a NUL), or
 * "a/b/c" if @relative. Each component is placed from the end, so no
 * second pass is needed.
 */
static void join2(const char *a, size_t alen, const char *b, size_t blen, bool relative, char *out)
{
	size_t len = alen + blen, pos = len;

	out[len] = '\0';
	for (int seg = 0; seg < 2; seg++) {
		const char *names = seg ? b : a;
		size_t n = seg ? blen : alen, off = 0;

		while (off < n) {
			size_t l = strlen(names + off);

			pos -= l;
			memcpy(out + pos, names + off, l);
			out[--pos] = '/';
			off += l + 1;
		}
	}
	if (len == 0)
		strcpy(out, relative ? "" : "/");
	else if (relative)
		memmove(out, out + 1, len);
}

static void join(const char *names, size_t len, bool relative, char *out)
{
	join2(names, len, NULL, 0, relative, out);
}

/* The header's fields against each other; 0 or -EINVAL. */
static int check_header(const struct se_kpath *h)
{
	bool two = h->flags & (SE_KP_F_BIND | SE_KP_F_NO_ORIGIN);
	unsigned walk1 = two ? h->bind_from : h->count;

	if (h->len > SE_KP_BUF || (h->flags & ~SE_KP_F_ALL) ||
	    ((h->flags & SE_KP_F_FAULT) && !(h->flags & SE_KP_F_TRUNCATED)))
		return -EINVAL;
	if (!two && (h->bind_at || h->bind_from || h->origin_ns))
		return -EINVAL;
	if (two && (h->bind_at > h->bind_from || h->bind_from > h->count))
		return -EINVAL;
	/* Walk 2 is kept whole or not at all, and runs only after a whole
	 * walk 1: without an origin nothing of it is left, nor cut. */
	if ((h->flags & SE_KP_F_NO_ORIGIN) && ((h->flags & (SE_KP_F_BIND | SE_KP_F_TRUNCATED)) ||
					       h->bind_from != h->count || h->origin_ns))
		return -EINVAL;
	if ((h->flags & SE_KP_F_ROOT) ? h->root_at > walk1 : h->root_at != 0)
		return -EINVAL;
	return 0;
}

int kpath_decode(const void *rec, size_t size, struct kpath *out)
{
	struct se_kpath h;
	const char *names = (const char *)rec + SE_KP_HDR;
	size_t off[AT_N] = {0};
	unsigned at[AT_N];
	bool trunc, bind;

	out->host[0] = out->via[0] = out->in_root[0] = out->fs_path[0] = '\0';
	if (!rec || size < SE_KP_HDR)
		return -EINVAL;
	/* The header only: the record may be shorter than the struct. */
	memcpy(&h, rec, SE_KP_HDR);
	if (check_header(&h) || size < SE_KP_HDR + h.len)
		return -EINVAL;
	at[AT_ROOT] = h.root_at;
	at[AT_BIND] = h.bind_at;
	at[AT_FROM] = (h.flags & (SE_KP_F_BIND | SE_KP_F_NO_ORIGIN)) ? h.bind_from : h.count;
	if (check_names(names, h.len, h.count, at, off))
		return -EINVAL;

	trunc = h.flags & SE_KP_F_TRUNCATED;
	bind = h.flags & SE_KP_F_BIND;
	/*
	 * Walk 1 is names[0, off[AT_FROM]): the path readlink shows. It is
	 * whole when walk 2 ran, so with SE_KP_F_BIND a truncation is walk
	 * 2's, and only the origin name (host) is relative.
	 */
	if (h.flags & SE_KP_F_ESCAPED) {
		/* What d_path gives when it meets a root that is not a
		 * mount's (prepend_path's "escaped"), whatever it had. */
		join(names, off[AT_FROM], trunc && !bind, out->fs_path);
		strcpy(bind ? out->via : out->host, "/");
		strcpy(out->in_root, "/");
	} else {
		join(names, off[AT_FROM], trunc && !bind, bind ? out->via : out->host);
		if (h.flags & SE_KP_F_ROOT)
			join(names, off[AT_ROOT], false, out->in_root);
		else
			strcpy(out->in_root, bind ? out->via : out->host);
	}
	/* The origin name: walk 1's components below the subtree's root,
	 * then walk 2's. */
	if (bind)
		join2(names, off[AT_BIND], names + off[AT_FROM], h.len - off[AT_FROM], trunc,
		      out->host);
	out->in_root_partial = trunc && !bind && !(h.flags & SE_KP_F_ROOT);
	out->ino = h.ino;
	out->dev_major = h.dev >> 20; /* the kernel's MAJOR()/MINOR() */
	out->dev_minor = h.dev & ((1u << 20) - 1);
	out->mntns = h.mntns;
	out->count = h.count;
	out->root_at = h.root_at;
	out->bind_at = h.bind_at;
	out->bind_from = h.bind_from;
	out->origin_ns = h.origin_ns;
	out->flags = h.flags;
	return 0;
}
