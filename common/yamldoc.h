/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamldoc: typed access to a libyaml document with precise errors.
 *
 * A file is loaded whole with yaml_parser_load(); callers then walk it with
 * the helpers below, which check each node's type and write errors as
 *   <name>:<line>:<column>: [<what>: ]expected <...>, got <...>
 * (1-based line and column of the offending node) into the error buffer
 * given at load time. Every helper that fails returns -1 after writing it.
 *
 * Conventions:
 *  - A NULL node means "absent". An empty document (empty file, or only
 *    comments) has a NULL root, and the map helpers treat NULL, like a YAML
 *    null (`key:` with no value), as an empty mapping or sequence: callers
 *    need no special case for empty files or commented-out sections.
 *  - Scalars are untyped in libyaml; the helpers apply the YAML 1.2 core
 *    schema to plain (unquoted) scalars. Quoted scalars are always strings,
 *    so `port: "80"` is rejected where an integer is expected.
 *  - Booleans are true/True/TRUE/false/False/FALSE only: YAML 1.1's yes, no,
 *    on, off are rejected rather than guessed at.
 *  - Integers are decimal (optionally signed), 0x hex or 0o octal. Decimal
 *    with a leading zero is rejected: YAML 1.1 readers take 010 as octal.
 *  - ydoc_str() accepts any non-null scalar as its text (`name: 123` is the
 *    string "123"); strings holding NUL bytes are rejected.
 *  - Duplicate mapping keys are rejected by ydoc_check_keys().
 *  - Aliases are references to the same node, and may form cycles: the
 *    helpers never recurse, and callers that walk a document generically
 *    must bound their depth.
 */
#ifndef SENTINEL_YAMLDOC_H
#define SENTINEL_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yaml.h>

/* Larger files are rejected: configs and rules are small, and this bounds
 * what a mistaken path (a log file, a device) can make us read. */
#define YDOC_MAX_BYTES (16u << 20)

struct ydoc {
	yaml_document_t doc;
	char *name; /* file path or a label such as "<embedded rules>" */
	char *err;  /* the caller's buffer, given at load time */
	size_t errcap;
	bool loaded;
};

/*
 * The whole file, read by us rather than by libyaml from a FILE *: read
 * errors (EIO, a directory) then come out as "<path>: <reason>" in @err,
 * not libyaml's "input error", and the size is bounded. Follows symlinks;
 * only a regular file is read (a FIFO in its place cannot hang the caller).
 * Returns 0 with a malloc'd buffer (not NUL-terminated) in @out, or -errno:
 * -ENOENT/-ENOTDIR when it does not exist, -EISDIR/-EINVAL when it is not a
 * regular file, -EFBIG above YDOC_MAX_BYTES.
 */
int ydoc_read_file(const char *path, char **out, size_t *outlen, char *err, size_t errcap);

/*
 * Load one YAML document. @err (which must outlive @d) receives
 *   "<path>: <strerror>"          when the file cannot be read,
 *   "<name>:<line>:<col>: <problem>" for a YAML syntax error.
 * More than one document in the stream is an error. On failure nothing is
 * held and ydoc_free() is optional.
 */
int ydoc_load_file(struct ydoc *d, const char *path, char *err, size_t errcap);
int ydoc_load_string(struct ydoc *d, const char *text, size_t len, const char *name, char *err,
		     size_t errcap);
void ydoc_free(struct ydoc *d);

/* The root node, NULL for an empty document. */
yaml_node_t *ydoc_root(struct ydoc *d);

/* Writes "<name>:<line>:<col>: <fmt...>" for node @n; always returns -1. */
int ydoc_errf(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes "<name>:<line>:<col>: [<what>: ]expected <expected>, got <n>"; -1. */
int ydoc_expected(struct ydoc *d, const yaml_node_t *n, const char *what, const char *expected);
/* "a mapping", "a sequence", "null", "true", "42", "string \"abc\"" ... */
const char *ydoc_describe(const yaml_node_t *n, char *buf, size_t cap);
/* 1-based position of @n, for warnings (1 for a NULL node). */
unsigned long ydoc_line(const yaml_node_t *n);
unsigned long ydoc_col(const yaml_node_t *n);

bool ydoc_is_null(const yaml_node_t *n);

/*
 * Shape checks. NULL and null pass as empty. @what names the node in the
 * message ("health", "rules[2].match"); NULL or "" for the root.
 */
int ydoc_expect_map(struct ydoc *d, const yaml_node_t *n, const char *what);
int ydoc_expect_seq(struct ydoc *d, const yaml_node_t *n, const char *what);
/* Rejects non-string, duplicate and unknown keys; @allowed ends with NULL. */
int ydoc_check_keys(struct ydoc *d, const yaml_node_t *map, const char *what,
		    const char *const *allowed);

/* Value of @key in @map, NULL when absent (or @map is not a mapping). */
yaml_node_t *ydoc_get(struct ydoc *d, const yaml_node_t *map, const char *key);
/* Entries of a mapping or sequence; 0 for anything else. */
size_t ydoc_len(const yaml_node_t *n);
yaml_node_t *ydoc_item(struct ydoc *d, const yaml_node_t *seq, size_t i);
int ydoc_pair(struct ydoc *d, const yaml_node_t *map, size_t i, yaml_node_t **key,
	      yaml_node_t **val);

/* Scalars. *out of ydoc_str() points into the document: valid until ydoc_free(). */
int ydoc_str(struct ydoc *d, const yaml_node_t *n, const char *what, const char **out);
int ydoc_bool(struct ydoc *d, const yaml_node_t *n, const char *what, bool *out);
int ydoc_int(struct ydoc *d, const yaml_node_t *n, const char *what, long long min, long long max,
	     long long *out);

/* Writes @s as a YAML double-quoted scalar (escaped), for printing configs. */
void ydoc_print_str(FILE *out, const char *s);

#endif /* SENTINEL_YAMLDOC_H */
