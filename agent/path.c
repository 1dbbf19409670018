/* SPDX-License-Identifier: Apache-2.0 */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* Longest "/proc/<u32>/fd/<int>" with its NUL, with room to spare. */
#define PROC_PATH_MAX 48
/* /proc/<pid>/cgroup: one short line on cgroup v2, ~13 on v1. */
#define CGROUP_BUF 16384

/* Lexical normaliser state: out[0..len) is "/" or "/a/b" (no trailing '/'). */
struct norm {
	char *out;
	size_t cap, len;
	/*
	 * Components that did not fit in @out, yet are still on the logical
	 * stack: a later ".." cancels them, so only what remains at the end
	 * decides -ENAMETOOLONG. Once non-zero, nothing more is stored (the
	 * stored part must stay a prefix of the logical path).
	 */
	size_t over;
};

static void norm_walk(struct norm *n, const char *s)
{
	while (*s) {
		const char *c;
		size_t clen, sep;

		while (*s == '/')
			s++;
		c = s;
		while (*s && *s != '/')
			s++;
		clen = (size_t)(s - c);
		if (!clen || (clen == 1 && c[0] == '.'))
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			if (n->over) {
				n->over--;
			} else {
				while (n->len > 1 && n->out[n->len - 1] != '/')
					n->len--;
				if (n->len > 1) /* the separator, not the root */
					n->len--;
			}
			continue;
		}
		sep = n->len > 1;
		/* room for the separator, the component and the final NUL */
		if (n->over || sep + clen >= n->cap - n->len) {
			n->over++;
			continue;
		}
		if (sep)
			n->out[n->len++] = '/';
		memcpy(n->out + n->len, c, clen);
		n->len += clen;
	}
}

int path_resolve_over(const char *base, uint32_t base_over, const char *rel, char *out, size_t cap,
		      uint32_t *over)
{
	struct norm n = {.out = out, .cap = cap, .len = 1};

	*over = 0;
	if (cap)
		out[0] = '\0';
	if (!rel)
		return -EINVAL;
	if (rel[0] != '/' && (!base || base[0] != '/'))
		return -EINVAL;
	if (cap < 2)
		return -EINVAL;
	if (n.cap > (size_t)INT_MAX + 1) /* so that the length fits an int */
		n.cap = (size_t)INT_MAX + 1;
	out[0] = '/';
	if (rel[0] != '/') {
		norm_walk(&n, base);
		n.over += base_over;
	}
	norm_walk(&n, rel);
	out[n.len] = '\0';
	*over = n.over > UINT32_MAX ? UINT32_MAX : (uint32_t)n.over;
	return (int)n.len;
}

int path_resolve(const char *base, const char *rel, char *out, size_t cap)
{
	uint32_t over;
	int n;

	if (cap < 2) { /* no room for "/": too long, if the arguments are valid */
		if (cap)
			out[0] = '\0';
		return rel && (rel[0] == '/' || (base && base[0] == '/')) ? -ENAMETOOLONG : -EINVAL;
	}
	n = path_resolve_over(base, 0, rel, out, cap, &over);
	if (n < 0)
		return n;
	if (over) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return n;
}

static char *put_u32(char *d, uint32_t v)
{
	char tmp[10];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		*d++ = tmp[--i];
	return d;
}

/* "/proc/<tgid>/<tail>" into @d (PROC_PATH_MAX), without snprintf. */
static char *proc_path(char *d, uint32_t tgid, const char *tail)
{
	size_t n = strlen(tail);

	memcpy(d, "/proc/", 6);
	d = put_u32(d + 6, tgid);
	*d++ = '/';
	memcpy(d, tail, n);
	d[n] = '\0';
	return d + n;
}

/*
 * readlink() does not NUL-terminate and silently truncates to the buffer
 * size. Asking for up to @cap bytes, a result of @cap means "maybe more";
 * anything shorter is whole and leaves room for the NUL.
 */
static int read_link(const char *p, char *out, size_t cap)
{
	ssize_t r;

	if (!cap)
		return -ENAMETOOLONG;
	if (cap > INT_MAX) /* so that the length fits the return type */
		cap = INT_MAX;
	r = readlink(p, out, cap);
	if (r < 0) {
		out[0] = '\0';
		return -errno;
	}
	if ((size_t)r >= cap) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	out[r] = '\0';
	return (int)r;
}

int path_proc_fd(uint32_t tgid, int fd, char *out, size_t cap)
{
	char p[PROC_PATH_MAX];

	if (fd < 0) {
		if (cap)
			out[0] = '\0';
		return -EBADF;
	}
	*put_u32(proc_path(p, tgid, "fd/"), (uint32_t)fd) = '\0';
	return read_link(p, out, cap);
}

int path_proc_cwd(uint32_t tgid, char *out, size_t cap)
{
	char p[PROC_PATH_MAX];

	proc_path(p, tgid, "cwd");
	return read_link(p, out, cap);
}

static inline int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The last run of exactly 64 hex digits in [s, e), or NULL. */
static const char *last_id(const char *s, const char *e)
{
	const char *found = NULL;

	while (s < e) {
		const char *run;

		while (s < e && !is_lower_hex(*s))
			s++;
		run = s;
		while (s < e && is_lower_hex(*s))
			s++;
		if (s - run == PATH_CONTAINER_ID_LEN)
			found = run;
	}
	return found;
}

int path_cgroup_container_id(const char *path, size_t len, char *out, size_t cap)
{
	const char *id;

	if (cap)
		out[0] = '\0';
	if (cap < PATH_CONTAINER_ID_LEN + 1)
		return -ENAMETOOLONG;
	id = last_id(path, path + len);
	if (!id)
		return 0;
	memcpy(out, id, PATH_CONTAINER_ID_LEN);
	out[PATH_CONTAINER_ID_LEN] = '\0';
	return PATH_CONTAINER_ID_LEN;
}

/*
 * One "<hierarchy-id>:<controllers>:<path>" line in [line, nl); the path may
 * hold ':'. Returns -EINVAL if malformed, else 1 for the unified (0::) line
 * and 0 for a v1 line, with *@id the id found in its path or NULL.
 */
static int cgroup_line(const char *line, const char *nl, const char **id)
{
	const char *c1 = line, *c2;

	while (c1 < nl && *c1 >= '0' && *c1 <= '9')
		c1++;
	if (c1 == line || c1 == nl || *c1 != ':')
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', (size_t)(nl - c1 - 1));
	if (!c2 || c2 + 1 == nl || c2[1] != '/')
		return -EINVAL;
	*id = last_id(c2 + 1, nl);
	return c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
}

int path_container_id(const char *text, char *out, size_t cap)
{
	const char *line = text, *unified = NULL, *v1 = NULL, *id;
	int lines = 0;

	if (cap)
		out[0] = '\0';
	if (!text)
		return -EINVAL;
	if (cap < PATH_CONTAINER_ID_LEN + 1)
		return -ENAMETOOLONG;

	while (*line) {
		const char *nl = strchrnul(line, '\n');

		if (nl != line) { /* blank lines (a final one) are fine */
			int rc = cgroup_line(line, nl, &id);

			if (rc < 0)
				return rc;
			lines++;
			if (id && rc)
				unified = id;
			else if (id && !v1)
				v1 = id;
		}
		line = *nl ? nl + 1 : nl;
	}
	if (!lines)
		return -EINVAL;
	id = unified ? unified : v1;
	if (!id)
		return 0;
	memcpy(out, id, PATH_CONTAINER_ID_LEN);
	out[PATH_CONTAINER_ID_LEN] = '\0';
	return PATH_CONTAINER_ID_LEN;
}

int path_proc_container_id(uint32_t tgid, char *out, size_t cap)
{
	char p[PROC_PATH_MAX], buf[CGROUP_BUF];
	size_t len = 0;
	int fd, err = 0, truncated = 0, rc;

	if (cap)
		out[0] = '\0';
	proc_path(p, tgid, "cgroup");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* proc files may come in several reads: read to EOF or a full buffer */
	while (len < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	if (!err && len == sizeof(buf) - 1) {
		char c;

		truncated = read(fd, &c, 1) > 0;
	}
	close(fd);
	if (err)
		return err;
	if (truncated) {
		/* Best effort: parse the whole lines we have. */
		const char *nl = memrchr(buf, '\n', len);

		if (!nl)
			return -EFBIG;
		len = (size_t)(nl - buf) + 1;
	}
	buf[len] = '\0';
	rc = path_container_id(buf, out, cap);
	return truncated && rc == 0 ? -EFBIG : rc;
}
