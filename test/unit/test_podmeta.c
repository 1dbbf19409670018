/* SPDX-License-Identifier: Apache-2.0 */
/* Container id -> pod from OCI bundles: parsing, name checks, the cache. */
#include <errno.h>
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

#include "podmeta.h"

#define ID_A "4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define ID_B "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define S 1000000000ull
/* A CRI-O style config.json naming pod @name in namespace @ns. */
#define CRIO(name, ns)                                                                             \
	"{\"annotations\":{\"io.kubernetes.pod.name\":\"" name "\","                               \
	"\"io.kubernetes.pod.namespace\":\"" ns "\"}}"

static enum podmeta_result parse(const char *json, struct podmeta_pod *out)
{
	return podmeta_parse(json, strlen(json), out);
}

static void test_parse_runtimes(void **state)
{
	struct podmeta_pod p;

	(void)state;
	/* containerd's CRI plugin */
	assert_int_equal(parse("{\"ociVersion\":\"1.1.0\",\"annotations\":{"
			       "\"io.kubernetes.cri.container-type\":\"container\","
			       "\"io.kubernetes.cri.sandbox-name\":\"web-7f9c-x2x\","
			       "\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}",
			       &p),
			 PODMETA_FOUND);
	assert_string_equal(p.name, "web-7f9c-x2x");
	assert_string_equal(p.ns, "shop");
	/* CRI-O and podman */
	assert_int_equal(parse("{\"annotations\":{\"io.kubernetes.pod.name\":\"db-0.a\","
			       "\"io.kubernetes.pod.namespace\":\"kube-system\"}}",
			       &p),
			 PODMETA_FOUND);
	assert_string_equal(p.name, "db-0.a");
	assert_string_equal(p.ns, "kube-system");
	/* a name without its namespace is no pod; the other pair still counts */
	assert_int_equal(
		parse("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"a\","
		      "\"io.kubernetes.pod.name\":\"b\",\"io.kubernetes.pod.namespace\":\"c\"}}",
		      &p),
		PODMETA_FOUND);
	assert_string_equal(p.name, "b");
	assert_string_equal(p.ns, "c");
}

static void test_parse_no_pod(void **state)
{
	static const char *const cases[] = {
		"{}",
		"{\"annotations\":{}}",
		"{\"annotations\":[]}",
		"{\"annotations\":{\"io.kubernetes.pod.name\":\"web\"}}",
		"{\"annotations\":{\"io.kubernetes.pod.name\":7,\"io.kubernetes.pod.namespace\":"
		"\"a\"}}",
		/* names Kubernetes would refuse: not passed on */
		CRIO("Web", "a"),
		CRIO("a", "a.b"),
		CRIO("-a", "a"),
		CRIO("a-", "a"),
		CRIO("a..b", "a"),
		CRIO("a-.b", "a"),
		CRIO("", "a"),
		CRIO("a\\u0000b", "a"),
		CRIO("a\\nb", "a"),
		CRIO("a b", "a"),
	};
	struct podmeta_pod p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 'x', sizeof(p));
		assert_int_equal(parse(cases[i], &p), PODMETA_NO_POD);
		assert_string_equal(p.name, "");
		assert_string_equal(p.ns, "");
	}
}

static void test_parse_invalid(void **state)
{
	static const char *const cases[] = {
		"", "[]", "\"annotations\"", "{\"annotations\":", "not json", "{\"a\":1,}",
	};
	char deep[200];
	struct podmeta_pod p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(parse(cases[i], &p), PODMETA_INVALID);
	/* nesting beyond the tokenizer's bound is refused, not recursed into */
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(parse(deep, &p), PODMETA_INVALID);
	/* the length given is the text: no NUL needed, nothing read past it */
	assert_int_equal(podmeta_parse("{}xyz", 2, &p), PODMETA_NO_POD);
}

static void test_name_lengths(void **state)
{
	char json[1024], name[300], ns[80];
	struct podmeta_pod p;

	(void)state;
	memset(name, 'a', PODMETA_NAME_MAX);
	name[PODMETA_NAME_MAX] = '\0';
	memset(ns, 'b', PODMETA_NS_MAX);
	ns[PODMETA_NS_MAX] = '\0';
	snprintf(json, sizeof(json),
		 "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"%s\"}}",
		 name, ns);
	assert_int_equal(parse(json, &p), PODMETA_FOUND);
	assert_int_equal(strlen(p.name), PODMETA_NAME_MAX);
	assert_int_equal(strlen(p.ns), PODMETA_NS_MAX);
	strcat(name, "a");
	snprintf(json, sizeof(json),
		 "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"%s\"}}",
		 name, ns);
	assert_int_equal(parse(json, &p), PODMETA_NO_POD);
	name[PODMETA_NAME_MAX] = '\0';
	strcat(ns, "b");
	snprintf(json, sizeof(json),
		 "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\","
		 "\"io.kubernetes.pod.namespace\":\"%s\"}}",
		 name, ns);
	assert_int_equal(parse(json, &p), PODMETA_NO_POD);
}

static void test_bundle_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(podmeta_bundle_path("/r/{id}/config.json", "abc", out, sizeof(out)), 0);
	assert_string_equal(out, "/r/abc/config.json");
	assert_int_equal(podmeta_bundle_path("/r/config.json", "abc", out, sizeof(out)), -EINVAL);
	assert_int_equal(podmeta_bundle_path("/r/{id}/config.json", "abc", out, 10), -ENAMETOOLONG);
}

static void test_new_rejects(void **state)
{
	const char *rel[] = {"run/{id}/config.json"};
	const char *none[] = {"/run/config.json"};
	const char *two[] = {"/run/{id}/{id}.json"};
	struct podmeta *pm = (struct podmeta *)1;

	(void)state;
	assert_int_equal(podmeta_new(&pm, rel, 1, 8), -EINVAL);
	assert_null(pm);
	assert_int_equal(podmeta_new(&pm, none, 1, 8), -EINVAL);
	assert_int_equal(podmeta_new(&pm, two, 1, 8), -EINVAL);
	assert_int_equal(podmeta_new(&pm, rel, PODMETA_MAX_PATHS + 1, 8), -EINVAL);
	assert_int_equal(podmeta_new(&pm, rel, 0, 0), -EINVAL);
}

/* A bundle directory per runtime under a temporary root. */
struct fixture {
	char root[64];
	char tmpl[2][160];
};

static void write_bundle(const struct fixture *f, int runtime, const char *id, const char *json)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/rt%d/%s", f->root, runtime, id);
	mkdir(path, 0700);
	strcat(path, "/config.json");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(json, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char d[96];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test_podmeta.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	for (int i = 0; i < 2; i++) {
		snprintf(d, sizeof(d), "%s/rt%d", f->root, i);
		assert_int_equal(mkdir(d, 0700), 0);
		snprintf(f->tmpl[i], sizeof(f->tmpl[i]), "%s/{id}/config.json", d);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_lookup(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = {f->tmpl[0], f->tmpl[1]};
	const struct podmeta_pod *p;
	const struct podmeta_stats *st;
	struct podmeta *pm;

	assert_int_equal(podmeta_new(&pm, paths, 2, 8), 0);
	st = podmeta_stats(pm);
	/* no container, or not an id: nothing read */
	assert_string_equal(podmeta_lookup(pm, "", 1 * S)->name, "");
	assert_string_equal(podmeta_lookup(pm, "abc", 1 * S)->name, "");
	assert_int_equal(podmeta_entries(pm), 0);

	/* the second runtime's bundle is found when the first has none */
	write_bundle(f, 1, ID_A,
		     "{\"annotations\":{\"io.kubernetes.pod.name\":\"web-0\","
		     "\"io.kubernetes.pod.namespace\":\"shop\"}}");
	p = podmeta_lookup(pm, ID_A, 1 * S);
	assert_string_equal(p->name, "web-0");
	assert_string_equal(p->ns, "shop");
	assert_int_equal(st->reads[PODMETA_FOUND], 1);
	/* cached: the file is not read again, even once it changed */
	write_bundle(f, 1, ID_A, "{}");
	p = podmeta_lookup(pm, ID_A, 100 * S);
	assert_string_equal(p->name, "web-0");
	assert_int_equal(st->reads[PODMETA_FOUND], 1);

	/* no bundle yet: empty, asked again only after PODMETA_RETRY_NS */
	p = podmeta_lookup(pm, ID_B, 1 * S);
	assert_string_equal(p->name, "");
	assert_int_equal(st->reads[PODMETA_MISSING], 1);
	write_bundle(f, 0, ID_B,
		     "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"job-1\","
		     "\"io.kubernetes.cri.sandbox-namespace\":\"batch\"}}");
	p = podmeta_lookup(pm, ID_B, 1 * S + PODMETA_RETRY_NS - 1);
	assert_string_equal(p->name, "");
	assert_int_equal(st->reads[PODMETA_MISSING], 1);
	p = podmeta_lookup(pm, ID_B, 1 * S + PODMETA_RETRY_NS);
	assert_string_equal(p->name, "job-1");
	assert_string_equal(p->ns, "batch");
	assert_int_equal(st->reads[PODMETA_FOUND], 2);
	assert_int_equal(podmeta_entries(pm), 2);
	podmeta_free(pm);
}

static void test_no_pod_kept_invalid_retried(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = {f->tmpl[0]};
	const struct podmeta_stats *st;
	struct podmeta *pm;

	assert_int_equal(podmeta_new(&pm, paths, 1, 8), 0);
	st = podmeta_stats(pm);
	write_bundle(f, 0, ID_A, "{\"annotations\":{\"io.container.manager\":\"libpod\"}}");
	write_bundle(f, 0, ID_B, "{\"annotations\":");
	for (int i = 0; i < 3; i++) {
		assert_string_equal(podmeta_lookup(pm, ID_A, (uint64_t)i * 60 * S)->name, "");
		assert_string_equal(podmeta_lookup(pm, ID_B, (uint64_t)i * 60 * S)->name, "");
	}
	/* a bundle's annotations do not change: no pod is final; one that was
	 * not JSON (caught while written?) is read again after the retry time */
	assert_int_equal(st->reads[PODMETA_NO_POD], 1);
	assert_int_equal(st->reads[PODMETA_INVALID], 3);
	write_bundle(f, 0, ID_B, CRIO("late", "x"));
	assert_string_equal(podmeta_lookup(pm, ID_B, 121 * S)->name, "");
	assert_string_equal(podmeta_lookup(pm, ID_B, 120 * S + PODMETA_RETRY_NS)->name, "late");
	podmeta_free(pm);
}

/* Past max_entries the oldest entry is forgotten, then read again. */
static void test_eviction(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = {f->tmpl[0]};
	const struct podmeta_stats *st;
	struct podmeta *pm;
	char id[65];

	assert_int_equal(podmeta_new(&pm, paths, 1, 4), 0);
	st = podmeta_stats(pm);
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "%064d", i);
		assert_string_equal(podmeta_lookup(pm, id, 1 * S)->name, "");
	}
	assert_int_equal(podmeta_entries(pm), 4);
	assert_int_equal(st->reads[PODMETA_MISSING], 6);
	/* 4 and 5 still cached; 0 was forgotten and is read again */
	snprintf(id, sizeof(id), "%064d", 5);
	podmeta_lookup(pm, id, 2 * S);
	assert_int_equal(st->reads[PODMETA_MISSING], 6);
	snprintf(id, sizeof(id), "%064d", 0);
	podmeta_lookup(pm, id, 2 * S);
	assert_int_equal(st->reads[PODMETA_MISSING], 7);
	assert_int_equal(podmeta_entries(pm), 4);
	podmeta_free(pm);

	/* room for one: the entry last looked up is the one forgotten (ASan
	 * would see a stale pointer to it used) */
	assert_int_equal(podmeta_new(&pm, paths, 1, 1), 0);
	st = podmeta_stats(pm);
	write_bundle(f, 0, ID_A, CRIO("a", "x"));
	write_bundle(f, 0, ID_B, CRIO("b", "y"));
	assert_string_equal(podmeta_lookup(pm, ID_A, 1 * S)->name, "a");
	assert_string_equal(podmeta_lookup(pm, ID_B, 1 * S)->name, "b");
	assert_string_equal(podmeta_lookup(pm, ID_B, 1 * S)->ns, "y");
	assert_string_equal(podmeta_lookup(pm, ID_A, 1 * S)->ns, "x");
	assert_int_equal(st->reads[PODMETA_FOUND], 3);
	assert_int_equal(podmeta_entries(pm), 1);
	podmeta_free(pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_runtimes),
		cmocka_unit_test(test_parse_no_pod),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_bundle_path),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pod_kept_invalid_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
