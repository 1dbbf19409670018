/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "btfoff.h"

/* test/tools/fetch_btf61.sh writes it there; SENTINEL_BTF_61 names another */
#define BTF61_DEFAULT "/var/cache/sentinel-ebpf/btf/vmlinux-6.1"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Checks libbpf's return and gives it back as a type id. */
static int ok(int id)
{
	if (id <= 0)
		fail_msg("libbpf btf__add_*: %d", id);
	return id;
}

/*
 * Synthetic BTF, laid out as the kernel's traps are:
 *
 *   typedef unsigned int u32;
 *   struct qstr {                       size 16
 *           union {                     anonymous union holding an anonymous struct
 *                   struct { unsigned int hash; u32 len; };
 *                   unsigned long long hash_len;
 *           };
 *           const unsigned char *name;  8
 *   };
 *   typedef const struct qstr qstr_t;
 *   struct dent {                       size 64
 *           unsigned int flags;         0
 *           unsigned int a : 3;         bit 32: not byte-aligned
 *           unsigned int b : 8;         bit 40: a bitfield on whole bytes
 *           union {                     8, as 6.18's dentry.d_name
 *                   const struct qstr d_name;
 *                   struct qstr __d_name;
 *           };
 *           u32 cnt;                    24, through a typedef
 *           volatile qstr_t vq;         32, through volatile, typedef and const
 *   };
 *   struct legacy { u3 x; };            an int of 3 bits at bit 8, the old
 *                                       bitfield encoding (no kflag)
 *   union un { unsigned int x; };
 *   struct dup { unsigned int m; } twice, m at 0 and at 4;
 *   struct same { unsigned int m; } twice, alike.
 */
static struct btf *synthetic(void)
{
	struct btf *btf = btf__new_empty();
	int u32, u64, uchar, u32_t, pname, anon_s, anon_u, qstr, cqstr, qstr_t, vq, du, u3;
	struct btf_type *t;

	assert_non_null(btf);
	u32 = ok(btf__add_int(btf, "unsigned int", 4, 0));
	u64 = ok(btf__add_int(btf, "long long unsigned int", 8, 0));
	uchar = ok(btf__add_int(btf, "unsigned char", 1, 0));
	u32_t = ok(btf__add_typedef(btf, "u32", u32));
	pname = ok(btf__add_ptr(btf, ok(btf__add_const(btf, uchar))));

	anon_s = ok(btf__add_struct(btf, NULL, 8));
	assert_int_equal(btf__add_field(btf, "hash", u32, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "len", u32_t, 32, 0), 0);
	anon_u = ok(btf__add_union(btf, NULL, 8));
	assert_int_equal(btf__add_field(btf, NULL, anon_s, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "hash_len", u64, 0, 0), 0);
	qstr = ok(btf__add_struct(btf, "qstr", 16));
	assert_int_equal(btf__add_field(btf, NULL, anon_u, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "name", pname, 64, 0), 0);
	cqstr = ok(btf__add_const(btf, qstr));
	qstr_t = ok(btf__add_typedef(btf, "qstr_t", cqstr));
	vq = ok(btf__add_volatile(btf, qstr_t));

	du = ok(btf__add_union(btf, NULL, 16));
	/* fields go to the type added last: every type they use comes first */
	assert_int_equal(btf__add_field(btf, "d_name", cqstr, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "__d_name", qstr, 0, 0), 0);
	ok(btf__add_struct(btf, "dent", 64));
	assert_int_equal(btf__add_field(btf, "flags", u32, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "a", u32, 32, 3), 0);
	assert_int_equal(btf__add_field(btf, "b", u32, 40, 8), 0);
	assert_int_equal(btf__add_field(btf, NULL, du, 64, 0), 0);
	assert_int_equal(btf__add_field(btf, "cnt", u32_t, 192, 0), 0);
	assert_int_equal(btf__add_field(btf, "vq", vq, 256, 0), 0);

	/* btf__add_int only makes full-width ints: narrow this one to 3 bits */
	u3 = ok(btf__add_int(btf, "u3", 4, 0));
	t = (struct btf_type *)btf__type_by_id(btf, u3);
	*(__u32 *)(t + 1) = 3; /* encoding 0, bit offset 0, 3 bits */
	ok(btf__add_struct(btf, "legacy", 4));
	assert_int_equal(btf__add_field(btf, "x", u3, 8, 0), 0);

	ok(btf__add_union(btf, "un", 4));
	assert_int_equal(btf__add_field(btf, "x", u32, 0, 0), 0);
	for (int i = 0; i < 2; i++) {
		ok(btf__add_struct(btf, "dup", 8));
		assert_int_equal(btf__add_field(btf, "m", u32, 32 * (unsigned)i, 0), 0);
		ok(btf__add_struct(btf, "same", 8));
		assert_int_equal(btf__add_field(btf, "m", u32, 0, 0), 0);
	}
	return btf;
}

static struct btfoff *synthetic_btfoff(void)
{
	struct btfoff *b = btfoff_from_btf(synthetic(), "synthetic");

	assert_non_null(b);
	return b;
}

static void test_synthetic_offsets(void **state)
{
	static const struct btfoff_want want[] = {
		{"qstr", "hash", false},       {"qstr", "len", false},
		{"qstr", "hash_len", false},   {"qstr", "name", false},
		{"dent", "flags", false},      {"dent", "b", false},
		{"dent", "d_name", false},     {"dent", "__d_name", false},
		{"dent", "d_name.len", false}, {"dent", "cnt", false},
		{"dent", "vq.len", false},     {"dent", "vq.name", false},
		{"same", "m", false},	       {"un", "x", false},
		{"dent", "nope", true},	       {"nosuch", "x", true},
	};
	static const struct btfoff_result expect[] = {
		{true, 0, 4},  {true, 4, 4},  {true, 0, 8},  {true, 8, 8},
		{true, 0, 4},  {true, 5, 1},  {true, 8, 16}, {true, 8, 16},
		{true, 12, 4}, {true, 24, 4}, {true, 36, 4}, {true, 40, 8},
		{true, 0, 4},  {true, 0, 4},  {false, 0, 0}, {false, 0, 0},
	};
	struct btfoff *b = synthetic_btfoff();
	const struct btfoff_result *r;
	char err[512];
	size_t n;

	(void)state;
	assert_null(btfoff_results(b, &n));
	assert_int_equal(n, 0);
	if (btfoff_resolve(b, want, N(want), err, sizeof(err)) != 0)
		fail_msg("resolve: %s", err);
	assert_string_equal(err, "");
	r = btfoff_results(b, &n);
	assert_int_equal(n, N(want));
	for (size_t i = 0; i < n; i++)
		if (r[i].present != expect[i].present || r[i].off != expect[i].off ||
		    r[i].size != expect[i].size)
			fail_msg("%s.%s: present %d off %zu size %zu, want %d %zu %zu",
				 want[i].type, want[i].member, r[i].present, r[i].off, r[i].size,
				 expect[i].present, expect[i].off, expect[i].size);
	btfoff_free(b);
}

static void test_synthetic_cflags(void **state)
{
	static const struct btfoff_want want[] = {
		{"qstr", "len", false},
		{"dent", "d_name.len", false},
		{"dent", "nope", true},
	};
	static const char *const expect[] = {
		"-DSE_OFF_QSTR_LEN=4",		"-DSE_SZ_QSTR_LEN=4",
		"-DSE_OFF_DENT_D_NAME_LEN=12",	"-DSE_SZ_DENT_D_NAME_LEN=4",
		"-DSE_OFF_DENT_NOPE_MISSING=1",
	};
	struct btfoff *b = synthetic_btfoff();
	const char *const *cflags;
	char err[256];
	size_t n;

	(void)state;
	cflags = btfoff_cflags(b, &n);
	assert_null(cflags);
	assert_int_equal(n, 0);
	assert_int_equal(btfoff_resolve(b, want, N(want), err, sizeof(err)), 0);
	cflags = btfoff_cflags(b, &n);
	assert_int_equal(n, N(expect));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(cflags[i], expect[i]);
	btfoff_free(b);
}

/* Each @want alone fails with @rc and exactly @msg. */
static void expect_error(struct btfoff *b, const struct btfoff_want *want, size_t n, int rc,
			 const char *msg)
{
	char err[512];
	size_t count;

	assert_int_equal(btfoff_resolve(b, want, n, err, sizeof(err)), rc);
	assert_string_equal(err, msg);
	/* fail closed: nothing left to compile with */
	assert_null(btfoff_results(b, &count));
	assert_int_equal(count, 0);
	assert_null(btfoff_cflags(b, &count));
	assert_int_equal(count, 0);
}

static void test_synthetic_errors(void **state)
{
	static const struct {
		struct btfoff_want want;
		int rc;
		const char *msg;
	} cases[] = {
		{{"dent", "nope", false}, -ENOENT, "struct dent has no member nope"},
		{{"dent", "d_name.nope", false}, -ENOENT, "struct dent has no member d_name.nope"},
		{{"un", "y", false}, -ENOENT, "union un has no member y"},
		{{"nosuch", "x", false}, -ENOENT, "struct nosuch not in BTF synthetic"},
		{{"dent", "a", false},
		 -EINVAL,
		 "struct dent member a: a bitfield of 3 bits at bit 32, not byte-aligned "
		 "(bpf_probe_read_kernel reads whole bytes)"},
		{{"legacy", "x", false},
		 -EINVAL,
		 "struct legacy member x: a bitfield of 3 bits at bit 8, not byte-aligned "
		 "(bpf_probe_read_kernel reads whole bytes)"},
		/* an optional member that is there but unreadable is still an error */
		{{"dent", "a", true},
		 -EINVAL,
		 "struct dent member a: a bitfield of 3 bits at bit 32, not byte-aligned "
		 "(bpf_probe_read_kernel reads whole bytes)"},
		{{"dent", "flags.x", false},
		 -EINVAL,
		 "struct dent member flags.x: flags is not a struct or union"},
		{{"dup", "m", false},
		 -EINVAL,
		 "struct dup is defined more than once in BTF synthetic, with m at offset 0 (size "
		 "4) and at 4 (size 4)"},
	};
	static const struct btfoff_want good[] = {{"qstr", "len", false}};
	static const struct btfoff_want several[] = {
		{"dent", "nope", false},
		{"qstr", "len", false},
		{"nosuch", "x", false},
	};
	struct btfoff *b = synthetic_btfoff();
	char err[256];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		/* a success first: a failure must drop its results and cflags */
		assert_int_equal(btfoff_resolve(b, good, N(good), err, sizeof(err)), 0);
		expect_error(b, &cases[i].want, 1, cases[i].rc, cases[i].msg);
	}
	/* every failing member named, not only the first */
	expect_error(b, several, N(several), -ENOENT,
		     "struct dent has no member nope; struct nosuch not in BTF synthetic");
	btfoff_free(b);
}

/* Raw BTF written to a file and loaded by path, as /sys/kernel/btf/vmlinux is. */
static void test_load_raw_file(void **state)
{
	static const struct btfoff_want want[] = {{"dent", "vq.len", false}, {"x", "y", false}};
	struct btf *btf = synthetic();
	char path[] = "/tmp/sentinel-btfoff.XXXXXX", msg[PATH_MAX + 64], err[512];
	const struct btfoff_result *r;
	const void *raw;
	struct btfoff *b;
	__u32 size;
	size_t n;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	raw = btf__raw_data(btf, &size);
	assert_non_null(raw);
	assert_int_equal(write(fd, raw, size), (ssize_t)size);
	close(fd);
	btf__free(btf);

	b = btfoff_load(path, err, sizeof(err));
	if (!b)
		fail_msg("load %s: %s", path, err);
	assert_int_equal(btfoff_resolve(b, want, 1, err, sizeof(err)), 0);
	r = btfoff_results(b, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].off, 36);
	/* messages name the file */
	assert_int_equal(btfoff_resolve(b, want + 1, 1, err, sizeof(err)), -ENOENT);
	snprintf(msg, sizeof(msg), "struct x not in BTF %s", path);
	assert_string_equal(err, msg);
	btfoff_free(b);
	unlink(path);
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/sentinel-btfoff.XXXXXX", msg[PATH_MAX + 128], err[PATH_MAX + 128];
	int fd = mkstemp(path);

	(void)state;
	assert_null(btfoff_load("/nonexistent/btf", err, sizeof(err)));
	assert_string_equal(err, "cannot open BTF /nonexistent/btf: No such file or directory");
	assert_null(btfoff_load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "cannot open BTF /tmp: not a regular file");

	/* neither BTF nor ELF (libbpf also says so on stderr) */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not BTF at all\n", 15), 15);
	close(fd);
	assert_null(btfoff_load(path, err, sizeof(err)));
	snprintf(msg, sizeof(msg),
		 "cannot parse BTF %s (neither raw BTF nor ELF with .BTF): BPF object format "
		 "invalid",
		 path);
	assert_string_equal(err, msg);

	/* unreadable: root reads through mode 000, so only as another user */
	if (geteuid() != 0) {
		assert_int_equal(chmod(path, 0), 0);
		assert_null(btfoff_load(path, err, sizeof(err)));
		snprintf(msg, sizeof(msg), "cannot open BTF %s: Permission denied", path);
		assert_string_equal(err, msg);
	}
	unlink(path);
}

static size_t find_want(const struct btfoff_want *w, size_t n, const char *type, const char *member)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].type, type) == 0 && strcmp(w[i].member, member) == 0)
			return i;
	fail_msg("%s.%s is not in the probe table", type, member);
	return 0;
}

/* The probe's table resolved against the BTF at @path; fails with the message. */
static struct btfoff *resolve_probe(const char *path, const struct btfoff_result **r)
{
	const struct btfoff_want *w;
	struct btfoff *b;
	char err[4096];
	size_t n, got;

	w = btfoff_probe_wants(&n);
	b = btfoff_load(path, err, sizeof(err));
	if (!b)
		fail_msg("%s", err);
	if (btfoff_resolve(b, w, n, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path ? path : BTFOFF_VMLINUX, err);
	*r = btfoff_results(b, &got);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++)
		if (!w[i].optional && !(*r)[i].present)
			fail_msg("%s.%s absent", w[i].type, w[i].member);
	return b;
}

/* Reads `cmd`'s whole output; fails if it cannot run or exits non-zero. */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, cap = 0, got;
	int status;

	if (!p)
		fail_msg("popen %s: %s", cmd, strerror(errno));
	do {
		if (len + 4096 > cap) {
			char *grown;

			cap = cap ? 2 * cap : 65536;
			grown = realloc(out, cap);
			assert_non_null(grown);
			out = grown;
		}
		got = fread(out + len, 1, cap - len - 1, p);
		len += got;
	} while (got > 0);
	out[len] = '\0';
	status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("'%s' failed (status %d)%s", cmd, status,
			 WIFEXITED(status) && WEXITSTATUS(status) == 127
				 ? ": pahole is needed (apt-get install pahole)"
				 : "");
	return out;
}

/* In pahole's "struct @type {" block of @text: the line declaring @member
 * (anonymous members are printed inline, at offsets from the struct's
 * start). 1 with its offset and size, 0 if absent, -1 if pahole printed
 * no such struct. */
static int pahole_member(const char *text, const char *type, const char *member, size_t *off,
			 size_t *size)
{
	char head[128];
	const char *p, *end;
	size_t mlen = strlen(member);

	snprintf(head, sizeof(head), "struct %s {\n", type);
	for (p = strstr(text, head); p && p != text && p[-1] != '\n'; p = strstr(p + 1, head))
		;
	if (!p)
		return -1;
	end = strstr(p, "\n};\n");
	assert_non_null(end);
	for (const char *line = p; line < end; line = strchr(line, '\n') + 1) {
		const char *eol = strchr(line, '\n');
		const char *semi = memchr(line, ';', (size_t)(eol - line));
		const char *stop = semi, *name, *c;

		/* An array: "subsys[12];" names subsys. */
		if (stop && stop[-1] == ']')
			while (stop > line && stop[-1] != '[')
				stop--;
		if (stop && stop > line && stop[-1] == '[')
			stop--;
		name = stop ? stop - mlen : NULL;

		if (!name || name <= line || strncmp(name, member, mlen) != 0 ||
		    (name[-1] != ' ' && name[-1] != '\t' && name[-1] != '*'))
			continue;
		c = strstr(semi, "/*");
		if (c && c < eol && sscanf(c, "/* %zu %zu */", off, size) == 2)
			return 1;
		fail_msg("pahole line for %s.%s: %.*s", type, member, (int)(eol - line), line);
	}
	return 0;
}

/* An oracle that lays out members with its own code: every one-level member
 * of the table must be where and as wide as `pahole -F btf -C ...` says,
 * and an absent optional member absent there too. */
static void check_pahole(const char *path, const struct btfoff_result *r)
{
	const struct btfoff_want *w;
	char cmd[8192] = "for t in", *out;
	size_t n;

	/* One pahole per struct: given a list, pahole stops at the first it
	 * does not find (an optional struct: 6.18 has no io_fixed_file). */
	w = btfoff_probe_wants(&n);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(w[i].type, w[i - 1].type) == 0)
			continue; /* the table is grouped by struct */
		strcat(cmd, " ");
		assert_true(strlen(cmd) + strlen(w[i].type) + PATH_MAX < sizeof(cmd));
		strcat(cmd, w[i].type);
	}
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd),
		 "; do pahole -F btf -C \"$t\" '%s' 2>/dev/null || exit 1; done", path);
	out = run(cmd);
	for (size_t i = 0; i < n; i++) {
		size_t off, size;
		int found;

		if (strchr(w[i].member, '.'))
			continue;
		found = pahole_member(out, w[i].type, w[i].member, &off, &size);
		if (found < 0 && !w[i].optional)
			fail_msg("%s: pahole printed no struct %s", path, w[i].type);
		if (found < 0)
			found = 0; /* an optional struct this kernel lacks (6.18: io_fixed_file) */
		if (found != r[i].present || (found && (off != r[i].off || size != r[i].size)))
			fail_msg("%s: %s.%s: btfoff %d %zu+%zu, pahole %d %zu+%zu", path, w[i].type,
				 w[i].member, r[i].present, r[i].off, r[i].size, found,
				 found ? off : 0, found ? size : 0);
	}
	free(out);
}

/* A member reached through a path is the sum of its steps. */
static void check_paths(const struct btfoff_result *r)
{
	const struct btfoff_want *w;
	size_t n, path, ns, inum;

	w = btfoff_probe_wants(&n);
	path = find_want(w, n, "mnt_namespace", "ns.inum");
	ns = find_want(w, n, "mnt_namespace", "ns");
	inum = find_want(w, n, "ns_common", "inum");
	assert_int_equal(r[path].off, r[ns].off + r[inum].off);
	assert_int_equal(r[path].size, r[inum].size);
}

/*
 * A superblock's mounts are a list_head through mount.mnt_instance (6.1)
 * or a list through mount.mnt_next_for_sb (6.18): the probe compiles the
 * walk for whichever BTF has, so exactly one must be there, and s_mounts
 * as wide as that list's head (16 or 8 bytes).
 */
static void check_sb_mounts(const char *path, const struct btfoff_result *r)
{
	const struct btfoff_want *w;
	size_t n, inst, next, head;

	w = btfoff_probe_wants(&n);
	inst = find_want(w, n, "mount", "mnt_instance");
	next = find_want(w, n, "mount", "mnt_next_for_sb");
	head = find_want(w, n, "super_block", "s_mounts");
	if (r[inst].present == r[next].present)
		fail_msg("%s: mount.mnt_instance %s and mount.mnt_next_for_sb %s", path,
			 r[inst].present ? "present" : "absent",
			 r[next].present ? "present" : "absent");
	assert_int_equal(r[head].size, r[inst].present ? 16 : 8);
}

static void test_running_kernel(void **state)
{
	const struct btfoff_result *r;
	struct btfoff *b = resolve_probe(NULL, &r);
	const char *const *cflags;
	char want[128];
	size_t n, nw, present = 0, i;

	(void)state;
	check_pahole(BTFOFF_VMLINUX, r);
	check_paths(r);
	check_sb_mounts(BTFOFF_VMLINUX, r);
	btfoff_probe_wants(&nw);
	for (i = 0; i < nw; i++)
		present += r[i].present;
	cflags = btfoff_cflags(b, &n);
	assert_int_equal(n, 2 * present + (nw - present));
	i = find_want(btfoff_probe_wants(&nw), nw, "file", "f_path");
	snprintf(want, sizeof(want), "-DSE_OFF_FILE_F_PATH=%zu", r[i].off);
	for (i = 0; i < n && strcmp(cflags[i], want) != 0; i++)
		;
	if (i == n)
		fail_msg("no %s in the cflags", want);
	btfoff_free(b);
}

/* Debian's 6.1 BTF: resolves, agrees with pahole, and differs from the
 * running kernel's, so offsets that ignore BTF cannot pass both. */
static void test_second_kernel(void **state)
{
	static const char *const main_members[][2] = {
		{"file", "f_path"},	 {"dentry", "d_name"},
		{"dentry", "d_parent"},	 {"task_struct", "files"},
		{"mount", "mnt_parent"}, {"mount", "mnt_mountpoint"},
		{"mount", "mnt"},	 {"mnt_namespace", "ns.inum"},
		{"qstr", "len"},	 {"super_block", "s_mounts"},
	};
	const char *path = getenv("SENTINEL_BTF_61");
	const struct btfoff_want *w;
	const struct btfoff_result *r61, *rnow;
	struct btfoff *b61, *bnow;
	struct stat st;
	size_t n, differ = 0;

	(void)state;
	if (!path || !*path)
		path = BTF61_DEFAULT;
	if (stat(path, &st) != 0)
		fail_msg("%s: %s: run test/tools/fetch_btf61.sh (or set SENTINEL_BTF_61)", path,
			 strerror(errno));
	b61 = resolve_probe(path, &r61);
	bnow = resolve_probe(NULL, &rnow);
	check_pahole(path, r61);
	check_paths(r61);
	check_sb_mounts(path, r61);
	w = btfoff_probe_wants(&n);
	for (size_t i = 0; i < n; i++)
		differ += r61[i].present != rnow[i].present || r61[i].off != rnow[i].off;
	print_message("%-28s %8s %8s\n", "member (offset)", "6.1", "running");
	for (size_t k = 0; k < N(main_members); k++) {
		size_t i = find_want(w, n, main_members[k][0], main_members[k][1]);

		char name[64];

		snprintf(name, sizeof(name), "%s.%s", main_members[k][0], main_members[k][1]);
		print_message("%-28s %8zu %8zu\n", name, r61[i].off, rnow[i].off);
	}
	print_message("%zu of %zu members differ\n", differ, n);
	if (differ == 0)
		fail_msg("%s and the running kernel agree on every offset: is this a 6.1 kernel?",
			 path);
	btfoff_free(b61);
	btfoff_free(bnow);
}

/* Headers mode: offsets the compiler takes from the headers, none for the
 * structs no headers package has (the probe then does not cross mounts). */
static void test_headers_mode(void **state)
{
	struct btfoff *b = btfoff_for_headers();
	const struct btfoff_want *w;
	const char *const *cf;
	size_t n, nc;
	char err[128];
	bool mode = false, file = false;
	long long v;

	(void)state;
	assert_non_null(b);
	assert_true(btfoff_is_headers(b));
	w = btfoff_probe_wants(&n);
	assert_int_equal(btfoff_resolve(b, w, n, err, sizeof(err)), 0);
	cf = btfoff_cflags(b, &nc);
	for (size_t i = 0; i < nc; i++) {
		mode |= strcmp(cf[i], "-DSE_HEADERS=1") == 0;
		file |= strcmp(cf[i],
			       "-DSE_OFF_FILE_F_PATH=__builtin_offsetof(struct file, f_path)") == 0;
		assert_null(strstr(cf[i], "SE_OFF_MOUNT_"));
		assert_null(strstr(cf[i], "SE_OFF_MNT_NAMESPACE_"));
	}
	assert_true(mode);
	assert_true(file);
	assert_int_equal(btfoff_enum_value(b, "cgroup_subsys_id", "memory_cgrp_id", &v), -ENOENT);
	btfoff_free(b);
}

/* The enum values the probe's cgroup ids need, from the running kernel. */
static void test_enum_value(void **state)
{
	char err[512];
	struct btfoff *b = btfoff_load(NULL, err, sizeof(err));
	long long v = -1;

	(void)state;
	assert_non_null(b);
	assert_int_equal(btfoff_enum_value(b, "cgroup_subsys_id", "cpu_cgrp_id", &v), 0);
	assert_true(v >= 0 && v < 64);
	assert_int_equal(btfoff_enum_value(b, "cgroup_subsys_id", "no_such_cgrp_id", &v), -ENOENT);
	assert_int_equal(btfoff_enum_value(b, "no_such_enum", "cpu_cgrp_id", &v), -ENOENT);
	btfoff_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_offsets), cmocka_unit_test(test_synthetic_cflags),
		cmocka_unit_test(test_synthetic_errors),  cmocka_unit_test(test_load_raw_file),
		cmocka_unit_test(test_load_errors),	  cmocka_unit_test(test_running_kernel),
		cmocka_unit_test(test_second_kernel),	  cmocka_unit_test(test_headers_mode),
		cmocka_unit_test(test_enum_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
