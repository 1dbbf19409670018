/* SPDX-License-Identifier: Apache-2.0 */
#include "kpath.h"

#include <errno.h>
#include <string.h>

/*
 * Check names[0..len) holds exactly @count non-empty NUL-terminated
 * components of at most SE_KP_NAME_MAX bytes, none with a '/'. Sets *@root_len to the bytes
 * of the first @root_at of them. 0 or -EINVAL.
 */
static int check_names(const char *names, size_t len, unsigned count, unsigned root_at,
		       size_t *root_len)
{
	size_t off = 0;

	for (unsigned i = 0; i < count; i++) {
		size_t room = len - off;
		const char *nul;

		if (i == root_at)
			*root_len = off;
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
	if (root_at == count)
		*root_len = off;
	return off == len ? 0 : -EINVAL;
}

/*
 * Join the components in names[0..len) (leaf first) root first into @out:
 * "/a/b/c" (len characters and a NUL), or "a/b/c" if @relative. Each
 * component is placed from the end, so no second pass is needed.
 */
static void join(const char *names, size_t len, bool relative, char *out)
{
	size_t off = 0, pos = len;

	out[len] = '\0';
	while (off < len) {
		size_t l = strlen(names + off);

		pos -= l;
		memcpy(out + pos, names + off, l);
		out[--pos] = '/';
		off += l + 1;
	}
	if (len == 0)
		strcpy(out, relative ? "" : "/");
	else if (relative)
		memmove(out, out + 1, len);
}

int kpath_decode(const void *rec, size_t size, struct kpath *out)
{
	struct se_kpath h;
	const char *names = (const char *)rec + SE_KP_HDR;
	size_t root_len = 0;
	bool trunc;

	out->host[0] = out->in_root[0] = out->fs_path[0] = '\0';
	if (!rec || size < SE_KP_HDR)
		return -EINVAL;
	/* The header only: the record may be shorter than the struct. */
	memcpy(&h, rec, SE_KP_HDR);
	if (h.len > SE_KP_BUF || size < SE_KP_HDR + h.len || (h.flags & ~SE_KP_F_ALL) ||
	    ((h.flags & SE_KP_F_FAULT) && !(h.flags & SE_KP_F_TRUNCATED)))
		return -EINVAL;
	if ((h.flags & SE_KP_F_ROOT) ? h.root_at > h.count : h.root_at != 0)
		return -EINVAL;
	if (check_names(names, h.len, h.count, h.root_at, &root_len))
		return -EINVAL;

	trunc = h.flags & SE_KP_F_TRUNCATED;
	if (h.flags & SE_KP_F_ESCAPED) {
		/* What d_path gives when it meets a root that is not a
		 * mount's (prepend_path's "escaped"), whatever it had. */
		join(names, h.len, trunc, out->fs_path);
		strcpy(out->host, "/");
		strcpy(out->in_root, "/");
	} else {
		join(names, h.len, trunc, out->host);
		if (h.flags & SE_KP_F_ROOT)
			join(names, root_len, false, out->in_root);
		else
			memcpy(out->in_root, out->host, strlen(out->host) + 1);
	}
	out->in_root_partial = trunc && !(h.flags & SE_KP_F_ROOT);
	out->ino = h.ino;
	out->dev_major = h.dev >> 20; /* the kernel's MAJOR()/MINOR() */
	out->dev_minor = h.dev & ((1u << 20) - 1);
	out->mntns = h.mntns;
	out->count = h.count;
	out->root_at = h.root_at;
	out->flags = h.flags;
	return 0;
}
