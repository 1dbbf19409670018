/* SPDX-License-Identifier: Apache-2.0 */
#include "btfoff.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"

/* Anonymous struct/union nesting followed; the kernel's deepest is ~3. A cap
 * also ends a crafted file whose anonymous members contain themselves. */
#define MAX_ANON_DEPTH 16

struct btfoff {
	struct btf *btf;
	char *source; /* named in messages */
	struct btfoff_result *res;
	size_t nres;
	char **cflags;
	size_t ncflags;
};

/* What the probe reads. A new member is one line here; the probe then uses
 * SE_OFF_<TYPE>_<MEMBER> (and SE_SZ_ for its width). */
static const struct btfoff_want probe_wants[] = {
	{"task_struct", "files", false},
	{"task_struct", "fs", false},
	{"task_struct", "nsproxy", false},
	{"task_struct", "real_parent", false},
	{"task_struct", "tgid", false},
	{"task_struct", "cred", false},
	{"task_struct", "real_cred", false},
	{"task_struct", "mm", false},
	{"task_struct", "loginuid", true},  /* CONFIG_AUDIT */
	{"task_struct", "sessionid", true}, /* CONFIG_AUDIT */
	{"task_struct", "cgroups", false},
	{"task_struct", "thread_info.status", false}, /* TS_COMPAT: an ia32 syscall */
	{"files_struct", "fdt", false},
	{"files_struct", "fdtab", false}, /* the table of a process with few fds */
	{"fdtable", "fd", false},
	{"fdtable", "max_fds", false},
	{"file", "f_path", false},
	{"file", "f_inode", false},
	{"file", "f_flags", false},
	{"file", "f_mode", false},
	{"path", "mnt", false},
	{"path", "dentry", false},
	{"dentry", "d_name", false},
	{"dentry", "d_parent", false},
	{"dentry", "d_inode", false},
	{"dentry", "d_hash", false},
	{"hlist_bl_node", "pprev", false},
	{"qstr", "name", false},
	{"qstr", "len", false},
	{"qstr", "hash_len", false}, /* hash and len as one u64: the walk's signature */
	{"inode", "i_ino", false},
	{"inode", "i_sb", false},
	{"inode", "i_mode", false},
	{"inode", "i_size", false},	  /* ftruncate: the size before */
	{"address_space", "host", false}, /* a dirtied page's inode */
	{"super_block", "s_dev", false},
	{"super_block", "s_root", false},
	/* the superblock's mounts: a list_head in 6.1, a struct mount * in 6.18 */
	{"super_block", "s_mounts", false},
	{"vfsmount", "mnt_root", false},
	{"vfsmount", "mnt_sb", false},
	{"mount", "mnt", false}, /* the embedded vfsmount: container_of(vfsmount, mount) */
	{"mount", "mnt_parent", false},
	{"mount", "mnt_mountpoint", false},
	{"mount", "mnt_ns", false},
	{"mount", "mnt_instance", true},    /* s_mounts' list_head links (6.1) */
	{"mount", "mnt_next_for_sb", true}, /* s_mounts' singly linked list (6.18) */
	{"fs_struct", "root", false},
	{"fs_struct", "pwd", false},
	{"nsproxy", "mnt_ns", false},
	{"nsproxy", "pid_ns_for_children", false},
	{"pid_namespace", "parent", false},
	{"pid_namespace", "child_reaper", false}, /* the init of the first pid namespace */
	{"mnt_namespace", "ns", false},
	{"mnt_namespace", "ns.inum", false}, /* the mount namespace's inode number */
	{"ns_common", "inum", false},
	{"cred", "uid", false},
	{"cred", "euid", false},
	{"cred", "gid", false},
	{"mm_struct", "exe_file", false},
	/* io_uring requests (CONFIG_IO_URING; all optional: without them the
	 * probe is built without its io_uring programs, and the agent says so).
	 * A request's file (set when it is issued), opcode, flags, fd or fixed
	 * slot, ring; a read or write's buffer and length (io_rw overlays the
	 * request's first bytes); the ring's registered files: a table of
	 * io_rsrc_node pointers in 6.18, of io_fixed_file in 6.1. */
	{"io_kiocb", "file", true},
	{"io_kiocb", "opcode", true},
	{"io_kiocb", "flags", true},
	{"io_kiocb", "cqe.fd", true},
	{"io_kiocb", "ctx", true},
	{"io_rw", "addr", true},
	{"io_rw", "len", true},
	/* ... and the other requests' arguments, each overlaying the same
	 * bytes: a fallocate's range and mode, an ftruncate's length (6.9),
	 * an open's flags and registered slot, a splice's length and input */
	{"io_sync", "len", true},
	{"io_sync", "mode", true},
	{"io_ftrunc", "len", true},
	{"io_open", "file_slot", true},
	{"io_open", "how.flags", true},
	{"io_open", "dfd", true},
	{"io_open", "filename", true},
	{"io_splice", "len", true},
	{"io_splice", "splice_fd_in", true},
	{"io_splice", "flags", true},
	/* a rename's or link's directory fds, names (struct filename: the
	 * kernel's copy, made at submission) and flags */
	{"io_rename", "old_dfd", true},
	{"io_rename", "new_dfd", true},
	{"io_rename", "oldpath", true},
	{"io_rename", "newpath", true},
	{"io_rename", "flags", true},
	{"io_link", "old_dfd", true},
	{"io_link", "new_dfd", true},
	{"io_link", "oldpath", true},
	{"io_link", "newpath", true},
	{"io_link", "flags", true},
	{"filename", "name", true},
	{"io_ring_ctx", "file_table", true},
	{"io_ring_ctx", "nr_user_files", true}, /* 6.1 */
	{"io_file_table", "data.nr", true},	/* 6.18 */
	{"io_file_table", "data.nodes", true},	/* 6.18 */
	{"io_file_table", "files", true},	/* 6.1 */
	{"io_rsrc_node", "file_ptr", true},	/* 6.18 */
	{"io_fixed_file", "file_ptr", true},	/* 6.1 */
	/* The task's cgroup in one v1 hierarchy (task_struct.cgroups, above),
	 * and the cgroup_mkdir tracepoint's cgroup: id and hierarchy. */
	{"css_set", "subsys", false},
	{"cgroup_subsys_state", "cgroup", false},
	{"cgroup", "kn", false},
	{"cgroup", "root", false},
	{"cgroup_root", "hierarchy_id", false},
	{"kernfs_node", "id", false},
};

const struct btfoff_want *btfoff_probe_wants(size_t *n)
{
	*n = sizeof(probe_wants) / sizeof(probe_wants[0]);
	return probe_wants;
}

struct btfoff *btfoff_for_headers(void)
{
	struct btfoff *b = calloc(1, sizeof(*b));

	if (b && !(b->source = strdup("the kernel headers"))) {
		free(b);
		return NULL;
	}
	return b;
}

bool btfoff_is_headers(const struct btfoff *b)
{
	return !b->btf;
}

struct btfoff *btfoff_from_btf(struct btf *btf, const char *source)
{
	struct btfoff *b = calloc(1, sizeof(*b));

	if (!b || !(b->source = strdup(source))) {
		free(b);
		btf__free(btf);
		return NULL;
	}
	b->btf = btf;
	return b;
}

/* Says in @err why @path cannot be read; libbpf's errno for it is less direct. */
static int check_readable(const char *path, char *err, size_t errcap)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errcap, "cannot open BTF %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "cannot open BTF %s: not a regular file", path);
		return -1;
	}
	return 0;
}

struct btfoff *btfoff_load(const char *path, char *err, size_t errcap)
{
	struct btfoff *b;
	struct btf *btf;

	if (!path)
		path = BTFOFF_VMLINUX;
	if (check_readable(path, err, errcap) != 0)
		return NULL;
	btf = btf__parse(path, NULL);
	if (!btf) {
		char why[128];

		/* libbpf's own codes (4001: bad format) too */
		libbpf_strerror(errno, why, sizeof(why));
		snprintf(err, errcap, "cannot parse BTF %s (neither raw BTF nor ELF with .BTF): %s",
			 path, why);
		return NULL;
	}
	b = btfoff_from_btf(btf, path);
	if (!b)
		snprintf(err, errcap, "BTF %s: out of memory", path);
	return b;
}

/* Where a member was found, relative to the struct searched. */
struct hit {
	unsigned long bit_off;
	unsigned int bit_size; /* 0: not a bitfield */
	__u32 type;
};

/* Without kflag, a bitfield is a member whose int type is narrower than its
 * size (or starts inside it): the older BTF encoding. */
static void legacy_bitfield(const struct btf *btf, struct hit *h)
{
	int id = btf__resolve_type(btf, h->type);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, id);

	if (t && btf_is_int(t) && (btf_int_bits(t) != t->size * 8 || btf_int_offset(t))) {
		h->bit_off += btf_int_offset(t);
		h->bit_size = btf_int_bits(t);
	}
}

/* Finds member @name (@len bytes) in @t, descending into anonymous struct
 * and union members, whose offsets add up. 1 if found, else 0. */
static int find_member(const struct btf *btf, const struct btf_type *t, const char *name,
		       size_t len, unsigned int depth, struct hit *h)
{
	const struct btf_member *m = btf_members(t);

	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *inner;
		int id;

		if (mname && *mname) {
			if (strncmp(mname, name, len) != 0 || mname[len])
				continue;
			h->bit_off = btf_member_bit_offset(t, i);
			h->bit_size = btf_member_bitfield_size(t, i);
			h->type = m->type;
			if (!btf_kflag(t))
				legacy_bitfield(btf, h);
			return 1;
		}
		/* an anonymous member: a nested struct/union (or unnamed bitfield padding) */
		id = btf__resolve_type(btf, m->type);
		inner = id < 0 ? NULL : btf__type_by_id(btf, id);
		if (!inner || !btf_is_composite(inner) || depth >= MAX_ANON_DEPTH)
			continue;
		if (find_member(btf, inner, name, len, depth + 1, h)) {
			h->bit_off += btf_member_bit_offset(t, i);
			return 1;
		}
	}
	return 0;
}

/* Follows @path ("ns.inum") from the struct @id into @r. 0; -ENOENT when a
 * member is absent; -EINVAL with the reason in @why. */
static int walk(const struct btf *btf, __u32 id, const char *path, struct btfoff_result *r,
		char *why, size_t cap)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	unsigned long bits = 0;
	struct hit h = {0};
	__s64 size;

	for (;;) {
		size_t len = strcspn(path, ".");
		int inner;

		if (!find_member(btf, t, path, len, 0, &h))
			return -ENOENT;
		bits += h.bit_off;
		if (!path[len])
			break;
		inner = btf__resolve_type(btf, h.type);
		t = inner < 0 ? NULL : btf__type_by_id(btf, inner);
		if (!t || !btf_is_composite(t)) {
			snprintf(why, cap, "%.*s is not a struct or union", (int)len, path);
			return -EINVAL;
		}
		path += len + 1;
	}
	if (bits % 8 || h.bit_size % 8) {
		snprintf(why, cap,
			 "a bitfield of %u bits at bit %lu, not byte-aligned "
			 "(bpf_probe_read_kernel reads whole bytes)",
			 h.bit_size, bits);
		return -EINVAL;
	}
	size = h.bit_size ? h.bit_size / 8 : btf__resolve_size(btf, h.type);
	if (size <= 0) {
		snprintf(why, cap, "its type has no size");
		return -EINVAL;
	}
	*r = (struct btfoff_result){.present = true, .off = bits / 8, .size = (size_t)size};
	return 0;
}

/* The next struct or union named @name after type @id; 0 when there is none. */
static __u32 next_named(const struct btf *btf, const char *name, __u32 id)
{
	__u32 cnt = btf__type_cnt(btf);

	while (++id < cnt) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_composite(t) && strcmp(btf__name_by_offset(btf, t->name_off), name) == 0)
			return id;
	}
	return 0;
}

/* Resolves @w in every struct of that name: BTF may keep two that dedup
 * could not merge, and taking the first one would be a guess. */
static int resolve_one(const struct btfoff *b, const struct btfoff_want *w, struct btfoff_result *r,
		       char *err, size_t errcap)
{
	struct btfoff_result cur;
	char why[160];
	unsigned int seen = 0;

	for (__u32 id = next_named(b->btf, w->type, 0); id; id = next_named(b->btf, w->type, id)) {
		const char *kind = btf_is_union(btf__type_by_id(b->btf, id)) ? "union" : "struct";
		int rc = walk(b->btf, id, w->member, &cur, why, sizeof(why));

		/* optional: absent from any definition counts as absent */
		if (rc == -ENOENT && w->optional) {
			*r = (struct btfoff_result){0};
			return 0;
		}
		if (rc == -ENOENT) {
			errbuf_append(err, errcap, "%s %s has no member %s", kind, w->type,
				      w->member);
			return rc;
		}
		if (rc) {
			errbuf_append(err, errcap, "%s %s member %s: %s", kind, w->type, w->member,
				      why);
			return rc;
		}
		if (seen++ && (cur.off != r->off || cur.size != r->size)) {
			errbuf_append(
				err, errcap,
				"%s %s is defined more than once in BTF %s, with %s at offset %zu "
				"(size %zu) and at %zu (size %zu)",
				kind, w->type, b->source, w->member, r->off, r->size, cur.off,
				cur.size);
			return -EINVAL;
		}
		*r = cur;
	}
	if (seen || w->optional)
		return 0;
	errbuf_append(err, errcap, "struct %s not in BTF %s", w->type, b->source);
	return -ENOENT;
}

static void free_cflags(char **cflags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cflags[i]);
	free(cflags);
}

/* "<TYPE>_<MEMBER>": upper case, '.' (and anything else) as '_'. */
static char *macro_stem(const struct btfoff_want *w)
{
	char *s = NULL;

	if (asprintf(&s, "%s_%s", w->type, w->member) < 0)
		return NULL;
	for (char *p = s; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	return s;
}

/* Appends a formatted string to @v[*k]; 0 or -ENOMEM. */
__attribute__((format(printf, 3, 4))) static int add(char **v, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&v[*k], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	(*k)++;
	return 0;
}

/* Structs private to the kernel's source (fs/mount.h, io_uring/ headers), in no
 * headers package: headers mode has no offset for their members, and the
 * probe must not use them then (SE_HEADERS). io_kiocb is in a shipped
 * header, but only with the others is it of use. */
static const char *const kernel_private[] = {
	"mount",	 "mnt_namespace", "io_kiocb",	   "io_rw",   "io_ring_ctx",
	"io_file_table", "io_rsrc_node",  "io_fixed_file", "io_sync", "io_ftrunc",
	"io_open",	 "io_splice",	  "io_rename",	   "io_link",
};

static bool is_kernel_private(const char *type)
{
	for (size_t i = 0; i < sizeof(kernel_private) / sizeof(kernel_private[0]); i++)
		if (strcmp(type, kernel_private[i]) == 0)
			return true;
	return false;
}

/* The -D flags of one member: from its BTF result @r, or in headers mode
 * (@r NULL) as the compiler computes them from the headers ("ns.inum" is
 * a valid offsetof member designator as is). 0 or -ENOMEM. */
static int member_cflags(char **cflags, size_t *k, const struct btfoff_want *w,
			 const struct btfoff_result *r)
{
	char *stem = macro_stem(w);
	int rc;

	if (!stem)
		return -ENOMEM;
	if (!r) {
		rc = add(cflags, k, "-DSE_OFF_%s=__builtin_offsetof(struct %s, %s)", stem, w->type,
			 w->member);
		if (!rc)
			rc = add(cflags, k, "-DSE_SZ_%s=sizeof(((struct %s *)0)->%s)", stem,
				 w->type, w->member);
	} else if (!r->present) {
		rc = add(cflags, k, "-DSE_OFF_%s_MISSING=1", stem);
	} else if ((rc = add(cflags, k, "-DSE_OFF_%s=%zu", stem, r->off)) == 0) {
		rc = add(cflags, k, "-DSE_SZ_%s=%zu", stem, r->size);
	}
	free(stem);
	return rc;
}

/* The -D strings into @b: for @res from BTF, or in headers mode (@res
 * NULL: -DSE_HEADERS=1, and nothing for kernel-private structs). 0 or
 * -ENOMEM. */
static int make_cflags(struct btfoff *b, const struct btfoff_want *want,
		       const struct btfoff_result *res, size_t n)
{
	char **cflags = calloc(2 * n + 2, sizeof(*cflags));
	size_t k = 0;

	if (!cflags)
		return -ENOMEM;
	if (!res && add(cflags, &k, "-DSE_HEADERS=1"))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		if (!res && is_kernel_private(want[i].type))
			continue;
		if (member_cflags(cflags, &k, &want[i], res ? &res[i] : NULL))
			goto cleanup;
	}
	b->cflags = cflags;
	b->ncflags = k;
	return 0;
cleanup:
	free_cflags(cflags, k);
	return -ENOMEM;
}

static void drop_results(struct btfoff *b)
{
	free(b->res);
	free_cflags(b->cflags, b->ncflags);
	b->res = NULL;
	b->nres = 0;
	b->cflags = NULL;
	b->ncflags = 0;
}

int btfoff_resolve(struct btfoff *b, const struct btfoff_want *want, size_t n, char *err,
		   size_t errcap)
{
	struct btfoff_result *res = calloc(n + 1, sizeof(*res));
	int rc = 0;

	if (errcap)
		err[0] = '\0';
	drop_results(b);
	if (!res) {
		errbuf_append(err, errcap, "out of memory");
		return -ENOMEM;
	}
	if (!b->btf) {
		/* Headers mode: the compiler resolves them (or fails naming them). */
		rc = make_cflags(b, want, NULL, n);
		if (rc)
			errbuf_append(err, errcap, "out of memory");
		goto cleanup;
	}
	/* all of them, so that one run names every member this kernel lacks */
	for (size_t i = 0; i < n; i++) {
		int r = resolve_one(b, &want[i], &res[i], err, errcap);

		if (r && !rc)
			rc = r;
	}
	if (rc)
		goto cleanup;
	rc = make_cflags(b, want, res, n);
	if (rc) {
		errbuf_append(err, errcap, "out of memory");
		goto cleanup;
	}
	b->res = res;
	b->nres = n;
	res = NULL;
cleanup:
	free(res);
	return rc;
}

/* @name's value in enum type @t in *@out: 0, or -ENOENT. */
static int enum_value(const struct btf *btf, const struct btf_type *t, const char *name,
		      long long *out)
{
	__u16 n = btf_vlen(t);

	for (__u16 i = 0; i < n; i++) {
		__u32 off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;

		if (strcmp(btf__name_by_offset(btf, off), name) != 0)
			continue;
		*out = btf_is_enum(t) ? btf_enum(t)[i].val
				      : (long long)btf_enum64_value(btf_enum64(t) + i);
		return 0;
	}
	return -ENOENT;
}

int btfoff_enum_value(const struct btfoff *b, const char *type, const char *name, long long *out)
{
	__u32 cnt;

	if (!b->btf)
		return -ENOENT;
	cnt = btf__type_cnt(b->btf);
	/* Several enums may share a name: the first that has the value answers. */
	for (__u32 id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(b->btf, id);

		if ((btf_is_enum(t) || btf_is_enum64(t)) &&
		    strcmp(btf__name_by_offset(b->btf, t->name_off), type) == 0 &&
		    enum_value(b->btf, t, name, out) == 0)
			return 0;
	}
	return -ENOENT;
}

int btfoff_tp_args(const struct btfoff *b, const char *tp)
{
	char name[128];
	__s32 id;
	const struct btf_type *t;

	if (!b->btf || snprintf(name, sizeof(name), "btf_trace_%s", tp) >= (int)sizeof(name))
		return -ENOENT;
	id = btf__find_by_name_kind(b->btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	/* typedef -> pointer -> function prototype */
	t = btf__type_by_id(b->btf, btf__type_by_id(b->btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -ENOENT;
	t = btf__type_by_id(b->btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -ENOENT;
	return btf_vlen(t) - 1; /* the first is the tracepoint's own data pointer */
}

const struct btfoff_result *btfoff_results(const struct btfoff *b, size_t *n)
{
	*n = b->nres;
	return b->res;
}

const char *const *btfoff_cflags(const struct btfoff *b, size_t *n)
{
	*n = b->ncflags;
	return (const char *const *)b->cflags;
}

void btfoff_free(struct btfoff *b)
{
	if (!b)
		return;
	drop_results(b);
	btf__free(b->btf);
	free(b->source);
	free(b);
}
