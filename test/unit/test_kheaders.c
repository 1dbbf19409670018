/* SPDX-License-Identifier: Apache-2.0 */
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
#include <unistd.h>

#include <cmocka.h>

#include "kheaders.h"

#define RELEASE "6.18.44-test"

/* A scratch directory per test: DIR/lib/modules, DIR/usr/src, DIR/tmp, ... */
struct tree {
	char root[PATH_MAX];
	char modules[PATH_MAX + 16];
	char tmp[PATH_MAX + 16];
	char archive[PATH_MAX + 32];
	struct kheaders_env env;
};

static void mkdirs(const char *root, const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
}

static void put(const char *root, const char *rel, const char *text)
{
	char p[PATH_MAX * 2], dir[PATH_MAX * 2];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		mkdirs(root, dir);
	}
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* link ROOT/rel -> target; a target starting with '/' is made absolute under ROOT */
static void lnk(const char *root, const char *rel, const char *target)
{
	char p[PATH_MAX * 2], t[PATH_MAX * 2], dir[PATH_MAX * 2];

	snprintf(dir, sizeof(dir), "%s", rel);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		mkdirs(root, dir);
	}
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (target[0] == '/')
		snprintf(t, sizeof(t), "%s%s", root, target);
	else
		snprintf(t, sizeof(t), "%s", target);
	if (symlink(t, p) != 0)
		fail_msg("symlink %s: %s", p, strerror(errno));
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/sentinel-kheaders.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->modules, sizeof(t->modules), "%s/lib/modules", t->root);
	snprintf(t->tmp, sizeof(t->tmp), "%s/tmp", t->root);
	snprintf(t->archive, sizeof(t->archive), "%s/sys/kernel/kheaders.tar.xz", t->root);
	mkdirs(t->root, "lib/modules");
	mkdirs(t->root, "tmp");
	t->env = (struct kheaders_env){
		.modules_dir = t->modules,
		.release = RELEASE,
		.sys_archive = t->archive,
		.tmpdir = t->tmp,
	};
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void test_parse_utsrelease(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(kheaders_parse_utsrelease("#define UTS_RELEASE \"6.1.0-56-amd64\"\n", out,
						   sizeof(out)),
			 0);
	assert_string_equal(out, "6.1.0-56-amd64");
	/* other lines, blanks around the '#' and between the words, no newline at the end */
	assert_int_equal(kheaders_parse_utsrelease("/* generated */\n#define UTS_MACHINE \"x\"\n"
						   "  #  define\tUTS_RELEASE   \"5.15.0-91\"",
						   out, sizeof(out)),
			 0);
	assert_string_equal(out, "5.15.0-91");
	/* a longer macro name is not the one */
	assert_int_equal(
		kheaders_parse_utsrelease("#define UTS_RELEASE_X \"1\"\n", out, sizeof(out)), -1);
	assert_int_equal(kheaders_parse_utsrelease("#define UTS_RELEASE 6.1\n", out, sizeof(out)),
			 -1);
	assert_int_equal(
		kheaders_parse_utsrelease("#define UTS_RELEASE \"6.1\n\"", out, sizeof(out)), -1);
	assert_int_equal(kheaders_parse_utsrelease("#define UTS_RELEASE \"\"\n", out, sizeof(out)),
			 -1);
	assert_int_equal(kheaders_parse_utsrelease("", out, sizeof(out)), -1);
	/* too long for the buffer */
	assert_int_equal(kheaders_parse_utsrelease("#define UTS_RELEASE \"123456789\"", out, 9),
			 -1);
	assert_int_equal(kheaders_parse_utsrelease("#define UTS_RELEASE \"12345678\"", out, 9), 0);
	assert_string_equal(out, "12345678");
}

static void test_version_from_name(void **state)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
		{"/usr/src/linux-headers-6.1.0-56-amd64", "6.1.0-56-amd64"},
		{"/usr/src/linux-headers-6.1.0-56-amd64/", "6.1.0-56-amd64"},
		{"/usr/src/kernels/5.14.0-362.el9.x86_64", "5.14.0-362.el9.x86_64"},
		{"/lib/modules/6.18.4/build", "6.18.4"},
		{"/lib/modules/6.18.4/source/", "6.18.4"},
		{"/tmp/kheaders-6.6.1", "6.6.1"},
		{"/usr/src/linux-5.10.1", "5.10.1"},
		{"6.2.0", "6.2.0"},
		{"/usr/src/linux-headers-6.1.0-56-common", "6.1.0-56-common"},
		{"/usr/src/linux", NULL},
		{"/usr/src/headers", NULL},
		{"/", NULL},
		{"", NULL},
		{"build", NULL},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = kheaders_version_from_name(cases[i].path, out, sizeof(out));

		if (cases[i].want) {
			if (rc != 0 || strcmp(out, cases[i].want) != 0)
				fail_msg("'%s': rc %d '%s', want '%s'", cases[i].path, rc,
					 rc ? "" : out, cases[i].want);
		} else if (rc != -1) {
			fail_msg("'%s': rc %d '%s', want none", cases[i].path, rc, out);
		}
	}
	assert_int_equal(kheaders_version_from_name("/usr/src/linux-headers-6.1.0", out, 6), 0);
	assert_int_equal(kheaders_version_from_name("/usr/src/linux-headers-6.1.0", out, 5), -1);
}

static void test_check_path(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX * 2], where[PATH_MAX], target[PATH_MAX], want[PATH_MAX * 2];

	mkdirs(t->root, "usr/src/hdr/include");
	lnk(t->root, "good", "/usr/src/hdr");
	lnk(t->root, "bad", "/usr/src/absent");
	lnk(t->root, "rel", "usr/src/nothing"); /* relative to ROOT */
	lnk(t->root, "chain", "/bad");		/* a link to a dangling link */

	snprintf(p, sizeof(p), "%s/good/include", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_OK);

	/* the dangling link is named, with its target, even deep in the path */
	snprintf(p, sizeof(p), "%s/bad/include/linux/kconfig.h", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_DANGLING);
	snprintf(want, sizeof(want), "%s/bad", t->root);
	assert_string_equal(where, want);
	snprintf(want, sizeof(want), "%s/usr/src/absent", t->root);
	assert_string_equal(target, want);

	snprintf(p, sizeof(p), "%s/rel", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_DANGLING);
	assert_string_equal(target, "usr/src/nothing");

	snprintf(p, sizeof(p), "%s/chain/x", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_DANGLING);
	snprintf(want, sizeof(want), "%s/chain", t->root);
	assert_string_equal(where, want);

	/* the first missing component, through a good link */
	snprintf(p, sizeof(p), "%s/good/include/linux/kconfig.h", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_MISSING);
	snprintf(want, sizeof(want), "%s/good/include/linux", t->root);
	assert_string_equal(where, want);

	/* trailing and doubled slashes */
	snprintf(p, sizeof(p), "%s//good//include/", t->root);
	assert_int_equal(kheaders_check_path(p, where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_OK);
	assert_int_equal(kheaders_check_path("", where, sizeof(where), target, sizeof(target)),
			 KHEADERS_PATH_MISSING);
}

/* A Debian-style split tree: build has the generated files, source (common) the rest. */
static void debian_headers(struct tree *t, const char *version)
{
	char rel[256], uts[256];

	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-amd64/include/generated/utsrelease.h",
		 version);
	snprintf(uts, sizeof(uts), "#define UTS_RELEASE \"%s-amd64\"\n", version);
	put(t->root, rel, uts);
	snprintf(rel, sizeof(rel), "usr/src/linux-headers-%s-common/include/linux/kconfig.h",
		 version);
	put(t->root, rel, "/* kconfig */\n");
}

static void test_find_debian_split(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;
	char want[PATH_MAX * 2], real[PATH_MAX];

	debian_headers(t, "6.1.0-56");
	lnk(t->root, "lib/modules/" RELEASE "/build", "/usr/src/linux-headers-6.1.0-56-amd64");
	lnk(t->root, "lib/modules/" RELEASE "/source", "/usr/src/linux-headers-6.1.0-56-common");
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	assert_int_equal(k.kind, KHEADERS_TREE);
	assert_non_null(realpath(t->root, real)); /* /tmp may itself be a link */
	snprintf(want, sizeof(want), "%s/usr/src/linux-headers-6.1.0-56-amd64", real);
	assert_string_equal(k.path, want);
	snprintf(want, sizeof(want), "%s/usr/src/linux-headers-6.1.0-56-common", real);
	assert_string_equal(k.source, want);
	snprintf(want, sizeof(want), "%s/" RELEASE "/source", t->modules);
	assert_string_equal(k.via, want);
	assert_string_equal(k.version, "6.1.0-56-amd64");
	assert_string_equal(k.running, RELEASE);
	assert_string_equal(k.problem, "");
}

static void test_find_matching_tree(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;

	/* one tree, no utsrelease.h: the version comes from the directory's name */
	put(t->root, "usr/src/linux-headers-" RELEASE "/include/linux/kconfig.h", "\n");
	lnk(t->root, "lib/modules/" RELEASE "/build", "/usr/src/linux-headers-" RELEASE);
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	assert_int_equal(k.kind, KHEADERS_TREE);
	assert_string_equal(k.version, RELEASE);
	assert_string_equal(k.source, "");
}

static void test_find_dangling(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;
	char want[PATH_MAX * 3];

	/* the host's links are there (/lib/modules mounted), /usr/src is not */
	lnk(t->root, "lib/modules/" RELEASE "/build", "/usr/src/linux-headers-6.1.0-56-amd64");
	lnk(t->root, "lib/modules/" RELEASE "/source", "/usr/src/linux-headers-6.1.0-56-common");
	assert_int_equal(kheaders_find(&t->env, &k), -1);
	assert_int_equal(k.kind, KHEADERS_NONE);
	snprintf(want, sizeof(want),
		 "%s/" RELEASE
		 "/build is a dangling symlink to %s/usr/src/linux-headers-6.1.0-56-amd64",
		 t->modules, t->root);
	if (!strstr(k.problem, want))
		fail_msg("problem '%s' does not name '%s'", k.problem, want);
	snprintf(want, sizeof(want), "%s/" RELEASE "/source is a dangling symlink", t->modules);
	if (!strstr(k.problem, want))
		fail_msg("problem '%s' does not name '%s'", k.problem, want);
	/* libbcc tries build when source is not a directory */
	snprintf(want, sizeof(want), "%s/" RELEASE "/build", t->modules);
	assert_string_equal(k.via, want);
}

static void test_find_no_modules_dir(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;
	char want[PATH_MAX * 2];

	assert_int_equal(kheaders_find(&t->env, &k), -1);
	snprintf(want, sizeof(want), "%s/" RELEASE " does not exist", t->modules);
	assert_string_equal(k.problem, want);
}

static void test_find_incomplete_tree(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;

	/* Debian's -amd64 tree alone: no kconfig.h; a missing source is not reported */
	debian_headers(t, "6.1.0-56");
	lnk(t->root, "lib/modules/" RELEASE "/build", "/usr/src/linux-headers-6.1.0-56-amd64");
	assert_int_equal(kheaders_find(&t->env, &k), -1);
	if (!strstr(k.problem, "/build has no include/linux/kconfig.h") ||
	    strstr(k.problem, "source"))
		fail_msg("problem: '%s'", k.problem);
}

static void test_find_env_and_suffix(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;
	char src[PATH_MAX * 2], want[PATH_MAX * 3];

	debian_headers(t, "6.1.0-56");
	put(t->root, "opt/k/include/linux/kconfig.h", "\n");
	put(t->root, "opt/k/include/generated/utsrelease.h",
	    "#define UTS_RELEASE \"" RELEASE "\"\n");
	snprintf(src, sizeof(src), "%s/opt/k", t->root);
	t->env.kernel_source = src;
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	assert_int_equal(k.kind, KHEADERS_TREE);
	assert_string_equal(k.version, RELEASE);
	snprintf(want, sizeof(want), "BCC_KERNEL_SOURCE=%s", src);
	assert_string_equal(k.via, want);

	/* set but pointing nowhere: no fallback to /lib/modules, as in libbcc */
	snprintf(src, sizeof(src), "%s/opt/nothing", t->root);
	lnk(t->root, "lib/modules/" RELEASE "/build", "/opt/k");
	assert_int_equal(kheaders_find(&t->env, &k), -1);
	snprintf(want, sizeof(want), "%s/opt/nothing does not exist", t->root);
	assert_string_equal(k.problem, want);

	t->env.kernel_source = "";
	assert_int_equal(kheaders_find(&t->env, &k), -1);
	assert_string_equal(k.problem, "BCC_KERNEL_SOURCE is set but empty");

	/* BCC_KERNEL_MODULES_SUFFIX replaces "build" */
	t->env.kernel_source = NULL;
	t->env.modules_suffix = "kbuild";
	assert_int_equal(kheaders_find(&t->env, &k), -1);
	lnk(t->root, "lib/modules/" RELEASE "/kbuild", "/opt/k");
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	snprintf(want, sizeof(want), "%s/" RELEASE "/kbuild", t->modules);
	assert_string_equal(k.via, want);
}

static void test_find_ikheaders(void **state)
{
	struct tree *t = *state;
	struct kheaders_info k;
	char want[PATH_MAX * 2];

	/* the archive in sysfs */
	put(t->root, "sys/kernel/kheaders.tar.xz", "xz");
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	assert_int_equal(k.kind, KHEADERS_ARCHIVE);
	assert_string_equal(k.path, t->archive);
	assert_string_equal(k.version, RELEASE);
	/* why the tree was not used is still said */
	assert_true(strstr(k.problem, "does not exist") != NULL);

	/* an earlier extraction wins */
	put(t->root, "tmp/kheaders-" RELEASE "/include/generated/utsrelease.h",
	    "#define UTS_RELEASE \"" RELEASE "\"\n");
	assert_int_equal(kheaders_find(&t->env, &k), 0);
	assert_int_equal(k.kind, KHEADERS_EXTRACTED);
	snprintf(want, sizeof(want), "%s/kheaders-" RELEASE, t->tmp);
	assert_string_equal(k.path, want);
	assert_string_equal(k.version, RELEASE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_utsrelease),
		cmocka_unit_test(test_version_from_name),
		cmocka_unit_test_setup_teardown(test_check_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_debian_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_matching_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_dangling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_no_modules_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_incomplete_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_env_and_suffix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_ikheaders, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
