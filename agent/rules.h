/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rules (rules.yaml): which file events (reads, writes, truncations,
 * writable shared mappings) are reported.
 *
 *   rules:
 *     - name: etc-writes
 *       enabled: true          # optional, default true
 *       event: file_write      # file_read | file_write | file_truncate | file_mmap
 *                              # | file_rename | file_link
 *       match:                 # optional
 *         pathPrefixes: ["/etc"]   # optional; empty/missing = any path
 *         comms: ["bash"]          # optional; empty/missing = any comm
 *
 * An event matches a rule when the rule is enabled, the event type is the
 * rule's, the file name starts with one of the prefixes (plain byte prefix:
 * "/etc" matches "/etcd/x" too; write "/etc/" to mean the directory) and the
 * process comm equals one of the comms. Each enabled rule gets a bit, in
 * order of appearance: verdicts are uint64_t masks of rule bits.
 *
 * Comms longer than 15 bytes are truncated, with a warning, the way the
 * kernel truncates a task's comm. Path prefixes must be absolute. An empty file
 * (or `rules: []`) loads, with no rules: rules_require_some() refuses it.
 */
#ifndef SENTINEL_RULES_H
#define SENTINEL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "evtype.h"

#define RULES_MAX_ENABLED 64 /* bits in a verdict mask; SE_MAX_RULES */
#define RULES_COMM_LEN 16    /* TASK_COMM_LEN: 15 bytes and the NUL; SE_COMM_LEN */
#define RULES_DEFAULT_NAME "<embedded rules>"

struct rule {
	char *name;
	bool enabled;
	enum ev_type event;
	char **prefixes;
	size_t n_prefixes;
	char **comms; /* each at most RULES_COMM_LEN - 1 bytes */
	size_t n_comms;
	int bit; /* -1 if disabled */
};

struct ruleset {
	struct rule *rules;
	size_t n;
	unsigned n_enabled;
	const struct rule *by_bit[RULES_MAX_ENABLED]; /* [0, n_enabled) */
	char *source;				      /* file path or RULES_DEFAULT_NAME */
};

/* The built-in rules: every read and every write under "/". */
const char *rules_default_text(void);

/*
 * Load rules from a file, or from @text labelled @name in messages (use
 * rules_load_string(rs, rules_default_text(), RULES_DEFAULT_NAME, ...) for
 * the defaults). @rs is overwritten, not freed. On error @rs is zeroed,
 * nothing is held, and @err reads "file:line:col: ...".
 */
int rules_load_file(struct ruleset *rs, const char *path, char *err, size_t errcap);
int rules_load_string(struct ruleset *rs, const char *text, const char *name, char *err,
		      size_t errcap);
void rules_free(struct ruleset *rs);

/*
 * An agent with no enabled rule watches nothing: anyone who can edit the
 * rules could switch monitoring off quietly. Returns 0 when @rs has an
 * enabled rule, else -1 with @err saying so (the caller decides whether
 * the config's allowEmptyRules overrides it).
 */
int rules_require_some(const struct ruleset *rs, char *err, size_t errcap);

/* Bits of enabled rules whose path part matches (no prefixes => matches). */
uint64_t rules_path_mask(const struct ruleset *rs, const char *path);

/*
 * What the kernel needs (struct se_config): type_mask[t] = enabled rules
 * of event type t; *anycomm = enabled rules with no comms; *comm_rules =
 * enabled rules with comms.
 */
void rules_kernel_masks(const struct ruleset *rs, uint64_t type_mask[EV_TYPES], uint64_t *anycomm,
			uint64_t *comm_rules);

/*
 * Distinct comms of enabled rules, sorted by comm, each with the mask of the
 * rules listing it (the kernel's comm_masks map). *out is malloc'd (the
 * caller frees it) and NULL when the count is 0. The count is never 0 while
 * comm_rules is non-zero, except when allocation failed (logged).
 */
struct rules_comm_mask {
	char comm[RULES_COMM_LEN]; /* NUL-padded, like the kernel's comm */
	uint64_t mask;
};
size_t rules_comm_masks(const struct ruleset *rs, struct rules_comm_mask **out);

/* Full user-space decision: bits of rules matching @ev, @comm and @path_mask. */
uint64_t rules_match(const struct ruleset *rs, enum ev_type ev, const char *comm,
		     uint64_t path_mask);

/* The rules as YAML that rules_load_*() reads back, bits in comments (--check). */
void rules_print(const struct ruleset *rs, FILE *out);

#endif /* SENTINEL_RULES_H */
