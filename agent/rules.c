/* SPDX-License-Identifier: Apache-2.0 */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "yamldoc.h"

/* The kernel side's limits must be ours; found relative to this file. */
#if defined(__has_include)
#if __has_include("../probes/event.h")
#include "../probes/event.h"
_Static_assert(RULES_MAX_ENABLED == SE_MAX_RULES, "one verdict bit per enabled rule");
_Static_assert(RULES_COMM_LEN == SE_COMM_LEN, "comm length as the kernel stores it");
#endif
#endif

static const char default_rules[] = "# Built in: every event of every file.\n"
				    "rules:\n"
				    "  - name: all-reads\n"
				    "    event: file_read\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n"
				    "  - name: all-writes\n"
				    "    event: file_write\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n"
				    "  - name: all-truncations\n"
				    "    event: file_truncate\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n"
				    "  - name: all-writable-mappings\n"
				    "    event: file_mmap\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n"
				    "  - name: all-renames\n"
				    "    event: file_rename\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n"
				    "  - name: all-links\n"
				    "    event: file_link\n"
				    "    match:\n"
				    "      pathPrefixes: [\"/\"]\n";

static const char *const top_keys[] = {"rules", NULL};
static const char *const rule_keys[] = {"name", "enabled", "event", "match", NULL};
static const char *const match_keys[] = {"pathPrefixes", "comms", NULL};

const char *rules_default_text(void)
{
	return default_rules;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rule_free(struct rule *r)
{
	free(r->name);
	free_strv(r->prefixes, r->n_prefixes);
	free_strv(r->comms, r->n_comms);
}

int rules_require_some(const struct ruleset *rs, char *err, size_t errcap)
{
	if (rs->n_enabled)
		return 0;
	if (rs->n)
		snprintf(err, errcap,
			 "%s: no enabled rule (%zu rule%s, all disabled): the agent would watch "
			 "nothing; set allowEmptyRules: true in the agent config to allow it",
			 rs->source, rs->n, rs->n == 1 ? "" : "s");
	else
		snprintf(err, errcap,
			 "%s: no rules: the agent would watch nothing; set allowEmptyRules: true "
			 "in the agent config to allow it",
			 rs->source);
	return -1;
}

void rules_free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	free(rs->source);
	memset(rs, 0, sizeof(*rs));
}

/* ---- parsing ---- */

static void warn_truncated(const struct ydoc *d, const yaml_node_t *n, const char *rule,
			   const char *comm)
{
	char at[320], qat[400], qrule[160], qcomm[160], qkept[80], kept[RULES_COMM_LEN];

	snprintf(at, sizeof(at), "%s:%lu:%lu", d->name, ydoc_line(n), ydoc_col(n));
	memcpy(kept, comm, RULES_COMM_LEN - 1);
	kept[RULES_COMM_LEN - 1] = '\0';
	log_warn("rule comm longer than the kernel keeps: truncated to 15 bytes",
		 "at=%s rule=%s comm=%s kept=%s", log_quote(qat, sizeof(qat), at),
		 log_quote(qrule, sizeof(qrule), rule), log_quote(qcomm, sizeof(qcomm), comm),
		 log_quote(qkept, sizeof(qkept), kept));
}

/*
 * A list of non-empty strings (prefixes absolute); absent or null is empty. Comms are cut to
 * what the kernel keeps of a task's name (bytes, not characters, as it
 * does), or they could never match.
 */
static int parse_strv(struct ydoc *d, const yaml_node_t *seq, const char *what, bool comm,
		      const char *rule, char ***out, size_t *n_out)
{
	char item[96];
	size_t n = 0, len;
	char **v = NULL;

	if (ydoc_expect_seq(d, seq, what))
		return -1;
	n = ydoc_len(seq);
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return ydoc_errf(d, seq, "%s: out of memory", what);
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *e = ydoc_item(d, seq, i);
		const char *s;

		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		if (ydoc_str(d, e, item, &s))
			goto err;
		if (!*s) {
			ydoc_expected(d, e, item, "a non-empty string");
			goto err;
		}
		/* Events name files by absolute paths: "etc/" could never match,
		 * and a rule that watches nothing must not pass for one that does. */
		if (!comm && *s != '/') {
			ydoc_expected(d, e, item, "an absolute path (starting with \"/\")");
			goto err;
		}
		len = strlen(s);
		if (comm && len > RULES_COMM_LEN - 1) {
			warn_truncated(d, e, rule, s);
			len = RULES_COMM_LEN - 1;
		}
		v[i] = strndup(s, len);
		if (!v[i]) {
			ydoc_errf(d, e, "%s: out of memory", item);
			goto err;
		}
	}
	*out = v;
	*n_out = n;
	return 0;

err:
	free_strv(v, n);
	return -1;
}

static int parse_event(struct ydoc *d, const yaml_node_t *n, const char *what, enum ev_type *out)
{
	const char *s;

	if (ydoc_str(d, n, what, &s))
		return -1;
	int t = ev_type_parse(s);

	if (t < 0)
		return ydoc_expected(d, n, what,
				     "file_read, file_write, file_truncate, file_mmap, file_rename "
				     "or file_link");
	*out = (enum ev_type)t;
	return 0;
}

/* Fills @r; on error the caller frees what @r holds. */
static int parse_rule(struct ydoc *d, const yaml_node_t *n, size_t idx, struct rule *r)
{
	char what[32], sub[64];
	const yaml_node_t *v;
	const char *s;

	r->enabled = true;
	r->bit = -1;
	snprintf(what, sizeof(what), "rules[%zu]", idx);
	if (ydoc_expect_map(d, n, what) || ydoc_check_keys(d, n, what, rule_keys))
		return -1;

	v = ydoc_get(d, n, "name");
	if (!v)
		return ydoc_errf(d, n, "%s: missing required key \"name\"", what);
	snprintf(sub, sizeof(sub), "%s.name", what);
	if (ydoc_str(d, v, sub, &s))
		return -1;
	if (!*s)
		return ydoc_expected(d, v, sub, "a non-empty string");
	r->name = strdup(s);
	if (!r->name)
		return ydoc_errf(d, v, "%s: out of memory", sub);

	v = ydoc_get(d, n, "enabled");
	snprintf(sub, sizeof(sub), "%s.enabled", what);
	if (v && ydoc_bool(d, v, sub, &r->enabled))
		return -1;

	v = ydoc_get(d, n, "event");
	if (!v)
		return ydoc_errf(d, n, "%s: missing required key \"event\"", what);
	snprintf(sub, sizeof(sub), "%s.event", what);
	if (parse_event(d, v, sub, &r->event))
		return -1;

	v = ydoc_get(d, n, "match");
	snprintf(sub, sizeof(sub), "%s.match", what);
	if (ydoc_expect_map(d, v, sub) || ydoc_check_keys(d, v, sub, match_keys))
		return -1;
	snprintf(sub, sizeof(sub), "%s.match.pathPrefixes", what);
	if (parse_strv(d, ydoc_get(d, v, "pathPrefixes"), sub, false, r->name, &r->prefixes,
		       &r->n_prefixes))
		return -1;
	snprintf(sub, sizeof(sub), "%s.match.comms", what);
	return parse_strv(d, ydoc_get(d, v, "comms"), sub, true, r->name, &r->comms, &r->n_comms);
}

/* Names identify rules in events: two rules of one name would be ambiguous. */
static int check_unique(struct ydoc *d, const yaml_node_t *seq, const struct ruleset *rs, size_t i)
{
	char what[48];

	for (size_t j = 0; j < i; j++) {
		if (strcmp(rs->rules[j].name, rs->rules[i].name))
			continue;
		snprintf(what, sizeof(what), "rules[%zu].name", i);
		return ydoc_errf(d, ydoc_get(d, ydoc_item(d, seq, i), "name"),
				 "%s: duplicate rule name \"%s\" (first at line %lu)", what,
				 rs->rules[i].name,
				 ydoc_line(ydoc_get(d, ydoc_item(d, seq, j), "name")));
	}
	return 0;
}

/* Builds the set aside: on error *rs stays zeroed and nothing is held. */
static int load(struct ruleset *rs, struct ydoc *d)
{
	const yaml_node_t *root = ydoc_root(d), *seq;
	struct ruleset tmp = {0};

	if (ydoc_expect_map(d, root, NULL) || ydoc_check_keys(d, root, NULL, top_keys))
		return -1;
	seq = ydoc_get(d, root, "rules");
	if (ydoc_expect_seq(d, seq, "rules"))
		return -1;
	tmp.source = strdup(d->name);
	if (!tmp.source)
		return ydoc_errf(d, root, "out of memory");
	tmp.n = ydoc_len(seq);
	if (tmp.n) {
		tmp.rules = calloc(tmp.n, sizeof(*tmp.rules));
		if (!tmp.rules) {
			tmp.n = 0;
			ydoc_errf(d, seq, "out of memory");
			goto err;
		}
	}
	for (size_t i = 0; i < tmp.n; i++) {
		const yaml_node_t *item = ydoc_item(d, seq, i);
		struct rule *r = &tmp.rules[i];

		if (parse_rule(d, item, i, r) || check_unique(d, seq, &tmp, i))
			goto err;
		if (!r->enabled)
			continue;
		if (tmp.n_enabled == RULES_MAX_ENABLED) {
			ydoc_errf(d, item,
				  "rules[%zu]: too many enabled rules, the limit is %d "
				  "(disable or merge some)",
				  i, RULES_MAX_ENABLED);
			goto err;
		}
		r->bit = (int)tmp.n_enabled;
		tmp.by_bit[tmp.n_enabled++] = r;
	}
	*rs = tmp;
	return 0;

err:
	rules_free(&tmp);
	return -1;
}

int rules_load_file(struct ruleset *rs, const char *path, char *err, size_t errcap)
{
	struct ydoc d;
	int ret;

	memset(rs, 0, sizeof(*rs));
	if (ydoc_load_file(&d, path, err, errcap))
		return -1;
	ret = load(rs, &d);
	ydoc_free(&d);
	return ret;
}

int rules_load_string(struct ruleset *rs, const char *text, const char *name, char *err,
		      size_t errcap)
{
	struct ydoc d;
	int ret;

	memset(rs, 0, sizeof(*rs));
	if (ydoc_load_string(&d, text, text ? strlen(text) : 0, name, err, errcap))
		return -1;
	ret = load(rs, &d);
	ydoc_free(&d);
	return ret;
}

/* ---- matching ---- */

/* Python's str.startswith on bytes: the prefix may end mid-component. */
static bool has_prefix(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

uint64_t rules_path_mask(const struct ruleset *rs, const char *path)
{
	uint64_t mask = 0;

	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];
		bool hit = r->n_prefixes == 0;

		for (size_t i = 0; i < r->n_prefixes && !hit; i++)
			hit = has_prefix(path, r->prefixes[i]);
		if (hit)
			mask |= 1ULL << b;
	}
	return mask;
}

/* Compared as the kernel would see @comm: at most its first 15 bytes. */
static bool comm_listed(const struct rule *r, const char *comm)
{
	if (!r->n_comms)
		return true;
	for (size_t i = 0; i < r->n_comms; i++)
		if (strncmp(r->comms[i], comm, RULES_COMM_LEN - 1) == 0)
			return true;
	return false;
}

uint64_t rules_match(const struct ruleset *rs, enum ev_type ev, const char *comm,
		     uint64_t path_mask)
{
	uint64_t mask = 0;

	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];

		if ((path_mask >> b & 1) && r->event == ev && comm_listed(r, comm))
			mask |= 1ULL << b;
	}
	return mask;
}

void rules_kernel_masks(const struct ruleset *rs, uint64_t type_mask[EV_TYPES], uint64_t *anycomm,
			uint64_t *comm_rules)
{
	memset(type_mask, 0, EV_TYPES * sizeof(*type_mask));
	*anycomm = *comm_rules = 0;
	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];

		type_mask[r->event] |= 1ULL << b;
		if (r->n_comms)
			*comm_rules |= 1ULL << b;
		else
			*anycomm |= 1ULL << b;
	}
}

static int cmp_comm(const void *a, const void *b)
{
	return memcmp(((const struct rules_comm_mask *)a)->comm,
		      ((const struct rules_comm_mask *)b)->comm, RULES_COMM_LEN);
}

size_t rules_comm_masks(const struct ruleset *rs, struct rules_comm_mask **out)
{
	struct rules_comm_mask *v;
	size_t total = 0, n = 0;

	*out = NULL;
	for (unsigned b = 0; b < rs->n_enabled; b++)
		total += rs->by_bit[b]->n_comms;
	if (!total)
		return 0;
	/* calloc: comms are NUL-padded, as the kernel's map keys are. */
	v = calloc(total, sizeof(*v));
	if (!v) {
		log_error("out of memory building the comm filter", "comms=%zu", total);
		return 0;
	}
	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];

		for (size_t i = 0; i < r->n_comms; i++, n++) {
			memcpy(v[n].comm, r->comms[i], strlen(r->comms[i]));
			v[n].mask = 1ULL << b;
		}
	}
	/* Sort, then fold equal comms: linear in rules x comms, not quadratic. */
	qsort(v, total, sizeof(*v), cmp_comm);
	n = 0;
	for (size_t i = 0; i < total; i++) {
		if (n && memcmp(v[n - 1].comm, v[i].comm, RULES_COMM_LEN) == 0)
			v[n - 1].mask |= v[i].mask;
		else
			v[n++] = v[i];
	}
	*out = v;
	return n;
}

/* ---- printing ---- */

static void print_list(FILE *out, const char *key, char *const *v, size_t n)
{
	fprintf(out, "      %s: [", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		ydoc_print_str(out, v[i]);
	}
	fputs("]\n", out);
}

void rules_print(const struct ruleset *rs, FILE *out)
{
	fputs("# source: ", out);
	ydoc_print_str(out, rs->source ? rs->source : "");
	fprintf(out, "\n# %u enabled of %zu rules\n", rs->n_enabled, rs->n);
	if (!rs->n) {
		fputs("rules: []\n", out);
		return;
	}
	fputs("rules:\n", out);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];

		fputs("  - name: ", out);
		ydoc_print_str(out, r->name);
		if (r->bit >= 0)
			fprintf(out, "  # bit %d\n", r->bit);
		else
			fputs("  # disabled: no bit\n", out);
		fprintf(out, "    enabled: %s\n    event: %s\n    match:\n",
			r->enabled ? "true" : "false", ev_type_name(r->event));
		print_list(out, "pathPrefixes", r->prefixes, r->n_prefixes);
		print_list(out, "comms", r->comms, r->n_comms);
	}
}
