/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: agent/path.c - lexical path resolution, /proc link reading
 * and the /proc/<pid>/cgroup parser.
 *
 * Input: one byte choosing a small output capacity, then NUL-separated
 * pieces: base, rel, cgroup text, and a name for a memfd (its /proc link
 * reads "/memfd:<name> (deleted)": arbitrary link text, no files left
 * behind). Every output buffer is malloc'd at exactly the capacity passed,
 * so ASan sees any write past it.
 *
 * Invariants (a violation traps):
 *  - path_resolve() equals a plain reference normaliser when the result
 *    fits (len < cap), else -ENAMETOOLONG; -EINVAL exactly for a relative
 *    @rel without an absolute @base; a result is absolute, has no "//",
 *    "." or ".." component, no trailing '/', and resolves to itself;
 *  - path_container_id() equals a reference parser of the documented
 *    format; a found id is 64 lowercase hex digits of the input;
 *  - path_proc_fd()/path_proc_cwd() give the whole link text or
 *    -ENAMETOOLONG, never a truncated one;
 *  - on error an output with room holds "".
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "path.h"

#define BIG_CAP 8192
#define MEMFD_NAME_MAX 249 /* NAME_MAX - strlen("memfd:") */

static char *cwd;

/* A buffer of exactly @cap bytes, filled with garbage. */
static char *out_buf(size_t cap)
{
	char *p = malloc(cap ? cap : 1);

	if (!p)
		abort();
	memset(p, 'Z', cap ? cap : 1);
	return p;
}

/* ---- path_resolve ---- */

/* The obvious normaliser: components onto a stack, unbounded. */
static void ref_walk(char *out, size_t *len, const char *s)
{
	while (*s) {
		const char *c;
		size_t n;

		while (*s == '/')
			s++;
		c = s;
		while (*s && *s != '/')
			s++;
		n = (size_t)(s - c);
		if (!n || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			char *slash;

			out[*len] = '\0';
			slash = strrchr(out, '/');
			*len = slash == out ? 1 : (size_t)(slash - out);
			continue;
		}
		if (*len > 1)
			out[(*len)++] = '/';
		memcpy(out + *len, c, n);
		*len += n;
	}
	out[*len] = '\0';
}

/* Returns the length, -EINVAL as documented; @out has room for both. */
static long ref_resolve(const char *base, const char *rel, char *out)
{
	size_t len = 1;

	if (rel[0] != '/' && (!base || base[0] != '/'))
		return -EINVAL;
	out[0] = '/';
	out[1] = '\0';
	if (rel[0] != '/')
		ref_walk(out, &len, base);
	ref_walk(out, &len, rel);
	return (long)len;
}

static void check_normal(const char *p, size_t len)
{
	FUZZ_CHECK(strlen(p) == len && p[0] == '/');
	FUZZ_CHECK(len == 1 || p[len - 1] != '/');
	FUZZ_CHECK(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
	FUZZ_CHECK(!(len >= 2 && strcmp(p + len - 2, "/.") == 0));
	FUZZ_CHECK(!(len >= 3 && strcmp(p + len - 3, "/..") == 0));
}

static void check_resolve(const char *base, const char *rel, size_t cap)
{
	size_t blen = base ? strlen(base) : 0;
	char *want = malloc(blen + strlen(rel) + 3), *out = out_buf(cap), *again;
	long exp = ref_resolve(base, rel, want);
	int rc = path_resolve(base, rel, out, cap);

	if (!want)
		abort();
	if (exp == -EINVAL) {
		FUZZ_CHECK(rc == -EINVAL);
	} else if ((size_t)exp >= cap) {
		FUZZ_CHECK(rc == -ENAMETOOLONG);
	} else {
		if (rc != exp || strcmp(out, want) != 0) {
			fprintf(stderr, "base '%s' rel '%s' cap %zu: got %d '%s', want %ld '%s'\n",
				base ? base : "(null)", rel, cap, rc, rc >= 0 ? out : "", exp,
				want);
			FUZZ_CHECK(!"path_resolve() equals the reference");
		}
		check_normal(out, (size_t)rc);
		/* A normal path resolves to itself, with any base. */
		again = out_buf(cap);
		FUZZ_CHECK(path_resolve(NULL, out, again, cap) == rc && strcmp(again, out) == 0);
		free(again);
	}
	if (rc < 0 && cap)
		FUZZ_CHECK(out[0] == '\0');
	free(out);
	free(want);
}

/* ---- path_container_id ---- */

static bool hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Last run of exactly 64 hex digits in [s, e), per the header. */
static const char *ref_last_id(const char *s, const char *e)
{
	const char *found = NULL;

	for (const char *p = s; p < e;) {
		const char *run = p;

		if (!hex(*p)) {
			p++;
			continue;
		}
		while (p < e && hex(*p))
			p++;
		if (p - run == 64)
			found = run;
	}
	return found;
}

/* Returns 64 with @id set, 0, or -EINVAL; mirrors the header's wording. */
static int ref_container_id(const char *text, const char **id)
{
	const char *unified = NULL, *v1 = NULL;
	int lines = 0;

	for (const char *line = text; *line;) {
		const char *nl = strchrnul(line, '\n'), *p = line, *c2, *found;

		if (nl != line) {
			while (p < nl && *p >= '0' && *p <= '9')
				p++;
			if (p == line || p == nl || *p != ':')
				return -EINVAL; /* "<id>:" */
			c2 = memchr(p + 1, ':', (size_t)(nl - p - 1));
			if (!c2 || nl - c2 < 2 || c2[1] != '/')
				return -EINVAL; /* ":<controllers>:/<path>" */
			lines++;
			found = ref_last_id(c2 + 1, nl);
			if (found && p - line == 1 && line[0] == '0' && c2 == p + 1)
				unified = found;
			else if (found && !v1)
				v1 = found;
		}
		line = *nl ? nl + 1 : nl;
	}
	if (!lines)
		return -EINVAL;
	*id = unified ? unified : v1;
	return *id ? 64 : 0;
}

static void check_container_id(const char *text, size_t cap)
{
	const char *id = NULL;
	int exp = ref_container_id(text, &id);
	char *out = out_buf(cap);
	int rc = path_container_id(text, out, cap);

	if (cap < PATH_CONTAINER_ID_LEN + 1) {
		FUZZ_CHECK(rc == -ENAMETOOLONG);
	} else {
		FUZZ_CHECK(rc == exp);
		if (rc == 64) {
			FUZZ_CHECK(strlen(out) == 64 && memcmp(out, id, 64) == 0);
			for (int i = 0; i < 64; i++)
				FUZZ_CHECK(hex(out[i]));
		}
	}
	if (rc <= 0 && cap)
		FUZZ_CHECK(out[0] == '\0');
	free(out);
}

/* ---- /proc links ---- */

/* @rc and @out from a link reader, given the whole link text @want. */
static void check_link(int rc, const char *out, size_t cap, const char *want)
{
	size_t len = strlen(want);

	if (len < cap) {
		if (rc != (int)len || strcmp(out, want) != 0) {
			fprintf(stderr, "link: got %d '%s', want '%s'\n", rc, rc >= 0 ? out : "",
				want);
			FUZZ_CHECK(!"link text read whole");
		}
	} else {
		FUZZ_CHECK(rc == -ENAMETOOLONG);
	}
	if (rc < 0 && cap)
		FUZZ_CHECK(out[0] == '\0');
}

static void check_proc(const char *name, const char *rel, size_t cap)
{
	size_t n = strnlen(name, MEMFD_NAME_MAX);
	char memname[MEMFD_NAME_MAX + 1], want[MEMFD_NAME_MAX + 32], *out;
	uint32_t self = (uint32_t)getpid();
	int fd;

	memcpy(memname, name, n);
	memname[n] = '\0';
	fd = memfd_create(memname, MFD_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", memname);
	for (int pass = 0; pass < 2; pass++) {
		size_t c = pass ? BIG_CAP : cap;

		out = out_buf(c);
		check_link(path_proc_fd(self, fd, out, c), out, c, want);
		free(out);
	}
	/* The agent joins names relative to a dirfd onto that fd's link text. */
	check_resolve(want, rel, cap);
	check_resolve(want, rel, BIG_CAP);
	close(fd);

	out = out_buf(cap);
	FUZZ_CHECK(path_proc_fd(self, -1 - (int)cap, out, cap) == -EBADF);
	FUZZ_CHECK(!cap || out[0] == '\0');
	check_link(path_proc_cwd(self, out, cap), out, cap, cwd);
	free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *piece[4] = {"", "", "", ""};
	char *text;
	size_t cap, off = 0;

	if (!size)
		return 0;
	cap = data[0]; /* 0..255: around the lengths the inputs reach */
	text = fuzz_cstr(data + 1, size - 1);
	for (int i = 0; i < 4 && off < size - 1; i++) {
		piece[i] = text + off;
		off += strlen(text + off) + 1;
	}

	check_resolve(piece[0], piece[1], cap);
	check_resolve(piece[0], piece[1], BIG_CAP);
	check_resolve(NULL, piece[1], cap);
	check_resolve(piece[1], piece[0], BIG_CAP);
	FUZZ_CHECK(path_resolve(piece[0], NULL, text, 0) == -EINVAL);

	check_container_id(piece[2], cap);
	check_container_id(piece[2], BIG_CAP);

	check_proc(piece[3], piece[1], cap);
	free(text);
	return 0;
}
