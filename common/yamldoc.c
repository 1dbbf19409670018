/* SPDX-License-Identifier: Apache-2.0 */
#include "yamldoc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ydoc_check_keys() remembers the first occurrence of each allowed key. */
#define YDOC_MAX_ALLOWED 64

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static bool is_plain(const yaml_node_t *n)
{
	return is_scalar(n) && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* The error buffer may be absent (errcap 0): every write goes through here. */
static void __attribute__((format(printf, 2, 3))) seterr(struct ydoc *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->err || !d->errcap)
		return;
	va_start(ap, fmt);
	vsnprintf(d->err, d->errcap, fmt, ap);
	va_end(ap);
}

/* ---- scalar classification (YAML 1.2 core schema, plain scalars only) ---- */

enum int_parse { INT_OK, INT_NOT, INT_RANGE, INT_LEADING_ZERO };

static enum int_parse parse_int(const char *s, long long *out)
{
	const char *digits = "0123456789", *p = s;
	unsigned long long u;
	int base = 10;
	bool neg = false;
	char *end;

	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		digits = "0123456789abcdefABCDEF";
		p += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		digits = "01234567";
		p += 2;
	} else if (*p == '-' || *p == '+') {
		neg = *p++ == '-';
	}
	/* strtoull alone would take spaces, a second sign and a trailing 'L'. */
	if (!*p || strspn(p, digits) != strlen(p))
		return INT_NOT;
	if (base == 10 && p[0] == '0' && p[1])
		return INT_LEADING_ZERO;
	errno = 0;
	u = strtoull(p, &end, base);
	if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + neg)
		return INT_RANGE;
	*out = neg ? (long long)(0 - u) : (long long)u;
	return INT_OK;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? or .inf/.nan forms */
static bool is_float(const char *s)
{
	static const char *const special[] = {".inf",  ".Inf",	".INF",	 "-.inf", "-.Inf",
					      "-.INF", "+.inf", "+.Inf", "+.INF", ".nan",
					      ".NaN",  ".NAN",	NULL};
	size_t ip, fp = 0;

	if (in_list(s, special))
		return true;
	if (*s == '-' || *s == '+')
		s++;
	ip = strspn(s, "0123456789");
	s += ip;
	if (*s == '.') {
		fp = strspn(++s, "0123456789");
		s += fp;
	}
	if (!ip && !fp)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!strspn(s, "0123456789"))
			return false;
		s += strspn(s, "0123456789");
	}
	return *s == '\0';
}

bool ydoc_is_null(const yaml_node_t *n)
{
	return is_plain(n) && in_list(scalar(n), null_words);
}

/* Plain scalars that are not strings are shown bare in messages. */
static bool is_bare(const yaml_node_t *n)
{
	long long v;

	if (!is_plain(n))
		return false;
	return in_list(scalar(n), null_words) || in_list(scalar(n), true_words) ||
	       in_list(scalar(n), false_words) || parse_int(scalar(n), &v) != INT_NOT ||
	       is_float(scalar(n));
}

/* ---- escaping ---- */

static const char *escape_char(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	default: break;
	}
	if (c < ' ' || c == 0x7f) {
		snprintf(tmp, 8, "\\x%02x", c);
		return tmp;
	}
	tmp[0] = (char)c;
	tmp[1] = '\0';
	return tmp;
}

/* "s" escaped, at most @max of its @len bytes (cut on a UTF-8 boundary) + "...". */
static const char *quote(char *buf, size_t cap, const char *s, size_t len, size_t max)
{
	size_t o = 0, n = len;
	char tmp[8];

	if (n > max) {
		n = max;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (cap < 3) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		const char *e = escape_char((unsigned char)s[i], tmp);
		size_t el = strlen(e);

		if (o + el + 5 > cap) /* room for the closing quote and "..." */
			break;
		memcpy(buf + o, e, el);
		o += el;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	if (n < len && o + 3 < cap)
		strcpy(buf + o, "...");
	return buf;
}

/*
 * Characters a YAML reader refuses raw (C1 controls, U+FFFE, U+FFFF) or
 * reads as a line break, folding it to a space (NEL, U+2028, U+2029), at
 * the UTF-8 sequence @s: writes their escape to @tmp and returns the
 * sequence's length, else 0. As escapes they read back as themselves.
 */
static size_t escape_seq(const unsigned char *s, char tmp[8])
{
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		if (s[1] == 0x85)
			memcpy(tmp, "\\N", 3);
		else
			snprintf(tmp, 8, "\\x%02x", s[1]);
		return 2;
	}
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
		memcpy(tmp, s[2] == 0xa8 ? "\\L" : "\\P", 3);
		return 3;
	}
	if (s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf)) {
		snprintf(tmp, 8, "\\uff%02x", s[2] - 0x80 + 0xc0);
		return 3;
	}
	return 0;
}

void ydoc_print_str(FILE *out, const char *s)
{
	char tmp[8];
	size_t n;

	/*
	 * Other bytes >= 0x80 pass through: YAML's \xNN is a code point, not a
	 * byte, so a string that is not UTF-8 (a comm cut at 15 bytes) has no
	 * YAML spelling at all.
	 */
	fputc('"', out);
	while (*s) {
		n = escape_seq((const unsigned char *)s, tmp);
		fputs(n ? tmp : escape_char((unsigned char)*s, tmp), out);
		s += n ? n : 1;
	}
	fputc('"', out);
}

const char *ydoc_describe(const yaml_node_t *n, char *buf, size_t cap)
{
	char q[96];

	if (!n)
		snprintf(buf, cap, "nothing");
	else if (n->type == YAML_MAPPING_NODE)
		snprintf(buf, cap, "a mapping");
	else if (n->type == YAML_SEQUENCE_NODE)
		snprintf(buf, cap, "a sequence");
	else if (ydoc_is_null(n))
		snprintf(buf, cap, "null");
	else if (is_bare(n))
		snprintf(buf, cap, "%.40s", scalar(n));
	else
		snprintf(buf, cap, "string %s",
			 quote(q, sizeof(q), scalar(n), n->data.scalar.length, 40));
	return buf;
}

/* ---- errors ---- */

unsigned long ydoc_line(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

unsigned long ydoc_col(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.column + 1 : 1;
}

int ydoc_errf(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!d->err || !d->errcap)
		return -1;
	len = snprintf(d->err, d->errcap, "%s:%lu:%lu: ", d->name ? d->name : "<yaml>",
		       ydoc_line(n), ydoc_col(n));
	if (len < 0 || (size_t)len >= d->errcap)
		return -1;
	va_start(ap, fmt);
	vsnprintf(d->err + len, d->errcap - (size_t)len, fmt, ap);
	va_end(ap);
	return -1;
}

int ydoc_expected(struct ydoc *d, const yaml_node_t *n, const char *what, const char *expected)
{
	char got[128];
	bool named = what && *what;

	return ydoc_errf(d, n, "%s%sexpected %s, got %s", named ? what : "", named ? ": " : "",
			 expected, ydoc_describe(n, got, sizeof(got)));
}

/* ---- loading ---- */

static void parser_err(struct ydoc *d, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR: seterr(d, "%s: out of memory", d->name); break;
	case YAML_READER_ERROR:
		/* The reader runs ahead of line counting: only a byte offset. */
		if (p->problem_value != -1)
			seterr(d, "%s: %s (#%X) at byte %zu", d->name, problem,
			       (unsigned)p->problem_value, p->problem_offset);
		else
			seterr(d, "%s: %s at byte %zu", d->name, problem, p->problem_offset);
		break;
	default:
		if (p->context)
			seterr(d, "%s:%zu:%zu: %s (%s at line %zu)", d->name,
			       p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
			       p->context, p->context_mark.line + 1);
		else
			seterr(d, "%s:%zu:%zu: %s", d->name, p->problem_mark.line + 1,
			       p->problem_mark.column + 1, problem);
		break;
	}
}

int ydoc_load_string(struct ydoc *d, const char *text, size_t len, const char *name, char *err,
		     size_t errcap)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;

	memset(d, 0, sizeof(*d));
	d->err = err;
	d->errcap = errcap;
	if (err && errcap)
		err[0] = '\0';
	d->name = strdup(name ? name : "<string>");
	if (!d->name) {
		seterr(d, "%s: out of memory", name ? name : "<string>");
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		seterr(d, "%s: out of memory", d->name);
		goto err_name;
	}
	/* libyaml asserts on a NULL input, even an empty one. */
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""),
				     text ? len : 0);
	if (!yaml_parser_load(&parser, &d->doc)) {
		parser_err(d, &parser);
		goto err_parser;
	}
	d->loaded = true;
	/* A second document would be silently ignored: make it an error. */
	if (yaml_document_get_root_node(&d->doc)) {
		if (!yaml_parser_load(&parser, &extra)) {
			parser_err(d, &parser);
			goto err_doc;
		}
		root = yaml_document_get_root_node(&extra);
		if (root)
			ydoc_errf(d, root, "expected a single YAML document, got another one");
		yaml_document_delete(&extra);
		if (root)
			goto err_doc;
	}
	yaml_parser_delete(&parser);
	return 0;

err_doc:
	yaml_document_delete(&d->doc);
	d->loaded = false;
err_parser:
	yaml_parser_delete(&parser);
err_name:
	free(d->name);
	d->name = NULL;
	return -1;
}

int ydoc_read_file(const char *path, char **out, size_t *outlen, char *err, size_t errcap)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nbuf;
	struct stat st;
	ssize_t r;
	int fd, e;

	/* Non-blocking: a FIFO in the file's place cannot hang the caller. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		goto err_errno;
	if (fstat(fd, &st))
		goto err_errno;
	if (!S_ISREG(st.st_mode)) {
		if (err && errcap)
			snprintf(err, errcap, "%s: not a regular file", path);
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto err;
	}
	for (;;) {
		if (len == cap) {
			if (cap > YDOC_MAX_BYTES) {
				if (err && errcap)
					snprintf(err, errcap,
						 "%s: file too large (more than %u bytes)", path,
						 YDOC_MAX_BYTES);
				e = EFBIG;
				goto err;
			}
			/* One byte past the limit tells "too large" from "exactly". */
			cap = cap ? cap * 2 : 4096;
			if (cap > YDOC_MAX_BYTES)
				cap = YDOC_MAX_BYTES + 1;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				errno = ENOMEM;
				goto err_errno;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto err_errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;

err_errno:
	e = errno;
	if (err && errcap)
		snprintf(err, errcap, "%s: %s", path, strerror(e));
err:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -e;
}

int ydoc_load_file(struct ydoc *d, const char *path, char *err, size_t errcap)
{
	size_t len = 0;
	char *buf = NULL;
	int ret;

	memset(d, 0, sizeof(*d));
	if (ydoc_read_file(path, &buf, &len, err, errcap))
		return -1;
	ret = ydoc_load_string(d, buf, len, path, err, errcap);
	free(buf); /* the document holds copies of every scalar */
	return ret;
}

void ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

/* ---- structure ---- */

int ydoc_expect_map(struct ydoc *d, const yaml_node_t *n, const char *what)
{
	if (!n || n->type == YAML_MAPPING_NODE || ydoc_is_null(n))
		return 0;
	return ydoc_expected(d, n, what, "a mapping");
}

int ydoc_expect_seq(struct ydoc *d, const yaml_node_t *n, const char *what)
{
	if (!n || n->type == YAML_SEQUENCE_NODE || ydoc_is_null(n))
		return 0;
	return ydoc_expected(d, n, what, "a sequence");
}

size_t ydoc_len(const yaml_node_t *n)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (n && n->type == YAML_SEQUENCE_NODE)
		return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	return 0;
}

yaml_node_t *ydoc_item(struct ydoc *d, const yaml_node_t *seq, size_t i)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE || i >= ydoc_len(seq))
		return NULL;
	return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}

int ydoc_pair(struct ydoc *d, const yaml_node_t *map, size_t i, yaml_node_t **key,
	      yaml_node_t **val)
{
	const yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE || i >= ydoc_len(map))
		return -1;
	p = &map->data.mapping.pairs.start[i];
	*key = yaml_document_get_node(&d->doc, p->key);
	*val = yaml_document_get_node(&d->doc, p->value);
	return 0;
}

yaml_node_t *ydoc_get(struct ydoc *d, const yaml_node_t *map, const char *key)
{
	yaml_node_t *k, *v;

	for (size_t i = 0; ydoc_pair(d, map, i, &k, &v) == 0; i++)
		if (is_scalar(k) && strcmp(scalar(k), key) == 0)
			return v;
	return NULL;
}

int ydoc_check_keys(struct ydoc *d, const yaml_node_t *map, const char *what,
		    const char *const *allowed)
{
	const yaml_node_t *first[YDOC_MAX_ALLOWED] = {0};
	char list[512], q[96];
	bool named = what && *what;
	yaml_node_t *k, *v;
	size_t a, o = 0;

	for (size_t i = 0; ydoc_pair(d, map, i, &k, &v) == 0; i++) {
		if (!is_scalar(k) || ydoc_is_null(k))
			return ydoc_expected(d, k, what, "a string key");
		for (a = 0; a < YDOC_MAX_ALLOWED && allowed[a]; a++)
			if (strcmp(scalar(k), allowed[a]) == 0)
				break;
		if (a < YDOC_MAX_ALLOWED && allowed[a]) {
			if (!first[a]) {
				first[a] = k;
				continue;
			}
			return ydoc_errf(d, k, "%s%sduplicate key %s (first at line %lu)",
					 named ? what : "", named ? ": " : "",
					 quote(q, sizeof(q), scalar(k), strlen(scalar(k)), 40),
					 ydoc_line(first[a]));
		}
		list[0] = '\0';
		for (a = 0; allowed[a] && o < sizeof(list); a++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", a ? ", " : "",
					      allowed[a]);
		return ydoc_errf(d, k, "%s%sunknown key %s (allowed: %s)", named ? what : "",
				 named ? ": " : "",
				 quote(q, sizeof(q), scalar(k), strlen(scalar(k)), 40), list);
	}
	return 0;
}

/* ---- scalars ---- */

int ydoc_str(struct ydoc *d, const yaml_node_t *n, const char *what, const char **out)
{
	if (!is_scalar(n) || ydoc_is_null(n))
		return ydoc_expected(d, n, what, "a string");
	/* "\0" in a quoted scalar would silently cut the string short. */
	if (strlen(scalar(n)) != n->data.scalar.length)
		return ydoc_expected(d, n, what, "a string without NUL bytes");
	*out = scalar(n);
	return 0;
}

int ydoc_bool(struct ydoc *d, const yaml_node_t *n, const char *what, bool *out)
{
	if (is_plain(n) && in_list(scalar(n), true_words)) {
		*out = true;
		return 0;
	}
	if (is_plain(n) && in_list(scalar(n), false_words)) {
		*out = false;
		return 0;
	}
	return ydoc_expected(d, n, what, "true or false");
}

int ydoc_int(struct ydoc *d, const yaml_node_t *n, const char *what, long long min, long long max,
	     long long *out)
{
	char expected[96];
	long long v = 0;
	enum int_parse r = is_plain(n) ? parse_int(scalar(n), &v) : INT_NOT;

	if (r == INT_LEADING_ZERO)
		return ydoc_expected(d, n, what, "an integer without leading zeros");
	if (r == INT_OK && v >= min && v <= max) {
		*out = v;
		return 0;
	}
	snprintf(expected, sizeof(expected), "an integer in %lld..%lld", min, max);
	return ydoc_expected(d, n, what, expected);
}
