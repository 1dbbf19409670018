/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: rules loading and matching (agent/rules.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

#define R EV_FILE_READ
#define W EV_FILE_WRITE

static void load_ok(struct ruleset *rs, const char *text)
{
	char err[512] = "";

	if (rules_load_string(rs, text, "t.yaml", err, sizeof(err)))
		fail_msg("unexpected error: %s", err);
}

/* Expects failure with exactly @want, and the set left zeroed. */
static void expect_error(const char *text, const char *want)
{
	static const struct ruleset zero;
	struct ruleset rs;
	char err[512];

	memset(&rs, 0xa5, sizeof(rs));
	assert_int_equal(rules_load_string(&rs, text, "t.yaml", err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_memory_equal(&rs, &zero, sizeof(rs));
}

static void test_default_rules(void **state)
{
	struct ruleset rs;
	char err[256];
	uint64_t pm;

	(void)state;
	assert_int_equal(
		rules_load_string(&rs, rules_default_text(), RULES_DEFAULT_NAME, err, sizeof(err)),
		0);
	assert_string_equal(rs.source, "<embedded rules>");
	assert_int_equal(rs.n, 6);
	assert_int_equal(rs.n_enabled, 6);
	assert_string_equal(rs.rules[4].name, "all-renames");
	assert_int_equal(rs.rules[4].event, EV_FILE_RENAME);
	assert_string_equal(rs.rules[5].name, "all-links");
	assert_int_equal(rs.rules[5].event, EV_FILE_LINK);
	assert_string_equal(rs.rules[2].name, "all-truncations");
	assert_int_equal(rs.rules[2].event, EV_FILE_TRUNCATE);
	assert_string_equal(rs.rules[3].name, "all-writable-mappings");
	assert_int_equal(rs.rules[3].event, EV_FILE_MMAP);
	assert_string_equal(rs.rules[0].name, "all-reads");
	assert_int_equal(rs.rules[0].event, EV_FILE_READ);
	assert_int_equal(rs.rules[0].bit, 0);
	assert_string_equal(rs.rules[1].name, "all-writes");
	assert_int_equal(rs.rules[1].event, EV_FILE_WRITE);
	assert_int_equal(rs.rules[1].bit, 1);
	assert_ptr_equal(rs.by_bit[0], &rs.rules[0]);
	assert_ptr_equal(rs.by_bit[1], &rs.rules[1]);
	for (size_t i = 0; i < 6; i++) {
		assert_true(rs.rules[i].enabled);
		assert_int_equal(rs.rules[i].n_prefixes, 1);
		assert_string_equal(rs.rules[i].prefixes[0], "/");
		assert_int_equal(rs.rules[i].n_comms, 0);
	}

	pm = rules_path_mask(&rs, "/etc/hosts");
	assert_int_equal(pm, 0x3f);
	assert_int_equal(rules_match(&rs, R, "cat", pm), 0x1);
	assert_int_equal(rules_match(&rs, W, "vi", pm), 0x2);
	assert_int_equal(rules_match(&rs, EV_FILE_RENAME, "mv", pm), 0x10);
	assert_int_equal(rules_match(&rs, EV_FILE_LINK, "ln", pm), 0x20);
	/* a relative name is not under "/" */
	assert_int_equal(rules_path_mask(&rs, "etc/hosts"), 0);
	rules_free(&rs);
}

static void test_empty(void **state)
{
	struct ruleset rs;
	struct rules_comm_mask *cm = (void *)1;
	uint64_t tm[EV_TYPES] = {1, 1, 1, 1, 1, 1}, any = 1, cr = 1;

	(void)state;
	load_ok(&rs, "");
	assert_int_equal(rs.n, 0);
	assert_int_equal(rs.n_enabled, 0);
	assert_null(rs.rules);
	assert_string_equal(rs.source, "t.yaml");
	assert_int_equal(rules_path_mask(&rs, "/etc/hosts"), 0);
	assert_int_equal(rules_match(&rs, R, "cat", ~0ULL), 0);
	rules_kernel_masks(&rs, tm, &any, &cr);
	assert_int_equal(tm[0], 0);
	assert_int_equal(tm[1], 0);
	assert_int_equal(any, 0);
	assert_int_equal(cr, 0);
	assert_int_equal(rules_comm_masks(&rs, &cm), 0);
	assert_null(cm);
	rules_free(&rs);

	load_ok(&rs, "rules: []\n");
	assert_int_equal(rs.n, 0);
	rules_free(&rs);
	load_ok(&rs, "rules:\n");
	assert_int_equal(rs.n, 0);
	rules_free(&rs);
}

/* A ruleset that watches nothing loads (the parser has no policy) but is
 * refused by rules_require_some, which says why and how to allow it. */
static void test_require_some(void **state)
{
	struct ruleset rs;
	char err[512];

	(void)state;
	load_ok(&rs, "");
	assert_int_equal(rules_require_some(&rs, err, sizeof(err)), -1);
	assert_string_equal(err, "t.yaml: no rules: the agent would watch nothing; set "
				 "allowEmptyRules: true in the agent config to allow it");
	rules_free(&rs);
	load_ok(&rs, "rules:\n  - {name: a, event: file_read, enabled: false}\n"
		     "  - {name: b, event: file_write, enabled: false}\n");
	assert_int_equal(rules_require_some(&rs, err, sizeof(err)), -1);
	assert_string_equal(err, "t.yaml: no enabled rule (2 rules, all disabled): the agent would "
				 "watch nothing; set allowEmptyRules: true in the agent config to "
				 "allow it");
	rules_free(&rs);
	load_ok(&rs, "rules:\n  - {name: a, event: file_read, enabled: false}\n"
		     "  - {name: b, event: file_write}\n");
	err[0] = '\0';
	assert_int_equal(rules_require_some(&rs, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	rules_free(&rs);
}

static void test_prefix_semantics(void **state)
{
	struct ruleset rs;

	(void)state;
	load_ok(&rs,
		"rules:\n"
		"  - {name: etc, event: file_read, match: {pathPrefixes: [/etc]}}\n"
		"  - {name: etc-dir, event: file_read, match: {pathPrefixes: [/etc/]}}\n"
		"  - {name: two, event: file_read, match: {pathPrefixes: [/var/log, /tmp/x]}}\n"
		"  - {name: any, event: file_read}\n"
		"  - {name: any2, event: file_read, match: {pathPrefixes: []}}\n");
	assert_int_equal(rs.n_enabled, 5);
	assert_int_equal(rules_path_mask(&rs, "/etc/hosts"), 0x1b);
	assert_int_equal(rules_path_mask(&rs, "/etc"), 0x19);
	/* plain byte prefix, like str.startswith */
	assert_int_equal(rules_path_mask(&rs, "/etcetera"), 0x19);
	assert_int_equal(rules_path_mask(&rs, "/et"), 0x18);
	assert_int_equal(rules_path_mask(&rs, "/var/log/syslog"), 0x1c);
	assert_int_equal(rules_path_mask(&rs, "/tmp/x"), 0x1c);
	assert_int_equal(rules_path_mask(&rs, "/tmp/"), 0x18);
	assert_int_equal(rules_path_mask(&rs, ""), 0x18);
	assert_int_equal(rules_path_mask(&rs, "/ETC/hosts"), 0x18);
	rules_free(&rs);
}

static void test_comm_semantics(void **state)
{
	struct ruleset rs;

	(void)state;
	load_ok(&rs, "rules:\n"
		     "  - name: shells\n"
		     "    event: file_write\n"
		     "    match: {comms: [bash, sh]}\n"
		     "  - name: any-writer\n"
		     "    event: file_write\n"
		     "  - name: bash-reads\n"
		     "    event: file_read\n"
		     "    match: {comms: [bash], pathPrefixes: [/home]}\n");
	assert_int_equal(rules_match(&rs, W, "bash", ~0ULL), 0x3);
	assert_int_equal(rules_match(&rs, W, "sh", ~0ULL), 0x3);
	assert_int_equal(rules_match(&rs, W, "zsh", ~0ULL), 0x2);
	/* whole-name equality, not a prefix */
	assert_int_equal(rules_match(&rs, W, "bas", ~0ULL), 0x2);
	assert_int_equal(rules_match(&rs, W, "bash2", ~0ULL), 0x2);
	assert_int_equal(rules_match(&rs, W, "", ~0ULL), 0x2);
	assert_int_equal(rules_match(&rs, R, "bash", ~0ULL), 0x4);
	assert_int_equal(rules_match(&rs, R, "sh", ~0ULL), 0);
	/* the path mask gates every rule */
	assert_int_equal(rules_match(&rs, R, "bash", rules_path_mask(&rs, "/etc/x")), 0);
	assert_int_equal(rules_match(&rs, R, "bash", rules_path_mask(&rs, "/home/u")), 0x4);
	assert_int_equal(rules_match(&rs, W, "bash", 0x1), 0x1);
	assert_int_equal(rules_match(&rs, W, "bash", 0), 0);
	/* bits beyond the enabled rules are ignored */
	assert_int_equal(rules_match(&rs, W, "bash", ~0x7ULL), 0);
	rules_free(&rs);
}

static void test_disabled_rules_get_no_bit(void **state)
{
	struct ruleset rs;
	uint64_t tm[EV_TYPES], any, cr;

	(void)state;
	load_ok(&rs, "rules:\n"
		     "  - {name: a, event: file_read, enabled: false}\n"
		     "  - {name: b, event: file_write}\n"
		     "  - {name: c, event: file_read, enabled: false, match: {comms: [x]}}\n"
		     "  - {name: d, event: file_read, enabled: true}\n");
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.n_enabled, 2);
	assert_false(rs.rules[0].enabled);
	assert_int_equal(rs.rules[0].bit, -1);
	assert_int_equal(rs.rules[1].bit, 0);
	assert_int_equal(rs.rules[2].bit, -1);
	assert_int_equal(rs.rules[3].bit, 1);
	assert_ptr_equal(rs.by_bit[0], &rs.rules[1]);
	assert_ptr_equal(rs.by_bit[1], &rs.rules[3]);
	assert_int_equal(rules_path_mask(&rs, "/x"), 0x3);
	assert_int_equal(rules_match(&rs, R, "x", ~0ULL), 0x2);
	rules_kernel_masks(&rs, tm, &any, &cr);
	assert_int_equal(tm[0], 0x2);
	assert_int_equal(tm[1], 0x1);
	assert_int_equal(any, 0x3);
	assert_int_equal(cr, 0);
	rules_free(&rs);
}

/* @n_enabled enabled rules, with a disabled one after every tenth. */
static char *many_rules(int n_enabled)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fputs("rules:\n", f);
	for (int i = 0; i < n_enabled; i++) {
		fprintf(f, "  - name: r%d\n    event: file_read\n", i);
		if (i % 10 == 9)
			fprintf(f, "  - name: off%d\n    event: file_read\n    enabled: false\n",
				i);
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_enabled_rule_limit(void **state)
{
	struct ruleset rs;
	uint64_t tm[EV_TYPES], any, cr;
	char *text;

	(void)state;
	text = many_rules(64);
	load_ok(&rs, text);
	free(text);
	assert_int_equal(rs.n, 70);
	assert_int_equal(rs.n_enabled, 64);
	assert_string_equal(rs.by_bit[63]->name, "r63");
	assert_int_equal(rs.by_bit[63]->bit, 63);
	assert_int_equal(rules_path_mask(&rs, "/"), ~0ULL);
	assert_int_equal(rules_match(&rs, R, "x", ~0ULL), ~0ULL);
	assert_int_equal(rules_match(&rs, W, "x", ~0ULL), 0);
	rules_kernel_masks(&rs, tm, &any, &cr);
	assert_int_equal(tm[0], ~0ULL);
	assert_int_equal(tm[1], 0);
	assert_int_equal(any, ~0ULL);
	rules_free(&rs);

	/* 64 enabled + 6 disabled = 70 entries; the 65th enabled is rules[70] */
	text = many_rules(65);
	expect_error(text, "t.yaml:148:5: rules[70]: too many enabled rules, the limit is 64 "
			   "(disable or merge some)");
	free(text);
}

/* Runs rules_load_string() with stderr captured into @log. */
static int load_capturing(struct ruleset *rs, const char *text, char *log, size_t cap)
{
	char err[256];
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	ret = rules_load_string(rs, text, "t.yaml", err, sizeof(err));
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, cap - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	return ret;
}

static void test_long_comm_truncated(void **state)
{
	struct ruleset rs;
	char log[2048];

	(void)state;
	assert_int_equal(load_capturing(&rs,
					"rules:\n"
					"  - name: long\n"
					"    event: file_read\n"
					"    match:\n"
					"      comms: [exactly15bytes_, sixteen_bytes_xy, "
					"\"a really long command name\"]\n",
					log, sizeof(log)),
			 0);
	assert_int_equal(rs.rules[0].n_comms, 3);
	assert_string_equal(rs.rules[0].comms[0], "exactly15bytes_");
	assert_string_equal(rs.rules[0].comms[1], "sixteen_bytes_x");
	assert_string_equal(rs.rules[0].comms[2], "a really long c");
	/* one warning per truncated comm, naming where it is */
	assert_null(strstr(log, "exactly15bytes_"));
	assert_non_null(strstr(log, "level=warn"));
	assert_non_null(strstr(log, "at=t.yaml:5:32 rule=long comm=sixteen_bytes_xy "
				    "kept=sixteen_bytes_x"));
	assert_non_null(strstr(log,
			       "at=t.yaml:5:50 rule=long "
			       "comm=\"a really long command name\" kept=\"a really long c\""));
	/* matched the way the kernel reports the process: first 15 bytes */
	assert_int_equal(rules_match(&rs, R, "sixteen_bytes_x", ~0ULL), 0x1);
	assert_int_equal(rules_match(&rs, R, "sixteen_bytes_xy", ~0ULL), 0x1);
	assert_int_equal(rules_match(&rs, R, "sixteen_bytes_", ~0ULL), 0);
	assert_int_equal(rules_match(&rs, R, "exactly15bytes_", ~0ULL), 0x1);
	rules_free(&rs);
}

static void test_kernel_and_comm_masks(void **state)
{
	struct rules_comm_mask *cm = NULL;
	struct ruleset rs;
	uint64_t tm[EV_TYPES], any, cr;
	size_t n;

	(void)state;
	load_ok(&rs, "rules:\n"
		     "  - {name: r0, event: file_read, match: {comms: [sh, bash]}}\n"
		     "  - {name: r1, event: file_write}\n"
		     "  - {name: off, event: file_write, enabled: false, match: {comms: [vim]}}\n"
		     "  - {name: r2, event: file_write, match: {comms: [bash, cat]}}\n"
		     "  - {name: r3, event: file_read, match: {pathPrefixes: [/etc]}}\n"
		     "  - {name: r4, event: file_read, match: {comms: [cat, cat]}}\n");
	rules_kernel_masks(&rs, tm, &any, &cr);
	assert_int_equal(tm[0], 0x19);
	assert_int_equal(tm[1], 0x06);
	assert_int_equal(any, 0x0a);
	assert_int_equal(cr, 0x15);

	n = rules_comm_masks(&rs, &cm);
	assert_int_equal(n, 3);
	assert_non_null(cm);
	/* sorted by comm, NUL-padded to 16 bytes like the kernel's keys */
	assert_string_equal(cm[0].comm, "bash");
	assert_int_equal(cm[0].mask, 0x05);
	assert_string_equal(cm[1].comm, "cat");
	assert_int_equal(cm[1].mask, 0x14);
	assert_string_equal(cm[2].comm, "sh");
	assert_int_equal(cm[2].mask, 0x01);
	for (size_t i = 0; i < n; i++)
		for (size_t j = strlen(cm[i].comm); j < RULES_COMM_LEN; j++)
			assert_int_equal(cm[i].comm[j], 0);
	free(cm);

	/* user space agrees with what the kernel computes from these masks */
	assert_int_equal(rules_match(&rs, R, "cat", ~0ULL), (tm[0] & (any | 0x14)));
	assert_int_equal(rules_match(&rs, W, "bash", ~0ULL), (tm[1] & (any | 0x05)));
	assert_int_equal(rules_match(&rs, W, "vim", ~0ULL), 0x02);
	assert_int_equal(rules_match(&rs, R, "sh", rules_path_mask(&rs, "/etc/x")), 0x09);
	assert_int_equal(rules_match(&rs, R, "sh", rules_path_mask(&rs, "/home")), 0x01);
	rules_free(&rs);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("rules:\n  - name: a\n    event: file_open\n",
		     "t.yaml:3:12: rules[0].event: expected file_read, file_write, file_truncate, "
		     "file_mmap, file_rename or file_link, "
		     "got string \"file_open\"");
	expect_error("rules:\n  - name: a\n    event: [file_read]\n",
		     "t.yaml:3:12: rules[0].event: expected a string, got a sequence");
	expect_error("rules:\n  - name: a\n",
		     "t.yaml:2:5: rules[0]: missing required key \"event\"");
	expect_error("rules:\n  - event: file_read\n",
		     "t.yaml:2:5: rules[0]: missing required key \"name\"");
	expect_error("rules:\n  -\n", "t.yaml:2:4: rules[0]: missing required key \"name\"");
	expect_error("rules:\n  - name: \"\"\n    event: file_read\n",
		     "t.yaml:2:11: rules[0].name: expected a non-empty string, got string \"\"");
	expect_error(
		"rules:\n  - name: a\n    event: file_read\n  - name: b\n    event: file_read\n"
		"  - name: a\n    event: file_write\n",
		"t.yaml:6:11: rules[2].name: duplicate rule name \"a\" (first at line 2)");
	expect_error("rules:\n  - name: a\n    event: file_read\n    enabled: no\n",
		     "t.yaml:4:14: rules[0].enabled: expected true or false, got string \"no\"");
	expect_error("rules:\n  - {name: a, event: file_read, match: {pathPrefixes: [\"\"]}}\n",
		     "t.yaml:2:56: rules[0].match.pathPrefixes[0]: expected a non-empty string, "
		     "got string \"\"");
	/* Names are absolute: a relative prefix could never match. */
	expect_error(
		"rules:\n  - {name: a, event: file_read, match: {pathPrefixes: [/var, etc/]}}\n",
		"t.yaml:2:62: rules[0].match.pathPrefixes[1]: expected an absolute path "
		"(starting with \"/\"), got string \"etc/\"");
	expect_error("rules:\n  - {name: a, event: file_read, match: {comms: [sh, '']}}\n",
		     "t.yaml:2:53: rules[0].match.comms[1]: expected a non-empty string, "
		     "got string \"\"");
	expect_error("rules:\n  - {name: a, event: file_read, match: {comms: [sh, [x]]}}\n",
		     "t.yaml:2:53: rules[0].match.comms[1]: expected a string, got a sequence");
	expect_error("rules:\n  - {name: a, event: file_read, match: {pathPrefixes: /etc}}\n",
		     "t.yaml:2:55: rules[0].match.pathPrefixes: expected a sequence, "
		     "got string \"/etc\"");
	expect_error("rules:\n  - {name: a, event: file_read, match: [/etc]}\n",
		     "t.yaml:2:40: rules[0].match: expected a mapping, got a sequence");
	expect_error("rules: {name: a}\n", "t.yaml:1:8: rules: expected a sequence, got a mapping");
	expect_error("rules:\n  - just-a-name\n",
		     "t.yaml:2:5: rules[0]: expected a mapping, got string \"just-a-name\"");
	expect_error("- name: a\n", "t.yaml:1:1: expected a mapping, got a sequence");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("rules: []\nmacros: []\n",
		     "t.yaml:2:1: unknown key \"macros\" (allowed: rules)");
	expect_error("rules:\n  - name: a\n    event: file_read\n    output: x\n",
		     "t.yaml:4:5: rules[0]: unknown key \"output\" (allowed: name, enabled, event, "
		     "match)");
	expect_error("rules:\n  - name: a\n    event: file_read\n"
		     "  - name: b\n    event: file_read\n    match:\n      comm: [sh]\n",
		     "t.yaml:7:7: rules[1].match: unknown key \"comm\" (allowed: pathPrefixes, "
		     "comms)");
	expect_error("rules:\n  - name: a\n    name: b\n    event: file_read\n",
		     "t.yaml:3:5: rules[0]: duplicate key \"name\" (first at line 2)");
}

static void test_file_errors(void **state)
{
	char dir[] = "/tmp/test_rules.XXXXXX", path[128], err[512], want[512];
	struct ruleset rs;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_int_equal(rules_load_file(&rs, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(rs.rules);
	assert_null(rs.source);

	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("rules:\n  - name: a\n   event: file_read\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want),
		 "%s:3:4: did not find expected '-' indicator (while parsing a block collection "
		 "at line 2)",
		 path);
	assert_int_equal(rules_load_file(&rs, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(rules_default_text(), f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rules_load_file(&rs, path, err, sizeof(err)), 0);
	assert_string_equal(rs.source, path);
	assert_int_equal(rs.n_enabled, 6);
	rules_free(&rs);

	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rules_load_file(&rs, path, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 0);
	rules_free(&rs);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_print_roundtrip(void **state)
{
	static const char text[] =
		"rules:\n"
		"  - {name: \"we\\\"ird\", event: file_write, match: {comms: [sh], pathPrefixes: "
		"[/etc, \"/a b\"]}}\n"
		"  - {name: off, event: file_read, enabled: false}\n";
	struct ruleset rs, back;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	load_ok(&rs, text);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(&rs, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "# source: \"t.yaml\"\n"
				 "# 1 enabled of 2 rules\n"
				 "rules:\n"
				 "  - name: \"we\\\"ird\"  # bit 0\n"
				 "    enabled: true\n"
				 "    event: file_write\n"
				 "    match:\n"
				 "      pathPrefixes: [\"/etc\", \"/a b\"]\n"
				 "      comms: [\"sh\"]\n"
				 "  - name: \"off\"  # disabled: no bit\n"
				 "    enabled: false\n"
				 "    event: file_read\n"
				 "    match:\n"
				 "      pathPrefixes: []\n"
				 "      comms: []\n");
	assert_int_equal(rules_load_string(&back, buf, "printed", err, sizeof(err)), 0);
	free(buf);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.n_enabled, 1);
	assert_string_equal(back.rules[0].name, "we\"ird");
	assert_int_equal(back.rules[0].n_prefixes, 2);
	assert_string_equal(back.rules[0].prefixes[1], "/a b");
	assert_string_equal(back.rules[0].comms[0], "sh");
	assert_false(back.rules[1].enabled);
	rules_free(&back);
	rules_free(&rs);
}

static void test_event_names(void **state)
{
	(void)state;
	assert_string_equal(ev_type_name(EV_FILE_READ), "file_read");
	assert_string_equal(ev_type_name(EV_FILE_WRITE), "file_write");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_require_some),
		cmocka_unit_test(test_prefix_semantics),
		cmocka_unit_test(test_comm_semantics),
		cmocka_unit_test(test_disabled_rules_get_no_bit),
		cmocka_unit_test(test_enabled_rule_limit),
		cmocka_unit_test(test_long_comm_truncated),
		cmocka_unit_test(test_kernel_and_comm_masks),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_event_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
