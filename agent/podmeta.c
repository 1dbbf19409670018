/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container id -> pod, from the runtime's OCI bundle (podmeta.h).
 *
 * The cache is a uthash table in insertion order: when full, the oldest
 * entry goes, whatever its use. Entries are small and a forgotten one costs
 * one more file read, so no LRU bookkeeping on the per-event path.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "log.h"
#include "podmeta.h"
#include "yamldoc.h"

#define ID_LEN 64
/* config.json nests a few levels; the tokenizer's default depth is 32.
 * Nothing we read is deeper than 2: a small bound rejects hostile nesting
 * early. */
#define JSON_MAX_DEPTH 16

struct pm_entry {
	char id[ID_LEN + 1];
	struct podmeta_pod pod;
	bool retry; /* no bundle, or none we could read: look again at @retry_ns */
	uint64_t retry_ns;
	UT_hash_handle hh;
};

struct podmeta {
	char *paths[PODMETA_MAX_PATHS];
	size_t n_paths;
	size_t max_entries;
	struct pm_entry *entries;
	struct pm_entry *last; /* the last one looked up: events come in runs */
	size_t n_entries;
	struct podmeta_stats stats;
	struct podmeta_pod none; /* what "unknown" points to */
};

int podmeta_bundle_path(const char *tmpl, const char *id, char *out, size_t cap)
{
	const char *at = strstr(tmpl, "{id}");
	int n;

	if (!at)
		return -EINVAL;
	n = snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, id, at + 4);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int podmeta_new(struct podmeta **out, const char *const *paths, size_t n_paths, size_t max_entries)
{
	struct podmeta *pm;

	*out = NULL;
	if (n_paths > PODMETA_MAX_PATHS || !max_entries)
		return -EINVAL;
	for (size_t i = 0; i < n_paths; i++)
		if (!podmeta_path_ok(paths[i]))
			return -EINVAL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->max_entries = max_entries;
	for (size_t i = 0; i < n_paths; i++) {
		pm->paths[i] = strdup(paths[i]);
		if (!pm->paths[i]) {
			podmeta_free(pm);
			return -ENOMEM;
		}
		pm->n_paths++;
	}
	*out = pm;
	return 0;
}

void podmeta_free(struct podmeta *pm)
{
	struct pm_entry *e, *tmp;

	if (!pm)
		return;
	HASH_ITER (hh, pm->entries, e, tmp) {
		HASH_DEL(pm->entries, e);
		free(e);
	}
	for (size_t i = 0; i < pm->n_paths; i++)
		free(pm->paths[i]);
	free(pm);
}

/* DNS-1123: a label is [a-z0-9]([-a-z0-9]*[a-z0-9])?; a subdomain is labels
 * joined by dots. Kubernetes requires this of pod names (subdomain, <= 253)
 * and namespaces (label, <= 63). */
static bool dns1123(const char *s, size_t len, size_t max, bool dots)
{
	size_t label = 0;

	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (c == '.' && dots) {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (c == '-' && !label)
			return false;
		label++;
	}
	return label && s[len - 1] != '-';
}

/* Copies annotation @key of @ann into @dst when it is a valid name. */
static bool take(json_object *ann, const char *key, char *dst, size_t max, bool dots)
{
	json_object *v;
	const char *s;
	int len;

	if (!json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len < 0 || !dns1123(s, (size_t)len, max, dots))
		return false;
	memcpy(dst, s, (size_t)len);
	dst[len] = '\0';
	return true;
}

/* containerd's CRI plugin, then CRI-O's (which podman writes too). */
static const char *const name_keys[][2] = {
	{"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace"},
	{"io.kubernetes.pod.name", "io.kubernetes.pod.namespace"},
};

enum podmeta_result podmeta_parse(const char *text, size_t len, struct podmeta_pod *out)
{
	enum podmeta_result r = PODMETA_INVALID;
	json_tokener *tok;
	json_object *root, *ann;

	memset(out, 0, sizeof(*out));
	if (len > (size_t)INT32_MAX)
		return PODMETA_INVALID;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return PODMETA_INVALID;
	/* Runtimes write RFC 8259 JSON (Go's encoding/json): nothing lenient. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object))
		goto cleanup;
	r = PODMETA_NO_POD;
	if (!json_object_object_get_ex(root, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object))
		goto cleanup;
	for (size_t i = 0; i < sizeof(name_keys) / sizeof(name_keys[0]); i++) {
		if (take(ann, name_keys[i][0], out->name, PODMETA_NAME_MAX, true) &&
		    take(ann, name_keys[i][1], out->ns, PODMETA_NS_MAX, false)) {
			r = PODMETA_FOUND;
			goto cleanup;
		}
		memset(out, 0, sizeof(*out));
	}
cleanup:
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}

/* The first bundle found among the templates, parsed into @e. */
static enum podmeta_result read_bundle(struct podmeta *pm, struct pm_entry *e)
{
	char path[4096], err[512], q[600];
	enum podmeta_result r;
	char *buf;
	size_t len;

	for (size_t i = 0; i < pm->n_paths; i++) {
		int rc;

		if (podmeta_bundle_path(pm->paths[i], e->id, path, sizeof(path)))
			continue;
		rc = ydoc_read_file(path, &buf, &len, err, sizeof(err));
		if (rc == -ENOENT || rc == -ENOTDIR)
			continue;
		if (rc) {
			log_debug("pod lookup: bundle unreadable", "error=%s",
				  log_quote(q, sizeof(q), err));
			return PODMETA_INVALID;
		}
		r = podmeta_parse(buf, len, &e->pod);
		free(buf);
		if (r == PODMETA_INVALID)
			log_debug("pod lookup: bundle is not a JSON object", "path=%s", path);
		return r;
	}
	return PODMETA_MISSING;
}

static void forget_oldest(struct podmeta *pm)
{
	struct pm_entry *e = pm->entries; /* uthash keeps insertion order */

	if (pm->last == e)
		pm->last = NULL;
	HASH_DEL(pm->entries, e);
	free(e);
	pm->n_entries--;
}

static bool fresh(const struct pm_entry *e, uint64_t now_ns)
{
	return !(e->retry && now_ns >= e->retry_ns);
}

const struct podmeta_pod *podmeta_lookup(struct podmeta *pm, const char *id, uint64_t now_ns)
{
	struct pm_entry *e = pm->last;
	enum podmeta_result r;

	if (!pm->n_paths || !id || strnlen(id, ID_LEN + 1) != ID_LEN)
		return &pm->none;
	/* ~8 ns for the same container as the last event, ~60-70 through the hash
	 * (sentinel-podmeta-bench) */
	if (e && memcmp(e->id, id, ID_LEN) == 0 && fresh(e, now_ns))
		return &e->pod;
	HASH_FIND(hh, pm->entries, id, ID_LEN, e);
	if (e && fresh(e, now_ns)) {
		pm->last = e;
		return &e->pod;
	}
	if (!e) {
		if (pm->n_entries >= pm->max_entries)
			forget_oldest(pm);
		e = calloc(1, sizeof(*e));
		if (!e)
			return &pm->none;
		memcpy(e->id, id, ID_LEN + 1);
		HASH_ADD(hh, pm->entries, id, ID_LEN, e);
		pm->n_entries++;
	}
	r = read_bundle(pm, e);
	pm->stats.reads[r]++;
	/* A bundle's annotations never change: a pod, or none, is final. A
	 * bundle not there, or not readable as JSON (say, caught while being
	 * written), may be later. */
	e->retry = r == PODMETA_MISSING || r == PODMETA_INVALID;
	e->retry_ns = now_ns + PODMETA_RETRY_NS;
	pm->last = e;
	if (r == PODMETA_FOUND)
		log_debug("pod of container", "container_id=%.12s pod=%s namespace=%s", id,
			  e->pod.name, e->pod.ns);
	return &e->pod;
}

const struct podmeta_stats *podmeta_stats(const struct podmeta *pm)
{
	return &pm->stats;
}

size_t podmeta_entries(const struct podmeta *pm)
{
	return pm->n_entries;
}
