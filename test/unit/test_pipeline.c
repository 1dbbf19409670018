/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the user-space data path (agent/pipeline.c) without a probe.
 * Kernel records are built by hand, envelopes are captured by a test sink.
 *
 * FAKE/FAKE2 are tgids no process has (no /proc entry): nothing may be
 * resolved through /proc for them. Tests of the /proc fallbacks use the
 * test's own pid and fds it really opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pipeline.h"

#define FAKE 0x7ffffff0u
#define FAKE2 0x7ffffff1u
#define AT_FDCWD_ (-100)
#define CLOSE_RANGE_CLOEXEC_ (1ULL << 2)
#define MAXEV 64
#define NODE "unit-node"

struct cap {
	char event_id[ENVELOPE_UUID_LEN + 1];
	char event_type[16];
	uint64_t ts_unix_nano;
	char hostname[256];
	char container_id[80];
	char filename[PATH_MAX];
	bool filename_truncated;
	uint64_t bytes;
	char comm[SE_COMM_LEN + 1];
	uint32_t pid, tid;
	uint64_t rule_mask;
	uint64_t seq;
};

struct test_sink {
	struct sink base; /* first: the ops get &base */
	struct cap ev[MAXEV];
	size_t n;
};

struct fx {
	struct test_sink ts;
	struct pipeline pl;
	struct ruleset rs;
	uint64_t clock; /* kernel time of the records sent; 0: the helpers' own */
};

#define AT(f, dflt) ((f)->clock ? (f)->clock : (dflt))

static int ts_emit(struct sink *s, const struct envelope *e)
{
	struct test_sink *t = (struct test_sink *)s;
	struct cap *c;

	if (t->n >= MAXEV)
		fail_msg("too many envelopes");
	c = &t->ev[t->n++];
	memcpy(c->event_id, e->event_id, sizeof(c->event_id));
	snprintf(c->event_type, sizeof(c->event_type), "%s", e->event_type);
	c->ts_unix_nano = e->ts_unix_nano;
	snprintf(c->hostname, sizeof(c->hostname), "%s", e->hostname);
	snprintf(c->container_id, sizeof(c->container_id), "%s", e->container_id);
	snprintf(c->filename, sizeof(c->filename), "%s", e->filename);
	c->filename_truncated = e->filename_truncated;
	c->bytes = e->bytes;
	memcpy(c->comm, e->comm, sizeof(c->comm));
	c->pid = e->pid;
	c->tid = e->tid;
	c->rule_mask = e->rule_mask;
	c->seq = e->seq;
	s->emitted++;
	return 0;
}

static int ts_flush(struct sink *s)
{
	(void)s;
	return 0;
}

static void ts_destroy(struct sink *s)
{
	(void)s;
}

static const struct sink_ops ts_ops = {ts_emit, ts_flush, ts_destroy};

static void load_rules(struct fx *f, const char *text)
{
	char err[512] = "";

	rules_free(&f->rs);
	if (rules_load_string(&f->rs, text, "t.yaml", err, sizeof(err)))
		fail_msg("rules: %s", err);
	assert_int_equal(pipeline_set_rules(&f->pl, &f->rs), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512] = "";

	if (!f)
		return -1;
	f->ts.base.ops = &ts_ops;
	pipeline_init(&f->pl, &f->ts.base);
	if (rules_load_string(&f->rs, rules_default_text(), RULES_DEFAULT_NAME, err, sizeof(err))) {
		free(f);
		return -1;
	}
	if (pipeline_set_rules(&f->pl, &f->rs))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pipeline_free(&f->pl);
	rules_free(&f->rs);
	free(f);
	return 0;
}

/* ---- records, each allocated with exactly the bytes sent (ASan checks) ---- */

static void send_rec(struct fx *f, uint32_t tgid, uint16_t kind, int32_t fd, uint64_t arg,
		     uint16_t flags, uint64_t verdict, const char *comm, uint64_t ts)
{
	struct se_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->ts_ns = ts;
	r->arg = arg;
	r->verdict = verdict;
	r->tgid = tgid;
	r->tid = tgid + 1;
	r->fd = fd;
	r->kind = kind;
	r->flags = flags;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	pipeline_on_record(&f->pl, r, sizeof(*r));
	free(r);
}

static void fd_rec(struct fx *f, uint32_t tgid, uint16_t kind, int32_t fd, uint64_t arg,
		   uint16_t flags)
{
	send_rec(f, tgid, kind, fd, arg, flags, 0, "proc", AT(f, 1));
}

/* Path record with a raw path_len and size, for malformed cases. */
static void path_rec_raw(struct fx *f, uint32_t tgid, uint16_t kind, int32_t fd, int32_t dirfd,
			 uint16_t flags, uint64_t verdict, const void *path, size_t copy,
			 uint32_t path_len, size_t size)
{
	struct se_path_record *p = calloc(1, sizeof(*p));
	uint8_t *exact;

	assert_non_null(p);
	p->r.ts_ns = AT(f, 1);
	p->r.verdict = verdict;
	p->r.tgid = tgid;
	p->r.tid = tgid;
	p->r.fd = fd;
	p->r.kind = kind;
	p->r.flags = flags;
	snprintf(p->r.comm, sizeof(p->r.comm), "%s", "proc");
	p->dirfd = dirfd;
	p->path_len = path_len;
	memcpy(p->path, path, copy);
	/* Hand over exactly @size bytes, so ASan sees any read past them. */
	exact = malloc(size ? size : 1);
	assert_non_null(exact);
	memcpy(exact, p, size);
	free(p);
	pipeline_on_record(&f->pl, (const struct se_record *)exact, size);
	free(exact);
}

static void path_rec(struct fx *f, uint32_t tgid, uint16_t kind, int32_t fd, int32_t dirfd,
		     const char *path, uint16_t flags)
{
	size_t len = strlen(path) + 1;

	path_rec_raw(f, tgid, kind, fd, dirfd, flags, 0, path, len, (uint32_t)len,
		     SE_PATH_RECORD_HDR + len);
}

static void open_at(struct fx *f, uint32_t tgid, int32_t fd, int32_t dirfd, const char *path,
		    uint16_t flags)
{
	path_rec(f, tgid, SE_OPEN, fd, dirfd, path, flags);
}

static void open_abs(struct fx *f, uint32_t tgid, int32_t fd, const char *path)
{
	open_at(f, tgid, fd, AT_FDCWD_, path, 0);
}

static void chdir_rec(struct fx *f, uint32_t tgid, const char *path)
{
	path_rec(f, tgid, SE_CHDIR, -1, AT_FDCWD_, path, 0);
}

/* A pending read or write; returns the envelope it produced, or NULL. */
static const struct cap *io(struct fx *f, uint32_t tgid, uint16_t kind, int32_t fd, uint64_t bytes,
			    const char *comm)
{
	size_t n = f->ts.n;

	send_rec(f, tgid, kind, fd, bytes, SE_F_PENDING, 77, comm, AT(f, 1000));
	assert_true(f->ts.n <= n + 1);
	return f->ts.n > n ? &f->ts.ev[n] : NULL;
}

/* A pending write on @fd must be forwarded with @path. */
static void expect_path(struct fx *f, uint32_t tgid, int32_t fd, const char *path)
{
	const struct cap *c = io(f, tgid, SE_WRITE, fd, 10, "proc");

	if (!c)
		fail_msg("tgid %u fd %d: no envelope, want %s", tgid, fd, path);
	assert_string_equal(c->filename, path);
	assert_int_equal(c->pid, tgid);
}

/* A pending write on @fd must be counted unresolved and not forwarded. */
static void expect_unresolved(struct fx *f, uint32_t tgid, int32_t fd)
{
	uint64_t before = f->pl.stats.unresolved;
	const struct cap *c = io(f, tgid, SE_WRITE, fd, 10, "proc");

	if (c)
		fail_msg("tgid %u fd %d: forwarded as %s, want unresolved", tgid, fd, c->filename);
	assert_int_equal(f->pl.stats.unresolved, before + 1);
}

static const char *fd_path(struct fx *f, uint32_t tgid, int32_t fd)
{
	struct fd_entry *e = fdtable_get(&f->pl.fds, tgid, fd);

	return e ? e->path : NULL;
}

/* ---- tests ---- */

static void test_open_then_io(void **state)
{
	struct fx *f = *state;
	const struct cap *c;

	open_abs(f, FAKE, 3, "/etc//passwd");
	assert_string_equal(fd_path(f, FAKE, 3), "/etc/passwd");
	c = io(f, FAKE, SE_WRITE, 3, 123, "cat");
	assert_non_null(c);
	assert_string_equal(c->event_type, "file_write");
	assert_string_equal(c->filename, "/etc/passwd");
	assert_int_equal(c->bytes, 123);
	assert_int_equal(c->pid, FAKE);
	assert_int_equal(c->tid, FAKE + 1);
	assert_string_equal(c->comm, "cat");
	assert_int_equal(c->rule_mask, 0x2); /* all-writes is bit 1 */
	assert_int_equal(c->seq, 1);
	assert_string_equal(c->hostname, NODE);
	assert_string_equal(c->container_id, ""); /* no /proc entry */

	c = io(f, FAKE, SE_READ, 3, 4096, "cat");
	assert_non_null(c);
	assert_string_equal(c->event_type, "file_read");
	assert_string_equal(c->filename, "/etc/passwd");
	assert_int_equal(c->bytes, 4096);
	assert_int_equal(c->rule_mask, 0x1);
	assert_int_equal(c->seq, 2);

	assert_int_equal(f->ts.n, 2);
	assert_int_equal(f->ts.base.emitted, 2);
	assert_int_equal(f->pl.stats.records, 3);
	assert_int_equal(f->pl.stats.io_records, 2);
	assert_int_equal(f->pl.stats.forwarded[RULE_FILE_READ], 1);
	assert_int_equal(f->pl.stats.forwarded[RULE_FILE_WRITE], 1);
	assert_int_equal(f->pl.stats.rule_matches[0], 1);
	assert_int_equal(f->pl.stats.rule_matches[1], 1);
	assert_int_equal(f->pl.stats.rule_matches[2], 0);
	assert_int_equal(f->pl.stats.user_filtered, 0);
	assert_int_equal(f->pl.stats.unresolved, 0);
	assert_int_equal(f->pl.stats.verdicts_posted, 0); /* no probe */
	assert_int_equal(f->pl.stats.verdict_errors, 0);
}

static void test_relative_open_cwd(void **state)
{
	struct fx *f = *state;

	chdir_rec(f, FAKE, "/srv/app/");
	assert_string_equal(fdtable_proc(&f->pl.fds, FAKE, false)->cwd, "/srv/app");
	open_at(f, FAKE, 3, AT_FDCWD_, "data/../logs/./a.log", 0);
	expect_path(f, FAKE, 3, "/srv/app/logs/a.log");

	/* relative chdir, against the tracked cwd */
	chdir_rec(f, FAKE, "../other");
	assert_string_equal(fdtable_proc(&f->pl.fds, FAKE, false)->cwd, "/srv/other");
	open_at(f, FAKE, 4, AT_FDCWD_, "x", 0);
	expect_path(f, FAKE, 4, "/srv/other/x");
	/* fd 3 keeps the name it was opened under */
	expect_path(f, FAKE, 3, "/srv/app/logs/a.log");

	/* another process has its own cwd (none known here) */
	open_at(f, FAKE2, 3, AT_FDCWD_, "x", 0);
	assert_null(fd_path(f, FAKE2, 3));
	expect_unresolved(f, FAKE2, 3);
}

static void test_relative_open_unknown_cwd(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 4, "/old");
	/* fd 4 reused for a name that cannot be resolved: the stale path goes */
	open_at(f, FAKE, 4, AT_FDCWD_, "rel", 0);
	assert_null(fd_path(f, FAKE, 4));
	expect_unresolved(f, FAKE, 4);
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.forwarded[1], 0);
}

static void test_openat_dirfd(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 7, "/var/lib");
	open_at(f, FAKE, 8, 7, "pkg/../db/x.db", 0);
	expect_path(f, FAKE, 8, "/var/lib/db/x.db");
	/* an absolute name ignores the dirfd */
	open_at(f, FAKE, 9, 7, "/abs/y", 0);
	expect_path(f, FAKE, 9, "/abs/y");
	/* the dirfd wins over the cwd */
	chdir_rec(f, FAKE, "/cwd");
	open_at(f, FAKE, 10, 7, "z", 0);
	expect_path(f, FAKE, 10, "/var/lib/z");
	/* an unknown dirfd of a process without /proc: not resolvable */
	open_at(f, FAKE, 11, 99, "z", 0);
	expect_unresolved(f, FAKE, 11);
}

static void test_dotdot(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 3, "/a/b/../../../etc/./shadow");
	expect_path(f, FAKE, 3, "/etc/shadow");
	chdir_rec(f, FAKE, "/");
	open_at(f, FAKE, 4, AT_FDCWD_, "../../x/", 0);
	expect_path(f, FAKE, 4, "/x");
	chdir_rec(f, FAKE, "/a/b/c");
	open_at(f, FAKE, 5, AT_FDCWD_, "../../d//e/..", 0);
	expect_path(f, FAKE, 5, "/a/d");
}

/* A component of @n 'd's (names are at most 255 bytes). */
static const char *comp(char c, size_t n)
{
	static char buf[256];

	assert_true(n < sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Linux allows paths longer than PATH_MAX through relative names. The
 * name is then kept as its leading components (a true prefix, so prefix
 * rules still see the right directory), events say it is truncated, and
 * ".." climbs back to an exact name.
 */
static void test_longer_than_path_max(void **state)
{
	struct fx *f = *state;
	char want[PATH_MAX];
	const struct cap *c;
	size_t len;
	int i;

	chdir_rec(f, FAKE, "/deep");
	for (i = 0; i < 17; i++) /* 17 x 251 + 5 = 4272 bytes */
		chdir_rec(f, FAKE, comp((char)('a' + i), 250));
	assert_int_equal(fdtable_proc(&f->pl.fds, FAKE, false)->cwd_over, 1);
	/* "/deep" and 16 components fit (4021 bytes); the 17th is left out */
	len = strlen(fdtable_proc(&f->pl.fds, FAKE, false)->cwd);
	assert_int_equal(len, 5 + 16 * 251);
	memcpy(want, fdtable_proc(&f->pl.fds, FAKE, false)->cwd, len + 1);

	open_at(f, FAKE, 3, AT_FDCWD_, "file", 0);
	c = io(f, FAKE, SE_WRITE, 3, 10, "proc");
	assert_non_null(c);
	assert_string_equal(c->filename, want);
	assert_true(c->filename_truncated);
	assert_int_equal(f->pl.stats.truncated, 1);
	/* a dup keeps the flag */
	fd_rec(f, FAKE, SE_DUP, 4, 3, 0);
	c = io(f, FAKE, SE_WRITE, 4, 10, "proc");
	assert_non_null(c);
	assert_true(c->filename_truncated);

	/* back up two: the whole name fits again, exactly */
	chdir_rec(f, FAKE, "../..");
	assert_int_equal(fdtable_proc(&f->pl.fds, FAKE, false)->cwd_over, 0);
	open_at(f, FAKE, 5, AT_FDCWD_, "../x", 0);
	c = io(f, FAKE, SE_WRITE, 5, 10, "proc");
	assert_non_null(c);
	assert_false(c->filename_truncated);
	want[5 + 14 * 251] = '\0';
	strcat(want, "/x");
	assert_string_equal(c->filename, want);
}

static void test_fchdir(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 9, "/opt/d");
	fd_rec(f, FAKE, SE_FCHDIR, 9, 0, 0);
	open_at(f, FAKE, 3, AT_FDCWD_, "x", 0);
	expect_path(f, FAKE, 3, "/opt/d/x");
}

static void test_dup(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 3, "/data/f");
	fd_rec(f, FAKE, SE_DUP, 10, 3, 0);
	expect_path(f, FAKE, 10, "/data/f");
	fd_rec(f, FAKE, SE_CLOSE, 3, 0, 0);
	expect_path(f, FAKE, 10, "/data/f"); /* the copy outlives the original */
	expect_unresolved(f, FAKE, 3);
	/* dup onto an open fd replaces it */
	open_abs(f, FAKE, 4, "/other");
	fd_rec(f, FAKE, SE_DUP, 4, 10, 0);
	expect_path(f, FAKE, 4, "/data/f");
	/* 10, 4, and the nameless entry the unresolved write on 3 left */
	assert_int_equal(f->pl.fds.n_fds, 3);
}

static void test_dup_unknown_old(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 5, "/a");
	open_abs(f, FAKE, 6, "/b");
	fd_rec(f, FAKE, SE_DUP, 5, 42, 0); /* dup2(42, 5), 42 unknown */
	assert_null(fd_path(f, FAKE, 5));
	expect_unresolved(f, FAKE, 5);
	expect_path(f, FAKE, 6, "/b");
	/* dup2(6, 6) changes nothing */
	fd_rec(f, FAKE, SE_DUP, 6, 6, 0);
	expect_path(f, FAKE, 6, "/b");
	/* 6, and 5 without a name (the unresolved write: the kernel tracks it) */
	assert_int_equal(f->pl.fds.n_fds, 2);
}

static void test_close(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 3, "/x");
	fd_rec(f, FAKE, SE_CLOSE, 3, 0, 0);
	assert_null(fd_path(f, FAKE, 3));
	expect_unresolved(f, FAKE, 3);
	/* a kernel-decided event on it is unresolved too */
	send_rec(f, FAKE, SE_READ, 3, 5, 0, 0x1, "proc", 1);
	assert_int_equal(f->pl.stats.unresolved, 2);
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.forwarded[0] + f->pl.stats.forwarded[1], 0);
	/* the number is reused */
	open_abs(f, FAKE, 3, "/y");
	expect_path(f, FAKE, 3, "/y");
	/* closing an unknown fd or process is harmless */
	fd_rec(f, FAKE, SE_CLOSE, 77, 0, 0);
	fd_rec(f, FAKE2, SE_CLOSE, 3, 0, 0);
	expect_path(f, FAKE, 3, "/y");
}

static void open_range(struct fx *f, uint32_t tgid, int from, int to, uint16_t flags)
{
	char p[32];

	for (int fd = from; fd <= to; fd++) {
		snprintf(p, sizeof(p), "/f%d", fd);
		open_at(f, tgid, fd, AT_FDCWD_, p, flags);
	}
}

static void test_close_range(void **state)
{
	struct fx *f = *state;

	open_range(f, FAKE, 3, 8, 0);
	open_range(f, FAKE2, 3, 8, 0);
	fd_rec(f, FAKE, SE_CLOSE_RANGE, 4, 6, 0);
	expect_path(f, FAKE, 3, "/f3");
	expect_unresolved(f, FAKE, 4);
	expect_unresolved(f, FAKE, 5);
	expect_unresolved(f, FAKE, 6);
	expect_path(f, FAKE, 7, "/f7");
	expect_path(f, FAKE, 8, "/f8");
	/* 3, 7, 8; 4-6 without names after their unresolved writes; FAKE2's 6 */
	assert_int_equal(f->pl.fds.n_fds, 3 + 3 + 6);
	/* close_range(7, ~0U, 0) */
	fd_rec(f, FAKE, SE_CLOSE_RANGE, 7, 0xffffffffULL, 0);
	expect_path(f, FAKE, 3, "/f3");
	expect_unresolved(f, FAKE, 7);
	expect_unresolved(f, FAKE, 8);
	assert_int_equal(f->pl.fds.n_fds, 1 + 5 + 6);
	/* the other process is untouched */
	expect_path(f, FAKE2, 5, "/f5");
}

static void test_close_range_cloexec(void **state)
{
	struct fx *f = *state;

	open_range(f, FAKE, 3, 6, 0);
	fd_rec(f, FAKE, SE_CLOSE_RANGE, 4, 5 | CLOSE_RANGE_CLOEXEC_ << 32, 0);
	/* nothing closed yet */
	expect_path(f, FAKE, 3, "/f3");
	expect_path(f, FAKE, 4, "/f4");
	expect_path(f, FAKE, 5, "/f5");
	expect_path(f, FAKE, 6, "/f6");
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 4)->flags, FDE_CLOEXEC);
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 6)->flags, 0);
	fd_rec(f, FAKE, SE_EXEC, -1, 0, 0);
	expect_path(f, FAKE, 3, "/f3");
	expect_unresolved(f, FAKE, 4);
	expect_unresolved(f, FAKE, 5);
	expect_path(f, FAKE, 6, "/f6");
}

static void test_exec(void **state)
{
	struct fx *f = *state;

	chdir_rec(f, FAKE, "/home/u");
	open_at(f, FAKE, 3, AT_FDCWD_, "/ce", SE_F_CLOEXEC);
	open_at(f, FAKE, 4, AT_FDCWD_, "/keep", 0);
	fd_rec(f, FAKE, SE_DUP, 5, 4, SE_F_CLOEXEC); /* dup3(4, 5, O_CLOEXEC) */
	fd_rec(f, FAKE, SE_DUP, 6, 3, 0);	     /* dup2(3, 6): the copy is not cloexec */
	open_range(f, FAKE2, 3, 3, SE_F_CLOEXEC);
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 3)->flags, FDE_CLOEXEC);
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 5)->flags, FDE_CLOEXEC);
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 6)->flags, 0);

	fd_rec(f, FAKE, SE_EXEC, -1, 0, 0);
	expect_unresolved(f, FAKE, 3);
	expect_path(f, FAKE, 4, "/keep");
	expect_unresolved(f, FAKE, 5);
	expect_path(f, FAKE, 6, "/ce");
	/* the cwd survives exec; other processes are untouched */
	open_at(f, FAKE, 7, AT_FDCWD_, "rel", 0);
	expect_path(f, FAKE, 7, "/home/u/rel");
	expect_path(f, FAKE2, 3, "/f3");
	/* exec of an unknown process is harmless */
	fd_rec(f, 0x7ffffff9u, SE_EXEC, -1, 0, 0);
	assert_null(fdtable_proc(&f->pl.fds, 0x7ffffff9u, false));
}

static void test_exit(void **state)
{
	struct fx *f = *state;

	chdir_rec(f, FAKE, "/w");
	open_range(f, FAKE, 3, 5, 0);
	open_range(f, FAKE2, 3, 4, 0);
	assert_int_equal(f->pl.fds.n_fds, 5);
	fd_rec(f, FAKE, SE_EXIT, -1, 0, 0);
	assert_null(fdtable_proc(&f->pl.fds, FAKE, false));
	assert_int_equal(f->pl.fds.n_fds, 2);
	expect_unresolved(f, FAKE, 3);
	expect_unresolved(f, FAKE, 5);
	expect_path(f, FAKE2, 4, "/f4");
	/* the cwd went with the process */
	open_at(f, FAKE, 3, AT_FDCWD_, "rel", 0);
	expect_unresolved(f, FAKE, 3);
	fd_rec(f, FAKE, SE_EXIT, -1, 0, 0); /* twice: harmless */
	assert_int_equal(f->pl.fds.n_fds, 2);
}

static void test_setfd(void **state)
{
	struct fx *f = *state;

	open_at(f, FAKE, 3, AT_FDCWD_, "/was-cloexec", SE_F_CLOEXEC);
	open_at(f, FAKE, 4, AT_FDCWD_, "/now-cloexec", 0);
	open_at(f, FAKE, 5, AT_FDCWD_, "/stays-cloexec", SE_F_CLOEXEC);
	fd_rec(f, FAKE, SE_SETFD, 3, 0, 0); /* fcntl(3, F_SETFD, 0) */
	fd_rec(f, FAKE, SE_SETFD, 4, 1, 0); /* fcntl(4, F_SETFD, FD_CLOEXEC) */
	fd_rec(f, FAKE, SE_SETFD, 5, 1, 0);
	fd_rec(f, FAKE, SE_SETFD, 9, 1, 0); /* unknown fd: no entry made */
	assert_null(fd_path(f, FAKE, 9));
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 3)->flags, 0);
	assert_int_equal(fdtable_get(&f->pl.fds, FAKE, 4)->flags, FDE_CLOEXEC);
	fd_rec(f, FAKE, SE_EXEC, -1, 0, 0);
	expect_path(f, FAKE, 3, "/was-cloexec");
	expect_unresolved(f, FAKE, 4);
	expect_unresolved(f, FAKE, 5);
	assert_int_equal(f->pl.fds.n_fds, 1 + 2); /* 4 and 5 now without names */
}

static void test_rules_prefix(void **state)
{
	struct fx *f = *state;
	const struct cap *c;

	load_rules(f, "rules:\n"
		      "  - name: etc-writes\n"
		      "    event: file_write\n"
		      "    match:\n"
		      "      pathPrefixes: [\"/etc/\"]\n"
		      "  - name: off\n"
		      "    enabled: false\n"
		      "    event: file_write\n"
		      "  - name: log-reads\n"
		      "    event: file_read\n"
		      "    match:\n"
		      "      pathPrefixes: [\"/var/log\", \"/srv\"]\n");
	open_abs(f, FAKE, 3, "/etc/hosts");
	open_abs(f, FAKE, 4, "/tmp/x");
	open_abs(f, FAKE, 5, "/var/log/syslog");
	open_abs(f, FAKE, 6, "/etcd/conf"); /* "/etc/" is not a prefix of it */

	c = io(f, FAKE, SE_WRITE, 3, 1, "proc");
	assert_non_null(c);
	assert_int_equal(c->rule_mask, 0x1);
	assert_null(io(f, FAKE, SE_WRITE, 4, 1, "proc"));
	assert_null(io(f, FAKE, SE_READ, 4, 1, "proc"));
	assert_null(io(f, FAKE, SE_READ, 3, 1, "proc")); /* wrong event type */
	assert_null(io(f, FAKE, SE_WRITE, 5, 1, "proc"));
	assert_null(io(f, FAKE, SE_WRITE, 6, 1, "proc"));
	c = io(f, FAKE, SE_READ, 5, 9, "proc");
	assert_non_null(c);
	assert_string_equal(c->filename, "/var/log/syslog");
	assert_int_equal(c->rule_mask, 0x2); /* the disabled rule has no bit */
	assert_int_equal(c->seq, 2);

	assert_int_equal(f->ts.n, 2);
	assert_int_equal(f->pl.stats.user_filtered, 5);
	assert_int_equal(f->pl.stats.forwarded[0], 1);
	assert_int_equal(f->pl.stats.forwarded[1], 1);
	assert_int_equal(f->pl.stats.rule_matches[0], 1);
	assert_int_equal(f->pl.stats.rule_matches[1], 1);
	assert_int_equal(f->pl.stats.unresolved, 0);
}

static void test_rules_comm(void **state)
{
	struct fx *f = *state;
	const struct cap *c;

	load_rules(f, "rules:\n"
		      "  - name: bash-writes\n"
		      "    event: file_write\n"
		      "    match:\n"
		      "      comms: [bash, python3]\n"
		      "  - name: home-writes\n"
		      "    event: file_write\n"
		      "    match:\n"
		      "      pathPrefixes: [/home]\n");
	open_abs(f, FAKE, 3, "/home/u/f");
	open_abs(f, FAKE, 4, "/tmp/f");

	c = io(f, FAKE, SE_WRITE, 4, 1, "bash");
	assert_non_null(c);
	assert_int_equal(c->rule_mask, 0x1);
	assert_string_equal(c->comm, "bash");
	assert_null(io(f, FAKE, SE_WRITE, 4, 1, "zsh"));
	assert_null(io(f, FAKE, SE_WRITE, 4, 1, "bashx"));
	c = io(f, FAKE, SE_WRITE, 3, 1, "python3");
	assert_non_null(c);
	assert_int_equal(c->rule_mask, 0x3);
	c = io(f, FAKE, SE_WRITE, 3, 1, "zsh");
	assert_non_null(c);
	assert_int_equal(c->rule_mask, 0x2);
	assert_null(io(f, FAKE, SE_READ, 3, 1, "bash")); /* no read rules */

	assert_int_equal(f->pl.stats.user_filtered, 3);
	assert_int_equal(f->pl.stats.forwarded[1], 3);
	assert_int_equal(f->pl.stats.rule_matches[0], 2);
	assert_int_equal(f->pl.stats.rule_matches[1], 2);
}

static uint64_t total_of(const struct pipeline *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_totals; i++)
		if (strcmp(pl->totals[i].name, name) == 0)
			return pl->totals[i].matches;
	fail_msg("no rule total named %s", name);
	return 0;
}

/* Matches are counted by rule name across reloads (bits get renumbered);
 * the latency histogram sees every forwarded event. */
static void test_rule_totals_survive_reload(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n"
		      "  - {name: a, event: file_write, match: {pathPrefixes: [/home]}}\n"
		      "  - {name: b, event: file_write, match: {pathPrefixes: [/tmp]}}\n");
	open_abs(f, FAKE, 3, "/home/u/f");
	open_abs(f, FAKE, 4, "/tmp/f");
	assert_non_null(io(f, FAKE, SE_WRITE, 3, 1, "sh"));
	assert_non_null(io(f, FAKE, SE_WRITE, 4, 1, "sh"));
	assert_non_null(io(f, FAKE, SE_WRITE, 4, 1, "sh"));
	assert_int_equal(total_of(&f->pl, "a"), 1);
	assert_int_equal(total_of(&f->pl, "b"), 2);

	/* b is now bit 0, a is gone, c is new */
	load_rules(f, "rules:\n"
		      "  - {name: b, event: file_write, match: {pathPrefixes: [/tmp]}}\n"
		      "  - {name: c, event: file_write, match: {pathPrefixes: [/home]}}\n");
	assert_non_null(io(f, FAKE, SE_WRITE, 4, 1, "sh"));
	assert_non_null(io(f, FAKE, SE_WRITE, 3, 1, "sh"));
	assert_int_equal(total_of(&f->pl, "a"), 1);
	assert_int_equal(total_of(&f->pl, "b"), 3);
	assert_int_equal(total_of(&f->pl, "c"), 1);
	assert_int_equal(f->pl.latency.count, 5);
	assert_int_equal(f->pl.latency.count, f->pl.stats.forwarded[1]);
}

static void test_kernel_decided(void **state)
{
	struct fx *f = *state;
	const struct cap *c;

	load_rules(f, "rules:\n"
		      "  - name: etc-writes\n"
		      "    event: file_write\n"
		      "    match:\n"
		      "      pathPrefixes: [/etc]\n"
		      "      comms: [bash]\n");
	open_abs(f, FAKE, 3, "/tmp/x");
	/* The kernel's mask is forwarded as-is, not re-checked. */
	send_rec(f, FAKE, SE_WRITE, 3, 42, 0, 0x5, "zsh", 1);
	assert_int_equal(f->ts.n, 1);
	c = &f->ts.ev[0];
	assert_string_equal(c->filename, "/tmp/x");
	assert_string_equal(c->event_type, "file_write");
	assert_int_equal(c->rule_mask, 0x5);
	assert_int_equal(c->bytes, 42);
	assert_string_equal(c->comm, "zsh");
	send_rec(f, FAKE, SE_READ, 3, 7, 0, 1ULL << 63, "zsh", 1);
	assert_int_equal(f->ts.n, 2);
	assert_int_equal(f->ts.ev[1].rule_mask, 1ULL << 63);
	assert_string_equal(f->ts.ev[1].event_type, "file_read");

	assert_int_equal(f->pl.stats.forwarded[0], 1);
	assert_int_equal(f->pl.stats.forwarded[1], 1);
	assert_int_equal(f->pl.stats.rule_matches[0], 1);
	assert_int_equal(f->pl.stats.rule_matches[1], 0);
	assert_int_equal(f->pl.stats.rule_matches[2], 1);
	assert_int_equal(f->pl.stats.rule_matches[63], 1);
	assert_int_equal(f->pl.stats.user_filtered, 0);
	/* the same fd, pending: decided by the rules */
	assert_null(io(f, FAKE, SE_WRITE, 3, 1, "bash"));
	assert_int_equal(f->pl.stats.user_filtered, 1);
}

static void test_untracked(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n"
		      "  - name: etc-writes\n"
		      "    event: file_write\n"
		      "    match:\n"
		      "      pathPrefixes: [/etc]\n");
	/* fd map full in the kernel: no close will come for these fds, so an
	 * open record keeps nothing and I/O asks /proc (none for FAKE) */
	open_abs(f, FAKE, 3, "/etc/x");
	send_rec(f, FAKE, SE_OPEN, 4, 0, SE_F_UNTRACKED, 0, "a", 1);
	assert_null(fd_path(f, FAKE, 4));
	send_rec(f, FAKE, SE_WRITE, 3, 1, SE_F_UNTRACKED, 0xdead, "a", 1);
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.unresolved, 1);
	/* ...and drops what it had for that fd */
	assert_null(fd_path(f, FAKE, 3));
}

static void test_rules_change(void **state)
{
	struct fx *f = *state;
	const struct cap *c;

	load_rules(f, "rules:\n"
		      "  - {name: a, event: file_write, match: {pathPrefixes: [/etc]}}\n");
	open_abs(f, FAKE, 3, "/tmp/x");
	assert_null(io(f, FAKE, SE_WRITE, 3, 1, "p"));
	/* the cached path mask must be recomputed for the new rules */
	load_rules(f, "rules:\n"
		      "  - {name: r, event: file_read}\n"
		      "  - {name: b, event: file_write, match: {pathPrefixes: [/tmp/]}}\n");
	c = io(f, FAKE, SE_WRITE, 3, 1, "p");
	assert_non_null(c);
	assert_int_equal(c->rule_mask, 0x2);
	load_rules(f, "rules: []\n");
	assert_null(io(f, FAKE, SE_WRITE, 3, 1, "p"));
	assert_null(io(f, FAKE, SE_READ, 3, 1, "p"));
	assert_int_equal(f->pl.stats.user_filtered, 3);
}

static void check_uuid_v4(const char *id)
{
	assert_int_equal(strlen(id), ENVELOPE_UUID_LEN);
	for (int i = 0; i < ENVELOPE_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			assert_int_equal(id[i], '-');
			continue;
		}
		if (!strchr("0123456789abcdef", id[i]) || !id[i])
			fail_msg("bad uuid %s", id);
	}
	assert_int_equal(id[14], '4');
	if (!strchr("89ab", id[19]))
		fail_msg("bad uuid variant %s", id);
}

static void test_seq_and_ids(void **state)
{
	struct fx *f = *state;

	open_abs(f, FAKE, 3, "/s");
	for (int i = 0; i < 40; i++) {
		/* unresolved events take no seq */
		if (i % 10 == 3)
			expect_unresolved(f, FAKE, 99);
		assert_non_null(io(f, FAKE, i % 2 ? SE_READ : SE_WRITE, 3, (uint64_t)i, "p"));
	}
	assert_int_equal(f->ts.n, 40);
	for (size_t i = 0; i < f->ts.n; i++) {
		assert_int_equal(f->ts.ev[i].seq, i + 1);
		assert_int_equal(f->ts.ev[i].bytes, i);
		check_uuid_v4(f->ts.ev[i].event_id);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(f->ts.ev[i].event_id, f->ts.ev[j].event_id);
	}
	assert_int_equal(f->pl.stats.forwarded[0], 20);
	assert_int_equal(f->pl.stats.forwarded[1], 20);
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void test_timestamp(void **state)
{
	struct fx *f = *state;
	uint64_t mono = (uint64_t)now_ns(CLOCK_MONOTONIC);
	int64_t d;

	open_abs(f, FAKE, 3, "/t");
	send_rec(f, FAKE, SE_WRITE, 3, 1, SE_F_PENDING, 1, "p", mono);
	assert_int_equal(f->ts.n, 1);
	assert_int_equal(f->ts.ev[0].ts_unix_nano,
			 (uint64_t)((int64_t)mono + f->pl.src.mono_to_real_ns));
	d = (int64_t)f->ts.ev[0].ts_unix_nano - now_ns(CLOCK_REALTIME);
	if (d < -5000000000LL || d > 5000000000LL)
		fail_msg("ts_unix_nano %llu is %lld ns from now",
			 (unsigned long long)f->ts.ev[0].ts_unix_nano, (long long)d);
	/* an older ktime maps to an older wall time, 1:1 */
	send_rec(f, FAKE, SE_WRITE, 3, 1, SE_F_PENDING, 1, "p", mono - 1500000000ULL);
	assert_int_equal(f->ts.ev[0].ts_unix_nano - f->ts.ev[1].ts_unix_nano, 1500000000ULL);
}

static void test_malformed_path_records(void **state)
{
	struct fx *f = *state;
	const char name[] = "/etc/passwd";

	open_abs(f, FAKE, 3, "/stale");
	/* path_len larger than the bytes sent */
	path_rec_raw(f, FAKE, SE_OPEN, 3, AT_FDCWD_, 0, 0, name, sizeof(name), 200,
		     SE_PATH_RECORD_HDR + sizeof(name));
	expect_unresolved(f, FAKE, 3);
	/* not NUL-terminated */
	path_rec_raw(f, FAKE, SE_OPEN, 4, AT_FDCWD_, 0, 0, name, sizeof(name) - 1, sizeof(name) - 1,
		     SE_PATH_RECORD_HDR + sizeof(name) - 1);
	expect_unresolved(f, FAKE, 4);
	/* path_len 0 */
	path_rec_raw(f, FAKE, SE_OPEN, 5, AT_FDCWD_, 0, 0, name, 0, 0, SE_PATH_RECORD_HDR);
	expect_unresolved(f, FAKE, 5);
	/* shorter than the header: ignored */
	open_abs(f, FAKE, 6, "/kept");
	path_rec_raw(f, FAKE, SE_OPEN, 6, AT_FDCWD_, 0, 0, name, 0, 0, sizeof(struct se_record));
	expect_path(f, FAKE, 6, "/kept");
	/* a path fault on a fake process: nothing to fall back on */
	path_rec_raw(f, FAKE, SE_OPEN, 7, AT_FDCWD_, SE_F_PATH_FAULT, 0, "", 1, 1,
		     SE_PATH_RECORD_HDR + 1);
	expect_unresolved(f, FAKE, 7);
	/* a faulted chdir, and no /proc to ask: the cwd is unknown from now
	 * on, never the stale one (relative names are then unresolved) */
	chdir_rec(f, FAKE, "/c");
	path_rec_raw(f, FAKE, SE_CHDIR, -1, AT_FDCWD_, SE_F_PATH_FAULT, 0, "", 1, 1,
		     SE_PATH_RECORD_HDR + 1);
	assert_null(fdtable_proc(&f->pl.fds, FAKE, false)->cwd);
	open_at(f, FAKE, 8, AT_FDCWD_, "rel", 0);
	expect_unresolved(f, FAKE, 8);
	/* a longest-possible name: a full record */
	{
		char *big = malloc(SE_PATH_MAX);

		assert_non_null(big);
		memset(big, 'a', SE_PATH_MAX - 1);
		big[0] = '/';
		big[SE_PATH_MAX - 1] = '\0';
		path_rec_raw(f, FAKE, SE_OPEN, 8, AT_FDCWD_, 0, 0, big, SE_PATH_MAX, SE_PATH_MAX,
			     sizeof(struct se_path_record));
		assert_non_null(fd_path(f, FAKE, 8));
		assert_string_equal(fd_path(f, FAKE, 8), big);
		free(big);
	}
}

/* ---- /proc fallbacks, with the test's own pid ---- */

struct realfile {
	char dir[64];
	char path[PATH_MAX]; /* realpath of dir/file */
	char realdir[PATH_MAX];
	int fd;
};

static void make_file(struct realfile *rf)
{
	char p[128];

	snprintf(rf->dir, sizeof(rf->dir), "/tmp/test_pipeline.XXXXXX");
	assert_non_null(mkdtemp(rf->dir));
	snprintf(p, sizeof(p), "%s/file", rf->dir);
	rf->fd = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	assert_true(rf->fd >= 0);
	assert_non_null(realpath(p, rf->path));
	assert_non_null(realpath(rf->dir, rf->realdir));
}

static void remove_file(struct realfile *rf)
{
	char p[128];

	if (rf->fd >= 0)
		close(rf->fd);
	snprintf(p, sizeof(p), "%s/file", rf->dir);
	unlink(p);
	rmdir(rf->dir);
}

/* Untracked fds are named from /proc every time: a reused fd number must
 * not inherit the old file's name. */
static void test_proc_untracked_not_cached(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile a = {.fd = -1}, b = {.fd = -1};
	char rules[PATH_MAX + 128];
	int fd;

	make_file(&a);
	snprintf(rules, sizeof(rules),
		 "rules:\n  - name: tmp\n    event: file_write\n    match:\n"
		 "      pathPrefixes: [\"/\"]\n");
	load_rules(f, rules);
	send_rec(f, self, SE_WRITE, a.fd, 1, SE_F_UNTRACKED, 0, "a", 1);
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].filename, a.path);
	assert_null(fd_path(f, self, a.fd));
	/* close without a record (untracked), the number comes back for b */
	fd = a.fd;
	close(a.fd);
	a.fd = -1;
	make_file(&b);
	assert_int_equal(b.fd, fd);
	send_rec(f, self, SE_WRITE, fd, 1, SE_F_UNTRACKED, 0, "a", 2);
	assert_int_equal(f->ts.n, 2);
	assert_string_equal(f->ts.ev[1].filename, b.path);
	remove_file(&a);
	remove_file(&b);
}

static void test_proc_first_sight(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};
	struct fd_entry *e;
	int fd;

	make_file(&rf);
	expect_path(f, self, rf.fd, rf.path);
	e = fdtable_get(&f->pl.fds, self, rf.fd);
	assert_non_null(e);
	assert_int_equal(e->flags, FDE_FROM_PROC);
	/* exec drops entries from /proc (close-on-exec unknown); the next
	 * event asks /proc again */
	fd_rec(f, self, SE_EXEC, -1, 0, 0);
	assert_null(fd_path(f, self, rf.fd));
	expect_path(f, self, rf.fd, rf.path);
	/* gone for real: nothing to find */
	fd = rf.fd;
	fd_rec(f, self, SE_CLOSE, fd, 0, 0);
	close(fd);
	rf.fd = -1;
	expect_unresolved(f, self, fd);
	remove_file(&rf);
}

/* A name from the start-up scan that the kernel never tracked is asked
 * again at the fd's first pending event: the number may have been closed
 * and reused unseen. One the kernel tracks (verdict posted) is trusted. */
static void test_proc_unconfirmed(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};
	struct fd_entry *e;

	make_file(&rf);
	assert_non_null(
		fdtable_set(&f->pl.fds, self, rf.fd, "/scanned/then/closed", FDE_FROM_PROC));
	expect_path(f, self, rf.fd, rf.path);
	e = fdtable_set(&f->pl.fds, self, rf.fd, "/scanned/and/claimed", FDE_FROM_PROC);
	assert_non_null(e);
	e->posted_seq = SE_SEQ_AGENT | 1;
	expect_path(f, self, rf.fd, "/scanned/and/claimed");
	remove_file(&rf);
}

static void test_proc_open_name_wins(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};

	make_file(&rf);
	/* the name seen at open is used, not the fd's current link */
	open_abs(f, self, rf.fd, "/named/at/open");
	expect_path(f, self, rf.fd, "/named/at/open");
	remove_file(&rf);
}

static void test_proc_path_fault(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};
	struct fd_entry *e;

	make_file(&rf);
	path_rec_raw(f, self, SE_OPEN, rf.fd, AT_FDCWD_, SE_F_PATH_FAULT | SE_F_CLOEXEC, 0, "", 1,
		     1, SE_PATH_RECORD_HDR + 1);
	e = fdtable_get(&f->pl.fds, self, rf.fd);
	assert_non_null(e);
	assert_string_equal(e->path, rf.path);
	assert_int_equal(e->flags, FDE_CLOEXEC); /* known from the open, not FROM_PROC */
	expect_path(f, self, rf.fd, rf.path);
	/* a truncated record falls back the same way */
	fd_rec(f, self, SE_CLOSE, rf.fd, 0, 0);
	path_rec_raw(f, self, SE_OPEN, rf.fd, AT_FDCWD_, 0, 0, "/x", 3, 50, SE_PATH_RECORD_HDR + 3);
	assert_string_equal(fd_path(f, self, rf.fd), rf.path);
	remove_file(&rf);
}

static void test_proc_cwd_and_dirfd(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	int dfd;

	make_file(&rf);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* no chdir record: the cwd comes from /proc */
	open_at(f, self, 500, AT_FDCWD_, "sub/../rel", 0);
	snprintf(want, sizeof(want), "%s/rel", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(fd_path(f, self, 500), want);
	/* an untracked dirfd: its path comes from /proc */
	dfd = open(rf.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	open_at(f, self, 501, dfd, "./a/b", 0);
	snprintf(want, sizeof(want), "%s/a/b", rf.realdir);
	assert_string_equal(fd_path(f, self, 501), want);
	close(dfd);
	/* a faulted chdir of a live process reads its cwd from /proc */
	chdir_rec(f, self, "/somewhere/else");
	path_rec_raw(f, self, SE_CHDIR, -1, AT_FDCWD_, SE_F_PATH_FAULT, 0, "", 1, 1,
		     SE_PATH_RECORD_HDR + 1);
	assert_string_equal(fdtable_proc(&f->pl.fds, self, false)->cwd, cwd);
	remove_file(&rf);
}

/* ---- what the kernel tracks, user space must be able to forget ---- */

/* An fd the kernel tracks but /proc cannot name (the process is gone) keeps
 * a nameless entry, so the exit that follows forgets the kernel's state:
 * without it every short-lived process leaked an fds-map entry. */
static void test_nameless_until_exit(void **state)
{
	struct fx *f = *state;
	struct fd_entry *e;

	expect_unresolved(f, FAKE, 1); /* a write to an inherited stdout */
	e = fdtable_get(&f->pl.fds, FAKE, 1);
	assert_non_null(e);
	assert_null(e->path);
	assert_int_equal(e->flags, FDE_FROM_PROC);
	/* asked again on the next event, still unresolved, still one entry */
	expect_unresolved(f, FAKE, 1);
	assert_int_equal(f->pl.fds.n_fds, 1);
	/* an untracked event (no kernel state) keeps nothing */
	send_rec(f, FAKE, SE_WRITE, 2, 1, SE_F_UNTRACKED, 0, "proc", 1);
	assert_null(fdtable_get(&f->pl.fds, FAKE, 2));
	/* an open whose name cannot be resolved: same */
	open_at(f, FAKE, 3, AT_FDCWD_, "relative/no/cwd", SE_F_CLOEXEC);
	e = fdtable_get(&f->pl.fds, FAKE, 3);
	assert_non_null(e);
	assert_null(e->path);
	assert_int_equal(e->flags, FDE_CLOEXEC);
	/* a nameless dirfd or fchdir target resolves nothing */
	open_at(f, FAKE, 4, 3, "x", 0);
	assert_null(fd_path(f, FAKE, 4));
	fd_rec(f, FAKE, SE_FCHDIR, 3, 0, 0);
	assert_null(fdtable_proc(&f->pl.fds, FAKE, false)->cwd);
	/* dup of a nameless fd: pending means the kernel copied its state */
	fd_rec(f, FAKE, SE_DUP, 5, 3, SE_F_PENDING);
	assert_non_null(fdtable_get(&f->pl.fds, FAKE, 5));
	assert_null(fd_path(f, FAKE, 5));
	fd_rec(f, FAKE, SE_DUP, 6, 3, 0);
	assert_null(fdtable_get(&f->pl.fds, FAKE, 6));
	assert_int_equal(f->pl.fds.n_fds, 4); /* 1, 3, 4, 5 */
	assert_int_equal(f->ts.n, 0);
	fd_rec(f, FAKE, SE_EXIT, -1, 0, 0);
	assert_null(fdtable_proc(&f->pl.fds, FAKE, false));
	assert_int_equal(f->pl.fds.n_fds, 0);
	assert_int_equal(f->pl.fds.n_procs, 0);
}

/* A nameless entry of a live process is named from /proc at its next event. */
static void test_nameless_named_later(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};

	make_file(&rf);
	assert_non_null(fdtable_set(&f->pl.fds, self, rf.fd, NULL, 0));
	expect_path(f, self, rf.fd, rf.path);
	assert_string_equal(fd_path(f, self, rf.fd), rf.path);
	assert_int_equal(f->pl.stats.unresolved, 0);
	remove_file(&rf);
}

/* A full table is counted, never fatal: events of fds that did not fit are
 * named from /proc each time; ones /proc cannot name are unresolved. */
static void test_table_limit(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	struct realfile rf = {.fd = -1};

	pipeline_set_table_limit(&f->pl, 3);
	open_range(f, FAKE, 3, 7, 0);
	assert_int_equal(f->pl.fds.n_fds, 3);
	assert_int_equal(f->pl.fds.full, 2);
	expect_path(f, FAKE, 3, "/f3");
	expect_unresolved(f, FAKE, 7);
	assert_int_equal(f->pl.fds.full, 3);
	/* replacing an entry needs no room */
	open_abs(f, FAKE, 4, "/g4");
	expect_path(f, FAKE, 4, "/g4");
	/* a live process's fd is still forwarded, named from /proc each time */
	make_file(&rf);
	expect_path(f, self, rf.fd, rf.path);
	expect_path(f, self, rf.fd, rf.path);
	assert_null(fdtable_get(&f->pl.fds, self, rf.fd));
	/* processes are capped too (FAKE, self) */
	assert_int_equal(f->pl.fds.n_procs, 2);
	pipeline_set_table_limit(&f->pl, 2);
	open_abs(f, FAKE2, 3, "/h");
	assert_null(fdtable_proc(&f->pl.fds, FAKE2, false));
	assert_int_equal(f->pl.fds.n_procs, 2);
	/* room again once a process exits */
	fd_rec(f, FAKE, SE_EXIT, -1, 0, 0);
	open_abs(f, FAKE2, 3, "/h");
	expect_path(f, FAKE2, 3, "/h");
	remove_file(&rf);
}

/* ---- lineage: fds a gone process had from its parent ---- */

#define FAKE3 0x7ffffff2u
#define FAKE4 0x7ffffff3u

static void fork_rec(struct fx *f, uint32_t parent, uint32_t child, uint64_t ts)
{
	send_rec(f, parent, SE_FORK, (int32_t)child, 0, 0, 0, "sh", ts);
}

/* Each time lineage cannot know everything the child did: unresolved. */
static void test_lineage_unknowable(void **state)
{
	struct fx *f = *state;
	const uint64_t s = SE_YOUNG_NS;
	struct fd_entry *e;

	f->clock = 10;
	open_abs(f, FAKE, 3, "/etc/a");
	fork_rec(f, FAKE, FAKE2, 20);
	/* the young map was full: the probe did not follow the child */
	send_rec(f, FAKE, SE_FORK, (int32_t)FAKE3, 0, SE_F_UNTRACKED, 0, "sh", 20);
	f->clock = 30;
	expect_unresolved(f, FAKE3, 3);
	/* past its young time the child's untracked changes go unseen */
	f->clock = 20 + s;
	expect_unresolved(f, FAKE2, 3);
	f->clock = 20 + s - 1;
	expect_path(f, FAKE2, 3, "/etc/a");
	/* an intermediate that forked its child after its own young time */
	fork_rec(f, FAKE, FAKE3, 100);
	fork_rec(f, FAKE3, FAKE4, 100 + s);
	f->clock = 110 + s;
	expect_unresolved(f, FAKE4, 3);
	/* records lost after the fork: a change may be among them */
	fork_rec(f, FAKE, FAKE3, 200);
	f->pl.loss_seen_ns = 250;
	f->clock = 300;
	expect_unresolved(f, FAKE3, 3);
	f->pl.loss_seen_ns = 199; /* before the fork: harmless */
	expect_path(f, FAKE3, 3, "/etc/a");
	/* the parent's name read from /proc, never confirmed by the kernel:
	 * it may have been closed and the number reused unseen */
	e = fdtable_set(&f->pl.fds, FAKE, 4, "/etc/scanned", FDE_FROM_PROC);
	assert_non_null(e);
	e->set_ns = 5;
	fork_rec(f, FAKE, FAKE4, 400);
	f->clock = 410;
	expect_unresolved(f, FAKE4, 4);
	e->posted_seq = 9; /* a verdict posted: the kernel tracks it */
	expect_path(f, FAKE4, 4, "/etc/scanned");
}

static void test_lineage_inherited(void **state)
{
	struct fx *f = *state;

	f->clock = 10;
	chdir_rec(f, FAKE, "/w");
	open_abs(f, FAKE, 3, "/etc/a");
	open_at(f, FAKE, 5, AT_FDCWD_, "/etc/ce", SE_F_CLOEXEC);
	open_abs(f, FAKE, 300, "/etc/high");
	open_abs(f, FAKE, 6, "/etc/d");
	fork_rec(f, FAKE, FAKE2, 20);
	fork_rec(f, FAKE2, FAKE3, 30); /* FAKE2 never touches fd 3 */
	f->clock = 40;
	/* two levels up, and the child keeps the name for its own records */
	expect_path(f, FAKE3, 3, "/etc/a");
	assert_int_equal(f->pl.stats.inherited, 1);
	expect_path(f, FAKE3, 3, "/etc/a");
	assert_int_equal(f->pl.stats.inherited, 1);
	expect_path(f, FAKE2, 3, "/etc/a");
	expect_path(f, FAKE2, 300, "/etc/high"); /* beyond the bitmap, untouched */
	/* the child starts in the parent's cwd */
	open_at(f, FAKE2, 4, AT_FDCWD_, "rel", 0);
	expect_path(f, FAKE2, 4, "/w/rel");
	/* after an exec: only what is known to stay open */
	fork_rec(f, FAKE, FAKE4, 50);
	f->clock = 55;
	fd_rec(f, FAKE4, SE_EXEC, -1, 0, 0);
	expect_unresolved(f, FAKE4, 5);
	expect_path(f, FAKE4, 3, "/etc/a");
	assert_int_equal(f->pl.stats.inherited, 4);
	assert_int_equal(f->pl.stats.unresolved, 1);
	/* `cmd >&3`: dup2(3, 1) of an inherited fd; openat(6, ...); fchdir(6) */
	fd_rec(f, FAKE3, SE_DUP, 1, 6, 0);
	expect_path(f, FAKE3, 1, "/etc/d");
	open_at(f, FAKE4, 7, 6, "x", 0);
	expect_path(f, FAKE4, 7, "/etc/d/x");
	fd_rec(f, FAKE2, SE_FCHDIR, 6, 0, 0);
	open_at(f, FAKE2, 8, AT_FDCWD_, "y", 0);
	expect_path(f, FAKE2, 8, "/etc/d/y");
	assert_int_equal(f->pl.stats.inherited, 7);
}

static void test_lineage_refuses(void **state)
{
	struct fx *f = *state;

	f->clock = 10;
	open_range(f, FAKE, 3, 9, 0);
	open_abs(f, FAKE, 300, "/etc/high");
	fork_rec(f, FAKE, FAKE2, 20);
	f->clock = 25;
	open_abs(f, FAKE, 3, "/etc/b");	     /* the parent's fd 3 is another file now */
	fd_rec(f, FAKE, SE_CLOSE, 4, 0, 0);  /* the parent closed 4 */
	fd_rec(f, FAKE2, SE_CLOSE, 5, 0, 0); /* the child closed 5 (then reused it) */
	fd_rec(f, FAKE2, SE_DUP, 6, 77, 0);  /* dup2(77, 6) of an fd nobody named */
	fd_rec(f, FAKE2, SE_SETFD, 7, 1, 0); /* F_SETFD: then an exec closes it */
	fd_rec(f, FAKE2, SE_CLOSE_RANGE, 9, 0xffffffffULL, 0);
	f->clock = 30;
	expect_unresolved(f, FAKE2, 3);
	expect_unresolved(f, FAKE2, 4);
	expect_unresolved(f, FAKE2, 5);
	expect_unresolved(f, FAKE2, 6);
	expect_unresolved(f, FAKE2, 7);
	expect_unresolved(f, FAKE2, 9);
	expect_unresolved(f, FAKE2, 300); /* close_range reached past the bitmap */
	expect_path(f, FAKE2, 8, "/f8");
	/* no fork record: no lineage */
	expect_unresolved(f, FAKE3, 8);
	/* the parent's tgid reused: its table is another process's */
	fork_rec(f, FAKE, FAKE3, 40);
	f->clock = 50;
	fd_rec(f, FAKE, SE_EXIT, -1, 0, 0);
	fork_rec(f, FAKE4, FAKE, 60);
	f->clock = 5; /* an fd the new process has, dated before FAKE3's fork */
	open_abs(f, FAKE, 8, "/etc/other");
	f->clock = 70;
	expect_unresolved(f, FAKE3, 8);
	assert_int_equal(f->pl.stats.inherited, 1);
}

/* A fork record for a tgid the table still holds: the old process's exit
 * was lost; its fds and cwd are not the new one's. */
static void test_lineage_reused_child(void **state)
{
	struct fx *f = *state;

	f->clock = 5;
	chdir_rec(f, FAKE2, "/old");
	open_abs(f, FAKE2, 9, "/stale");
	f->clock = 10;
	open_abs(f, FAKE, 3, "/etc/a");
	fork_rec(f, FAKE, FAKE2, 20);
	f->clock = 30;
	assert_null(fdtable_get(&f->pl.fds, FAKE2, 9));
	expect_unresolved(f, FAKE2, 9);
	expect_path(f, FAKE2, 3, "/etc/a");
	open_at(f, FAKE2, 4, AT_FDCWD_, "rel", 0);
	expect_unresolved(f, FAKE2, 4); /* the parent's cwd unknown: not "/old/rel" */
}

/* ---- the sweep, with a liveness check the test controls ---- */

#define NFAKE 700

struct liveness {
	int state[NFAKE]; /* by tgid - FAKE: 0 gone, 1 alive, -1 cannot tell */
	uint64_t start[NFAKE];
	unsigned calls;
};

static int fake_alive(uint32_t tgid, uint64_t *start_time, void *ctx)
{
	struct liveness *l = ctx;
	uint32_t i = tgid - FAKE;

	assert_true(i < NFAKE);
	l->calls++;
	*start_time = l->start[i];
	return l->state[i] < 0 ? -EACCES : l->state[i];
}

#define SEC 1000000000ull

static void test_sweep(void **state)
{
	struct fx *f = *state;
	struct liveness *l = calloc(1, sizeof(*l));
	uint64_t t = 100 * SEC;

	assert_non_null(l);
	pipeline_set_liveness(&f->pl, fake_alive, l);
	open_range(f, FAKE, 3, 5, 0);	  /* exits, but its record was lost */
	open_range(f, FAKE + 1, 3, 4, 0); /* alive */
	open_range(f, FAKE + 2, 3, 3, 0); /* /proc cannot say: kept */
	l->state[1] = 1;
	l->start[1] = 42;
	l->state[2] = -1;
	pipeline_sweep(&f->pl, t);
	assert_int_equal(l->calls, 3);
	assert_int_equal(f->pl.stats.reclaimed_procs, 1);
	assert_int_equal(f->pl.stats.reclaimed_fds, 3);
	assert_null(fdtable_proc(&f->pl.fds, FAKE, false));
	assert_int_equal(f->pl.fds.n_fds, 3);
	assert_int_equal(fdtable_proc(&f->pl.fds, FAKE + 1, false)->start_time, 42);
	expect_path(f, FAKE + 1, 4, "/f4");
	/* not again before the interval */
	pipeline_sweep(&f->pl, t + (PIPELINE_SWEEP_INTERVAL_MS - 1) * 1000000ull);
	assert_int_equal(l->calls, 3);
	/* the tgid was reused (another start time): its entries are stale */
	l->start[1] = 43;
	t += PIPELINE_SWEEP_INTERVAL_MS * 1000000ull;
	pipeline_sweep(&f->pl, t);
	assert_int_equal(l->calls, 5);
	assert_null(fdtable_proc(&f->pl.fds, FAKE + 1, false));
	assert_int_equal(f->pl.stats.reclaimed_procs, 2);
	assert_int_equal(f->pl.stats.reclaimed_fds, 5);
	assert_non_null(fdtable_proc(&f->pl.fds, FAKE + 2, false));
	free(l);
}

/* A pass is done PIPELINE_SWEEP_BATCH processes per call, each process
 * checked once per pass, the least recently checked first. */
static void test_sweep_batches(void **state)
{
	struct fx *f = *state;
	struct liveness *l = calloc(1, sizeof(*l));
	uint64_t t = 100 * SEC;
	size_t left = NFAKE - 1;
	unsigned calls = 0;

	assert_non_null(l);
	assert_true(NFAKE - 1 > 2 * PIPELINE_SWEEP_BATCH);
	pipeline_set_liveness(&f->pl, fake_alive, l);
	for (uint32_t i = 0; i < NFAKE - 1; i++) {
		l->state[i] = 1;
		open_range(f, FAKE + i, 3, 3, 0);
	}
	l->state[0] = 0; /* the first one is gone */
	while (left) {
		size_t n = left < PIPELINE_SWEEP_BATCH ? left : PIPELINE_SWEEP_BATCH;

		pipeline_sweep(&f->pl, t + calls * 10000000ull);
		calls++;
		left -= n;
		assert_int_equal(l->calls, NFAKE - 1 - left);
	}
	assert_int_equal(calls, (NFAKE - 1 + PIPELINE_SWEEP_BATCH - 1) / PIPELINE_SWEEP_BATCH);
	assert_int_equal(f->pl.stats.reclaimed_procs, 1);
	assert_int_equal(f->pl.fds.n_procs, NFAKE - 2);
	/* the pass is over: nothing until the interval has passed */
	pipeline_sweep(&f->pl, t + calls * 10000000ull);
	assert_int_equal(l->calls, NFAKE - 1);
	/* a process that exits (with its record) mid-pass is just not checked */
	pipeline_sweep(&f->pl, t + PIPELINE_SWEEP_INTERVAL_MS * 1000000ull);
	assert_int_equal(l->calls, NFAKE - 1 + PIPELINE_SWEEP_BATCH);
	for (uint32_t i = 1; i < NFAKE - 1; i++)
		fd_rec(f, FAKE + i, SE_EXIT, -1, 0, 0);
	assert_int_equal(f->pl.fds.n_procs, 0);
	pipeline_sweep(&f->pl, t + PIPELINE_SWEEP_INTERVAL_MS * 1000000ull + 1);
	assert_int_equal(l->calls, NFAKE - 1 + PIPELINE_SWEEP_BATCH);
	assert_int_equal(f->pl.sweep_left, 0);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_then_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_open_cwd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_open_unknown_cwd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openat_dirfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longer_than_path_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fchdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_unknown_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_range_cloexec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_comm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_decided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untracked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_untracked_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_path_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_first_sight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_unconfirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_open_name_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_path_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_cwd_and_dirfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_totals_survive_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nameless_until_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nameless_named_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_inherited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_reused_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_unknowable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_batches, setup, teardown),
	};

	setenv("NODE_NAME", NODE, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
