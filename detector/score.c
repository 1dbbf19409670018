/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scorer registry and the reference scorer (the original project's
 * rules, configured from the environment). See score.h.
 */
#include "score.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define MAX_SCORERS 16
#define COMM_MAX 15 /* TASK_COMM_LEN - 1: what the kernel keeps of a name */

#define DEFAULT_SENSITIVE "/etc,/bin,/usr,/sbin,/boot"
#define DEFAULT_HIGH_WRITE_BYTES 10485760ULL
#define SCORE_SENSITIVE 0.9
#define SCORE_HIGH_WRITE 0.7
#define CODE_SENSITIVE "sensitive_path_write"
#define CODE_TRUNCATE "sensitive_path_truncate"
#define CODE_MMAP "sensitive_path_mmap"
#define CODE_RENAME "sensitive_path_rename"
#define CODE_LINK "sensitive_path_link"
#define CODE_HIGH_WRITE "high_write_bytes"

/* The event types that change a file, and the code (and reason) a change
 * under a sensitive prefix is flagged with. */
static const struct {
	const char *type, *code;
	bool source; /* data.source is a name of the file too */
} changes[] = {
	{"file_write", CODE_SENSITIVE, false},
	{"file_truncate", CODE_TRUNCATE, false}, /* content cut or zeroed without a write */
	{"file_mmap", CODE_MMAP, false}, /* a shared mapping stores may write back through */
	/* a new name: the file under it (filename) is new there, or a watched
	 * name's file (data.source) now has another */
	{"file_rename", CODE_RENAME, true},
	{"file_link", CODE_LINK, true},
};

/* ---- registry ---- */

static const struct scorer_ops *registry[MAX_SCORERS] = {&scorer_reference};
static size_t n_registered = 1;

int scorer_register(const struct scorer_ops *ops)
{
	if (!ops || !ops->name || !ops->score || n_registered == MAX_SCORERS ||
	    scorer_find(ops->name))
		return -1;
	registry[n_registered++] = ops;
	return 0;
}

const struct scorer_ops *scorer_find(const char *name)
{
	for (size_t i = 0; i < n_registered; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct scorer_ops *scorer_at(size_t i)
{
	return i < n_registered ? registry[i] : NULL;
}

const char *envelope_data(const Sentinel__V1__EventEnvelope *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_data; i++)
		if (ev->data[i]->key && strcmp(ev->data[i]->key, key) == 0)
			return ev->data[i]->value;
	return NULL;
}

static Sentinel__V1__EventEnvelope__DataEntry *data_entry(Sentinel__V1__EventEnvelope *ev,
							  const char *key)
{
	for (size_t i = 0; i < ev->n_data; i++)
		if (ev->data[i]->key && ev->data[i]->value && strcmp(ev->data[i]->key, key) == 0)
			return ev->data[i];
	return NULL;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* data[key] = the bytes of data[key_hex], when they are what the text says. */
static int restore_one(Sentinel__V1__EventEnvelope *ev, const char *key, const char *hex_key)
{
	/* The _hex key first: nearly every envelope has none. */
	Sentinel__V1__EventEnvelope__DataEntry *hex = data_entry(ev, hex_key), *text;
	size_t n, tlen;
	char *raw, *check = NULL;
	int ok = 0;

	if (!hex || !(text = data_entry(ev, key)))
		return 0;
	n = strlen(hex->value);
	tlen = strlen(text->value);
	/* The text has at least one byte per raw byte: a bound on what we
	 * allocate, and why the raw bytes fit where the text was. An empty
	 * value may be protobuf-c's static default, never written; nothing
	 * to restore there anyway. */
	if (!n || n % 2 || n / 2 > tlen)
		return 0;
	raw = malloc(n / 2 + 1);
	if (!raw)
		return 0;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_nibble(hex->value[2 * i]), lo = hex_nibble(hex->value[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			goto out;
		raw[i] = (char)(hi << 4 | lo);
	}
	raw[n / 2] = '\0';
	check = malloc(n / 2 * UTF8_MAX_EXPANSION + 1);
	if (!check || utf8_replace_invalid(raw, n / 2, check) != tlen ||
	    memcmp(check, text->value, tlen) != 0)
		goto out;
	/* In place: the raw bytes are never longer than the text, and the
	 * text's memory belongs to whoever unpacked the message (the server
	 * unpacks into an arena, where a single free() is not allowed). */
	memcpy(text->value, raw, n / 2 + 1);
	ok = 1;
out:
	free(check);
	free(raw);
	return ok;
}

int envelope_restore_bytes(Sentinel__V1__EventEnvelope *ev)
{
	return restore_one(ev, "filename", "filename_hex") + restore_one(ev, "comm", "comm_hex") +
	       restore_one(ev, "source", "source_hex");
}

/* ---- reference scorer: settings ---- */

struct ref_rules {
	char **prefixes; /* no trailing '/', except "/" itself */
	size_t n_prefixes;
	char **comms; /* at most COMM_MAX characters */
	size_t n_comms;
	unsigned long long high_write_bytes;
};

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void ref_destroy(void *state)
{
	struct ref_rules *r = state;

	if (!r)
		return;
	free_list(r->prefixes, r->n_prefixes);
	free_list(r->comms, r->n_comms);
	free(r);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void set_err(char *err, size_t errcap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}

/*
 * Splits a comma list into trimmed, non-empty items; checks each with
 * @check (which may shorten it in place). An empty list is valid: the rule
 * is then off.
 */
static int parse_list(const char *var, const char *text, int (*check)(char *item), const char *what,
		      char ***out, size_t *n_out, char *err, size_t errcap)
{
	char *copy = strdup(text), *save = NULL, *tok, **v = NULL, **nv;
	size_t n = 0;
	int ret = -1;

	if (!copy) {
		set_err(err, errcap, "%s: out of memory", var);
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = trim(tok);

		if (!*item)
			continue;
		if (check(item) != 0) {
			set_err(err, errcap, "%s: \"%s\" is not %s", var, item, what);
			goto cleanup;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(item))) {
			v = nv ? nv : v;
			set_err(err, errcap, "%s: out of memory", var);
			goto cleanup;
		}
		v = nv;
		n++;
	}
	*out = v;
	*n_out = n;
	v = NULL;
	n = 0;
	ret = 0;
cleanup:
	free_list(v, n);
	free(copy);
	return ret;
}

static int check_prefix(char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/')
		return -1;
	/* "/etc/" means "/etc": matching is on component boundaries anyway. */
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return 0;
}

static int check_comm(char *c)
{
	/* The agent sends the kernel's truncated comm; compare like for like. */
	if (strlen(c) > COMM_MAX)
		c[COMM_MAX] = '\0';
	return 0;
}

/* Strict: decimal digits only, no sign, no overflow. */
static int parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v ? v : dflt;
}

static int ref_init(void **state, char *err, size_t errcap)
{
	struct ref_rules *r = calloc(1, sizeof(*r));
	const char *v;

	*state = NULL;
	if (!r) {
		set_err(err, errcap, "reference scorer: out of memory");
		return -1;
	}
	if (parse_list("DETECTOR_SENSITIVE_PREFIXES",
		       env_or("DETECTOR_SENSITIVE_PREFIXES", DEFAULT_SENSITIVE), check_prefix,
		       "an absolute path", &r->prefixes, &r->n_prefixes, err, errcap) != 0)
		goto fail;
	if (parse_list("DETECTOR_ALLOWED_COMMS", env_or("DETECTOR_ALLOWED_COMMS", ""), check_comm,
		       "a process name", &r->comms, &r->n_comms, err, errcap) != 0)
		goto fail;
	r->high_write_bytes = DEFAULT_HIGH_WRITE_BYTES;
	v = getenv("DETECTOR_HIGH_WRITE_BYTES");
	if (v && parse_u64(v, &r->high_write_bytes) != 0) {
		set_err(err, errcap,
			"DETECTOR_HIGH_WRITE_BYTES: \"%s\" is not a non-negative integer (bytes)",
			v);
		goto fail;
	}
	*state = r;
	return 0;
fail:
	ref_destroy(r);
	return -1;
}

/* ---- reference scorer: rules ---- */

/* The longest sensitive prefix containing @path, NULL if none. */
static const char *sensitive_prefix(const struct ref_rules *r, const char *path)
{
	const char *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < r->n_prefixes; i++) {
		const char *p = r->prefixes[i];
		size_t len = strlen(p);
		int hit;

		if (len == 1) /* "/" */
			hit = path[0] == '/';
		else
			hit = strncmp(path, p, len) == 0 && (path[len] == '\0' || path[len] == '/');
		if (hit && len > best_len) {
			best = p;
			best_len = len;
		}
	}
	return best;
}

static int truthy(const char *v)
{
	return v && strcmp(v, "true") == 0;
}

static int comm_allowed(const struct ref_rules *r, const char *comm)
{
	if (!comm)
		return 0;
	for (size_t i = 0; i < r->n_comms; i++)
		if (strcmp(r->comms[i], comm) == 0)
			return 1;
	return 0;
}

static void flag(struct verdict *out, double score, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Adds one rule's finding: the highest score (and its code) wins, reasons
 * accumulate. */
static void flag(struct verdict *out, double score, const char *code, const char *fmt, ...)
{
	size_t len = strlen(out->reason);
	va_list ap;

	if (len && len + 2 < sizeof(out->reason)) {
		memcpy(out->reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(out->reason + len, sizeof(out->reason) - len, fmt, ap);
	va_end(ap);
	out->anomaly = true;
	if (score > out->score || !out->code) {
		out->score = score > out->score ? score : out->score;
		out->code = code;
	}
}

static void ref_score(void *state, const Sentinel__V1__EventEnvelope *ev, struct verdict *out)
{
	const struct ref_rules *r = state;
	const char *filename, *prefix, *code = NULL;
	unsigned long long bytes;
	bool source = false;

	for (size_t i = 0; ev->event_type && i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(ev->event_type, changes[i].type) == 0) {
			code = changes[i].code;
			source = changes[i].source;
		}
	if (!code)
		return;
	filename = envelope_data(ev, "filename");
	prefix = filename ? sensitive_prefix(r, filename) : NULL;
	/* A name too deep for the agent's walk holds only its last components:
	 * where it lies is unknown, so it may be under any sensitive prefix
	 * (the agent matches it against every rule for the same reason). */
	if (!prefix && truthy(envelope_data(ev, "filename_truncated")) && r->n_prefixes)
		prefix = "(unknown: name truncated)";
	/* A rename or link: either name (the old one in data.source). */
	if (!prefix && source && (filename = envelope_data(ev, "source")))
		prefix = sensitive_prefix(r, filename);
	if (prefix && !comm_allowed(r, envelope_data(ev, "comm")))
		flag(out, SCORE_SENSITIVE, code, "%s: %s", code, prefix);
	if (strcmp(code, CODE_SENSITIVE) == 0 &&
	    parse_u64(envelope_data(ev, "bytes"), &bytes) == 0 && bytes > r->high_write_bytes)
		flag(out, SCORE_HIGH_WRITE, CODE_HIGH_WRITE, "high_write_bytes: %llu > %llu", bytes,
		     r->high_write_bytes);
}

static const char *const ref_codes[] = {CODE_SENSITIVE, CODE_HIGH_WRITE, CODE_TRUNCATE, CODE_MMAP,
					CODE_RENAME,	CODE_LINK,	 NULL};

const struct scorer_ops scorer_reference = {
	.name = "reference",
	.help = "the original project's rules (DETECTOR_SENSITIVE_PREFIXES, "
		"DETECTOR_HIGH_WRITE_BYTES, DETECTOR_ALLOWED_COMMS)",
	.codes = ref_codes,
	.init = ref_init,
	.score = ref_score,
	.destroy = ref_destroy,
};
