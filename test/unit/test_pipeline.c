/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests: the user-space data path (agent/pipeline.c) without a probe.
 * Kernel records (SE_NAME walks and the events under their seq) are built
 * by hand, each allocated with exactly the bytes sent (ASan checks reads
 * past them); envelopes are captured by a test sink.
 *
 * FAKE is a tgid no process has (no /proc entry): its container is "".
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
	char data[8][2][64]; /* the extra data, key and value */
	unsigned n_data;
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
	c->n_data = e->n_extra;
	for (unsigned i = 0; i < e->n_extra && i < 8; i++) {
		snprintf(c->data[i][0], sizeof(c->data[i][0]), "%s", e->extra[i].key);
		snprintf(c->data[i][1], sizeof(c->data[i][1]), "%s", e->extra[i].value);
	}
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

/* ---- records ---- */

/* An SE_NAME record: @names leaf first ("c\0b\0a\0" for /a/b/c); with
 * @two, walk 2's fields (bind_at, bind_from, origin_ns) from it. */
static void name_rec_two(struct fx *f, uint64_t seq, const char *names, size_t len, unsigned count,
			 unsigned flags, unsigned root_at, const struct se_kpath *two,
			 uint32_t mode, size_t size_cut)
{
	size_t size = SE_NAME_RECORD_HDR + len - size_cut;
	struct se_name_record *n = calloc(1, sizeof(*n));
	uint8_t *exact;

	assert_non_null(n);
	n->r.ts_ns = AT(f, 1);
	n->r.kind = SE_NAME;
	n->r.seq = seq;
	n->r.file = 0xffff888000000000ull + seq;
	n->r.arg = mode;
	n->r.tgid = FAKE;
	n->kp.ino = 1000 + seq;
	n->kp.dev = (8u << 20) | 1;
	n->kp.mntns = 4026531840u;
	n->kp.count = (uint16_t)count;
	n->kp.root_at = (uint16_t)root_at;
	n->kp.len = (uint16_t)len;
	n->kp.flags = (uint16_t)flags;
	if (two) {
		n->kp.bind_at = two->bind_at;
		n->kp.bind_from = two->bind_from;
		n->kp.origin_ns = two->origin_ns;
	}
	memcpy(n->kp.names, names, len);
	exact = malloc(size);
	assert_non_null(exact);
	memcpy(exact, n, size);
	free(n);
	pipeline_on_record(&f->pl, (const struct se_record *)exact, size);
	free(exact);
}

static void name_rec_raw(struct fx *f, uint64_t seq, const char *names, size_t len, unsigned count,
			 unsigned flags, unsigned root_at, uint32_t mode, size_t size_cut)
{
	name_rec_two(f, seq, names, len, count, flags, root_at, NULL, mode, size_cut);
}

static void name_rec(struct fx *f, uint64_t seq, const char *names, size_t len, unsigned count)
{
	name_rec_raw(f, seq, names, len, count, 0, 0, 0100644, 0);
}

static void io_rec(struct fx *f, uint16_t kind, uint64_t seq, uint64_t bytes, uint16_t flags,
		   uint64_t mask, const char *comm)
{
	struct se_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->ts_ns = AT(f, 2);
	r->arg = bytes;
	r->mask = mask;
	r->seq = seq;
	r->file = 0xffff888000000000ull + seq;
	r->tgid = FAKE;
	r->tid = FAKE + 1;
	r->fd = 3;
	r->kind = kind;
	r->flags = flags;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	pipeline_on_record(&f->pl, r, sizeof(*r));
	free(r);
}

static const char *data_of(const struct cap *c, const char *key)
{
	for (unsigned i = 0; i < c->n_data; i++)
		if (strcmp(c->data[i][0], key) == 0)
			return c->data[i][1];
	return NULL;
}

#define NAMES_ETC_SHADOW "shadow\0etc\0"

/* ---- tests ---- */

/* A file's first event: its name came first, the event is pending, the
 * pipeline decides it with the name and forwards it with the kernel's
 * path, bytes and the file's identity. */
static void test_pending_named(void **state)
{
	struct fx *f = *state;
	struct cap *c;

	name_rec(f, 5, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 5, 11, SE_F_PENDING, 0, "vi");
	assert_int_equal(f->ts.n, 1);
	c = &f->ts.ev[0];
	assert_string_equal(c->event_type, "file_write");
	assert_string_equal(c->filename, "/etc/shadow");
	assert_int_equal(c->bytes, 11);
	assert_string_equal(c->comm, "vi");
	assert_int_equal(c->pid, FAKE);
	assert_int_equal(c->tid, FAKE + 1);
	assert_string_equal(data_of(c, "dev"), "8:1");
	assert_string_equal(data_of(c, "ino"), "1005");
	assert_string_equal(data_of(c, "mntns"), "4026531840");
	assert_null(data_of(c, ENVELOPE_FILENAME_IN_ROOT));
	assert_null(data_of(c, ENVELOPE_FILENAME_VIA));
	assert_null(data_of(c, "filename_unlinked"));
	assert_string_equal(c->container_id, "");
	assert_int_equal(f->pl.stats.names, 1);
	assert_int_equal(f->pl.stats.forwarded[1], 1);
}

/* Truncations and writable mappings: their own event types, decided
 * against rules of their type only; an O_TRUNC open's truncation carries
 * data.bytes_unknown. A kind past the events (a future one) is no event. */
static void test_change_types(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: t\n    event: file_truncate\n"
		      "    match: {pathPrefixes: [/etc/]}\n"
		      "  - name: m\n    event: file_mmap\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	name_rec(f, 9, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 9, 5, SE_F_PENDING, 0, "sh"); /* no write rule */
	assert_int_equal(f->ts.n, 0);
	io_rec(f, SE_TRUNCATE, 9, 0, SE_F_PENDING | SE_F_BYTES_UNKNOWN, 0, "sh");
	io_rec(f, SE_MMAP, 9, 8192, SE_F_PENDING, 0, "sh");
	io_rec(f, SE_TRUNCATE, 9, 100, 0, 1, "sh");
	assert_int_equal(f->ts.n, 3);
	assert_string_equal(f->ts.ev[0].event_type, "file_truncate");
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_string_equal(data_of(&f->ts.ev[0], "bytes_unknown"), "true");
	assert_string_equal(f->ts.ev[1].event_type, "file_mmap");
	assert_int_equal(f->ts.ev[1].rule_mask, 2);
	assert_int_equal(f->ts.ev[1].bytes, 8192);
	assert_null(data_of(&f->ts.ev[1], "bytes_unknown"));
	assert_int_equal(f->ts.ev[2].bytes, 100);
	assert_int_equal(f->pl.stats.forwarded[EV_FILE_TRUNCATE], 2);
	assert_int_equal(f->pl.stats.forwarded[EV_FILE_MMAP], 1);
	io_rec(f, SE_KIND_MAX, 9, 1, 0, 1, "sh");
	assert_int_equal(f->ts.n, 3);
}

/* A rename or link as the probe sends it: both names absolute, from the
 * root ("/": a walk of no components); @unreadable: the new name's side
 * could not be read. */
static void nameop_rec(struct fx *f, uint16_t kind, const char *old, const char *new,
		       uint64_t flags, bool unreadable)
{
	struct se_nameop_record *r = calloc(1, sizeof(*r));
	const char *names[2] = {old, new};

	assert_non_null(r);
	r->r.ts_ns = AT(f, 2);
	r->r.arg = flags;
	r->r.tgid = FAKE;
	r->r.tid = FAKE + 1;
	r->r.fd = -100;
	r->r.kind = (uint8_t)kind;
	r->r.syscall = kind == SE_RENAME     ? SE_SC_RENAMEAT2
		       : kind == SE_LINK     ? SE_SC_LINKAT
		       : kind == SE_TRUNCATE ? SE_SC_TRUNCATE
					     : SE_SC_IO_URING;
	r->r.flags = SE_F_PENDING | SE_F_BY_NAME;
	if (kind == SE_TRUNCATE)
		r->r.flags |= SE_F_BYTES_UNKNOWN;
	if (kind == SE_READ || kind == SE_WRITE) /* arg: the bytes asked for */
		r->r.flags |= SE_F_UNCONFIRMED;
	snprintf(r->r.comm, sizeof(r->r.comm), "mv");
	for (int i = 0; i < 2; i++) {
		r->side[i].dfd = -100;
		r->side[i].base = SE_NB_ROOT;
		r->side[i].kp.flags = SE_KP_F_ROOT;
		snprintf(r->side[i].str, sizeof(r->side[i].str), "%s", names[i]);
		r->side[i].len = (uint16_t)(strlen(names[i]) + 1);
	}
	if (unreadable) {
		r->side[1].base = SE_NB_NONE;
		r->side[1].len = 0;
	}
	pipeline_on_record(&f->pl, &r->r, sizeof(*r));
	/* cut short: refused, never read past its end */
	pipeline_on_record(&f->pl, &r->r, sizeof(*r) - 1);
	free(r);
}

/* Renames and links: decided here by either name (a watched name given
 * away matters as much as one taken), the new one in filename, the old in
 * data.source; a name that could not be read matches every rule. */
static void test_nameops(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: r\n    event: file_rename\n"
		      "    match: {pathPrefixes: [/etc/]}\n"
		      "  - name: l\n    event: file_link\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	nameop_rec(f, SE_RENAME, "/etc/passwd+", "/etc/passwd", 0, false);
	nameop_rec(f, SE_RENAME, "/tmp/x", "/tmp//./y", 0, false);
	nameop_rec(f, SE_LINK, "/etc/shadow", "/tmp/h", 0, false);
	nameop_rec(f, SE_RENAME, "/tmp/a", "/etc/x", 2, false);
	nameop_rec(f, SE_RENAME, "/tmp/u", "/tmp/v", 0, true);
	assert_int_equal(f->ts.n, 4);
	assert_string_equal(f->ts.ev[0].event_type, "file_rename");
	assert_string_equal(f->ts.ev[0].filename, "/etc/passwd");
	assert_string_equal(data_of(&f->ts.ev[0], "source"), "/etc/passwd+");
	assert_string_equal(data_of(&f->ts.ev[0], "syscall"), "renameat2");
	assert_null(data_of(&f->ts.ev[0], "rename_flags"));
	assert_null(data_of(&f->ts.ev[0], "filename_resolution"));
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_int_equal(f->ts.ev[0].bytes, 0);
	assert_string_equal(f->ts.ev[1].event_type, "file_link");
	assert_string_equal(f->ts.ev[1].filename, "/tmp/h");
	assert_string_equal(data_of(&f->ts.ev[1], "source"), "/etc/shadow");
	assert_int_equal(f->ts.ev[1].rule_mask, 2);
	assert_string_equal(data_of(&f->ts.ev[2], "rename_flags"), "exchange");
	assert_string_equal(f->ts.ev[3].filename, "");
	assert_string_equal(data_of(&f->ts.ev[3], "filename_resolution"), "unreadable");
	assert_int_equal(f->ts.ev[3].rule_mask, 1);
	assert_int_equal(f->pl.stats.user_filtered, 1);
	assert_int_equal(f->pl.stats.nameop_names[NAMEOP_LOOKUP], 9);
	assert_int_equal(f->pl.stats.nameop_names[NAMEOP_UNREADABLE], 1);
	assert_int_equal(f->pl.stats.names_invalid, 5);
	assert_int_equal(f->pl.stats.forwarded[EV_FILE_RENAME], 3);
	assert_int_equal(f->pl.stats.forwarded[EV_FILE_LINK], 1);
}

/* An io_uring read or write of a registered slot its silent linked open
 * fills, named by that open: one name (the new side's), the bytes it
 * asked for, flagged bytes_unconfirmed (not unconfirmed: the call is a
 * read or write, its bytes are what is unknown), no source. */
static void test_io_by_name(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: w\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	nameop_rec(f, SE_WRITE, "/etc/ignored", "/etc/passwd", 215, false);
	nameop_rec(f, SE_WRITE, "/etc/ignored", "/tmp/y", 216, false);
	nameop_rec(f, SE_READ, "/tmp/ignored", "/etc/shadow", 217, false);
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].event_type, "file_write");
	assert_string_equal(f->ts.ev[0].filename, "/etc/passwd");
	assert_int_equal(f->ts.ev[0].bytes, 215);
	assert_string_equal(data_of(&f->ts.ev[0], "syscall"), "io_uring");
	assert_string_equal(data_of(&f->ts.ev[0], "bytes_unconfirmed"), "true");
	assert_null(data_of(&f->ts.ev[0], "unconfirmed"));
	assert_null(data_of(&f->ts.ev[0], "source"));
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_int_equal(f->pl.stats.user_filtered, 2);
}

/* truncate(2) by path: one name (the new side's), a file_truncate whose
 * size before is gone; the old side, whatever it holds, is no name. A
 * name no lookup finds any more (lexical) matches every rule: its place
 * is unknown. */
static void test_truncate_by_name(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: t\n    event: file_truncate\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	nameop_rec(f, SE_TRUNCATE, "/etc/ignored", "/dev/null", 0, false);
	nameop_rec(f, SE_TRUNCATE, "/tmp/ignored", "/etc/shadow", 0, false);
	nameop_rec(f, SE_TRUNCATE, "/etc/ignored", "/nonexistent-dir/log", 0, false);
	assert_int_equal(f->ts.n, 2);
	assert_string_equal(f->ts.ev[0].event_type, "file_truncate");
	assert_string_equal(f->ts.ev[0].filename, "/etc/shadow");
	assert_string_equal(data_of(&f->ts.ev[0], "syscall"), "truncate");
	assert_string_equal(data_of(&f->ts.ev[0], "bytes_unknown"), "true");
	assert_null(data_of(&f->ts.ev[0], "source"));
	assert_null(data_of(&f->ts.ev[0], "filename_resolution"));
	assert_int_equal(f->ts.ev[0].bytes, 0);
	assert_string_equal(f->ts.ev[1].filename, "/nonexistent-dir/log");
	assert_string_equal(data_of(&f->ts.ev[1], "filename_resolution"), "lexical");
	assert_int_equal(f->ts.ev[1].rule_mask, 1);
	assert_int_equal(f->pl.stats.nameop_names[NAMEOP_LOOKUP], 2);
	assert_int_equal(f->pl.stats.nameop_names[NAMEOP_LEXICAL], 1);
	assert_int_equal(f->pl.stats.user_filtered, 1);
}

/* Decided in the kernel: the record's mask is the verdict, no rule check
 * here (a comm the rules would not match is still forwarded). */
static void test_decided(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: w\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/], comms: [vi]}\n");
	name_rec(f, 6, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 6, 3, 0, 1, "other");
	assert_int_equal(f->ts.n, 1);
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_int_equal(f->pl.stats.rule_matches[0], 1);
	assert_string_equal(f->pl.totals[f->pl.total_of_bit[0]].name, "w");
	assert_int_equal(f->pl.totals[f->pl.total_of_bit[0]].matches, 1);
}

/* Pending and matching no rule: counted, not forwarded. The path part and
 * the event type both count: /etcx is not under /etc/. */
static void test_pending_filtered(void **state)
{
	struct fx *f = *state;
	static const char etcx[] = "f\0etcx\0";

	load_rules(f, "rules:\n  - name: w\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	name_rec(f, 7, etcx, sizeof(etcx) - 1, 2);
	io_rec(f, SE_WRITE, 7, 1, SE_F_PENDING, 0, "sh");
	name_rec(f, 8, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_READ, 8, 1, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.user_filtered, 2);
	io_rec(f, SE_WRITE, 8, 1, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
}

/* An event under a seq whose name never came (its record lost): counted
 * by type, not forwarded under a guessed name. */
static void test_unresolved(void **state)
{
	struct fx *f = *state;

	io_rec(f, SE_WRITE, 99, 1, SE_F_PENDING, 0, "sh");
	io_rec(f, SE_READ, 98, 1, 0, 1, "sh");
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.unresolved[EV_FILE_WRITE], 1);
	assert_int_equal(f->pl.stats.unresolved[EV_FILE_READ], 1);
	/* The pending write may be any file's; the read had been matched. */
	assert_int_equal(f->pl.stats.unresolved_matched[EV_FILE_WRITE], 0);
	assert_int_equal(f->pl.stats.unresolved_matched[EV_FILE_READ], 1);
}

/* Outside the process's root (chroot, container): the host's path is
 * filename, the process's own view is beside it. */
static void test_in_root(void **state)
{
	struct fx *f = *state;
	static const char n[] = "passwd\0etc\0jail\0srv\0";

	name_rec_raw(f, 9, n, sizeof(n) - 1, 4, SE_KP_F_ROOT, 2, 0100644, 0);
	io_rec(f, SE_WRITE, 9, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].filename, "/srv/jail/etc/passwd");
	assert_string_equal(data_of(&f->ts.ev[0], ENVELOPE_FILENAME_IN_ROOT), "/etc/passwd");
	assert_null(data_of(&f->ts.ev[0], ENVELOPE_FILENAME_VIA));
}

/*
 * Written through a bind mount: filename is the file's name at its origin
 * (what rules match), filename_via the name through the mount it used.
 * /etc bound at /tmp/e: /tmp/e/shadow is /etc/shadow, watched. /tmp/u
 * bound over /etc/x in a private namespace: /etc/x/f there is /tmp/u/f,
 * not watched.
 */
static void test_bind(void **state)
{
	struct fx *f = *state;
	static const char in[] = "shadow\0e\0tmp\0etc\0", over[] = "f\0x\0etc\0u\0tmp\0";
	const struct se_kpath in_two = {.bind_at = 1, .bind_from = 3, .origin_ns = 4026531840u};
	const struct se_kpath over_two = {.bind_at = 1, .bind_from = 3, .origin_ns = 4026531840u};

	load_rules(f, "rules:\n  - name: etc\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	name_rec_two(f, 13, in, sizeof(in) - 1, 4, SE_KP_F_ROOT | SE_KP_F_BIND, 3, &in_two, 0100644,
		     0);
	io_rec(f, SE_WRITE, 13, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].filename, "/etc/shadow");
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_string_equal(data_of(&f->ts.ev[0], ENVELOPE_FILENAME_VIA), "/tmp/e/shadow");
	assert_null(data_of(&f->ts.ev[0], ENVELOPE_FILENAME_IN_ROOT));
	name_rec_two(f, 14, over, sizeof(over) - 1, 5, SE_KP_F_ROOT | SE_KP_F_BIND, 3, &over_two,
		     0100644, 0);
	io_rec(f, SE_WRITE, 14, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_int_equal(f->pl.stats.user_filtered, 1);
}

/* Too deep for the walk: only the leaf-most part, relative (never passing
 * for an absolute path), flagged, and matching every rule: where it lies
 * is unknown, and a deep tree must not hide writes under /etc/. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	static const char n[] = "f\0e\0d\0";

	load_rules(f, "rules:\n  - name: etc\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	name_rec_raw(f, 11, n, sizeof(n) - 1, 3, SE_KP_F_TRUNCATED | SE_KP_F_UNLINKED, 0, 0100644,
		     0);
	io_rec(f, SE_WRITE, 11, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].filename, "d/e/f");
	assert_true(f->ts.ev[0].filename_truncated);
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
	assert_string_equal(data_of(&f->ts.ev[0], "filename_unlinked"), "true");
	assert_int_equal(f->pl.stats.truncated, 1);
	/* The rule's event type still counts. */
	io_rec(f, SE_READ, 11, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
}

/* A pipe is named as the kernel names it: "/" prefixes never match it. */
static void test_pipe(void **state)
{
	struct fx *f = *state;

	name_rec_raw(f, 12, "", 0, 0, SE_KP_F_ESCAPED, 0, 0010600, 0);
	io_rec(f, SE_WRITE, 12, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 0);
	load_rules(f, "rules:\n  - name: any\n    event: file_write\n");
	name_rec_raw(f, 13, "", 0, 0, SE_KP_F_ESCAPED, 0, 0010600, 0);
	io_rec(f, SE_WRITE, 13, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_string_equal(f->ts.ev[0].filename, "pipe:[1013]");
}

/* A malformed name (shorter than it says) is refused and counted; the
 * file's events are then unresolved, never named from stale bytes. */
static void test_malformed_name(void **state)
{
	struct fx *f = *state;

	name_rec_raw(f, 14, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2, 0, 0, 0100644, 3);
	io_rec(f, SE_WRITE, 14, 2, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 0);
	assert_int_equal(f->pl.stats.names_invalid, 1);
	assert_int_equal(f->pl.stats.unresolved[1], 1);
	/* A record too short for the walk's header is not even a name
	 * record (the probe hands over at least a struct se_record). */
	name_rec_raw(f, 15, "", 0, 0, 0, 0, 0100644,
		     SE_NAME_RECORD_HDR - sizeof(struct se_record) - 8);
	assert_int_equal(f->pl.stats.names, 1);
}

/* A reload: the kernel names every file again under a new seq; the new
 * rules decide it (here a prefix that did not match before now does). */
static void test_reload(void **state)
{
	struct fx *f = *state;

	load_rules(f, "rules:\n  - name: w\n    event: file_write\n"
		      "    match: {pathPrefixes: [/var/]}\n");
	name_rec(f, 16, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 16, 1, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 0);
	load_rules(f, "rules:\n  - name: w2\n    event: file_write\n"
		      "    match: {pathPrefixes: [/etc/]}\n");
	name_rec(f, 17, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 17, 1, SE_F_PENDING, 0, "sh");
	assert_int_equal(f->ts.n, 1);
	assert_int_equal(f->ts.ev[0].rule_mask, 1);
}

/* Sequence numbers and ids: one per forwarded event, in order. */
static void test_seq(void **state)
{
	struct fx *f = *state;

	name_rec(f, 18, NAMES_ETC_SHADOW, sizeof(NAMES_ETC_SHADOW) - 1, 2);
	io_rec(f, SE_WRITE, 18, 1, SE_F_PENDING, 0, "sh");
	io_rec(f, SE_READ, 18, 2, SE_F_PENDING, 0, "sh");
	io_rec(f, SE_WRITE, 18, 3, 0, 1, "sh");
	assert_int_equal(f->ts.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(f->ts.ev[i].seq, i + 1);
		assert_int_equal(f->ts.ev[i].bytes, i + 1);
	}
	assert_string_not_equal(f->ts.ev[0].event_id, f->ts.ev[1].event_id);
	assert_string_equal(f->ts.ev[1].event_type, "file_read");
}

/* Event ids: RFC 4122 version 4 text, none repeated in a long run, and two
 * sources (two agents, or one restarted) do not share a sequence. */
static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, ENVELOPE_UUID_LEN + 1);
}

static void test_event_ids(void **state)
{
	enum { N = 20000 };
	static char ids[2 * N][ENVELOPE_UUID_LEN + 1];
	struct envelope_source a, b;

	(void)state;
	envelope_source_init(&a);
	envelope_source_init(&b);
	for (size_t i = 0; i < N; i++) {
		envelope_new_id(&a, ids[i]);
		envelope_new_id(&b, ids[N + i]);
	}
	for (size_t i = 0; i < 2 * N; i++) {
		const char *id = ids[i];

		assert_int_equal(strlen(id), ENVELOPE_UUID_LEN);
		for (size_t k = 0; k < ENVELOPE_UUID_LEN; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				assert_int_equal(id[k], '-');
			else
				assert_non_null(strchr("0123456789abcdef", id[k]));
		}
		assert_int_equal(id[14], '4');
		assert_non_null(strchr("89ab", id[19]));
	}
	qsort(ids, 2 * N, sizeof(ids[0]), cmp_id);
	for (size_t i = 1; i < 2 * N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	assert_string_not_equal(a.agent_id, b.agent_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nameops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unresolved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
		cmocka_unit_test(test_event_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
