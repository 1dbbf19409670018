/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the rules loader (agent/rules.c on common/yamldoc.c) and
 * everything the agent derives from a loaded ruleset. The input is a rules
 * file.
 *
 * Invariants checked when the input loads (a violation traps):
 *  - at most RULES_MAX_ENABLED enabled rules; enabled rules get bits 0, 1,
 *    ... in order of appearance and by_bit[] points back at them; disabled
 *    rules have bit -1; names are non-empty and unique; prefixes and comms
 *    are non-empty, comms at most 15 bytes;
 *  - rules_kernel_masks() partitions the enabled bits by event type and
 *    into any-comm and comm rules;
 *  - rules_comm_masks() is sorted, without duplicates, NUL-padded, and its
 *    masks are exactly the comm rules listing each comm;
 *  - a rule's own prefixes match its bit in rules_path_mask(), and
 *    rules_match() never goes beyond the path mask and the event's rules;
 *  - rules_print() (--check) reads back as the same rules, as long as every
 *    string is valid UTF-8 (a comm cut at 15 bytes may end mid-character,
 *    and YAML text cannot hold such a byte).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json_check.h"
#include "log.h"
#include "rules.h"

static uint64_t all_bits(unsigned n)
{
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

static bool strv_utf8(char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!jcheck_utf8_valid((const unsigned char *)v[i], strlen(v[i])))
			return false;
	return true;
}

static void check_shape(const struct ruleset *rs)
{
	unsigned enabled = 0;

	FUZZ_CHECK(rs->n_enabled <= RULES_MAX_ENABLED);
	FUZZ_CHECK(rs->source != NULL);
	FUZZ_CHECK(rs->n == 0 || rs->rules != NULL);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];

		FUZZ_CHECK(r->name && r->name[0]);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(rs->rules[j].name, r->name) != 0);
		FUZZ_CHECK((unsigned)r->event < EV_TYPES);
		if (r->enabled) {
			FUZZ_CHECK(r->bit == (int)enabled);
			FUZZ_CHECK(enabled < RULES_MAX_ENABLED && rs->by_bit[enabled] == r);
			enabled++;
		} else {
			FUZZ_CHECK(r->bit == -1);
		}
		for (size_t k = 0; k < r->n_prefixes; k++)
			FUZZ_CHECK(r->prefixes[k] && r->prefixes[k][0]);
		for (size_t k = 0; k < r->n_comms; k++)
			FUZZ_CHECK(r->comms[k] && r->comms[k][0] &&
				   strlen(r->comms[k]) < RULES_COMM_LEN);
	}
	FUZZ_CHECK(enabled == rs->n_enabled);
}

static void check_masks(const struct ruleset *rs)
{
	uint64_t all = all_bits(rs->n_enabled), type[EV_TYPES], any, comm_rules, seen = 0, u = 0;
	struct rules_comm_mask *cm;
	size_t n;

	rules_kernel_masks(rs, type, &any, &comm_rules);
	/* each enabled rule in exactly one type's mask */
	for (unsigned t = 0; t < EV_TYPES; t++) {
		FUZZ_CHECK(!(u & type[t]));
		u |= type[t];
	}
	FUZZ_CHECK(u == all);
	FUZZ_CHECK(!(any & comm_rules) && (any | comm_rules) == all);
	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];

		FUZZ_CHECK(type[r->event] >> b & 1);
		FUZZ_CHECK(!!(comm_rules >> b & 1) == (r->n_comms > 0));
	}

	n = rules_comm_masks(rs, &cm);
	FUZZ_CHECK(n > 0 || !comm_rules); /* (allocation never fails here) */
	FUZZ_CHECK(n > 0 || cm == NULL);
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(cm[i].comm, RULES_COMM_LEN);

		FUZZ_CHECK(len > 0 && len < RULES_COMM_LEN);
		for (size_t k = len; k < RULES_COMM_LEN; k++)
			FUZZ_CHECK(cm[i].comm[k] == '\0');
		if (i)
			FUZZ_CHECK(memcmp(cm[i - 1].comm, cm[i].comm, RULES_COMM_LEN) < 0);
		FUZZ_CHECK(cm[i].mask && !(cm[i].mask & ~comm_rules));
		/* exactly the rules that list this comm */
		for (unsigned b = 0; b < rs->n_enabled; b++) {
			const struct rule *r = rs->by_bit[b];
			bool listed = false;

			for (size_t k = 0; k < r->n_comms && !listed; k++)
				listed = strcmp(r->comms[k], cm[i].comm) == 0;
			FUZZ_CHECK(listed == !!(cm[i].mask >> b & 1));
		}
		seen |= cm[i].mask;
	}
	FUZZ_CHECK(seen == comm_rules);
	free(cm);

	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const struct rule *r = rs->by_bit[b];
		const char *comm = r->n_comms ? r->comms[0] : "fuzz";
		uint64_t m;

		for (size_t k = 0; k <= r->n_prefixes; k++) {
			/* k == n_prefixes: a path no prefix of this rule need match */
			const char *path = k < r->n_prefixes ? r->prefixes[k] : "/";

			m = rules_path_mask(rs, path);
			FUZZ_CHECK(!(m & ~all));
			if (k < r->n_prefixes || !r->n_prefixes)
				FUZZ_CHECK(m >> b & 1);
			FUZZ_CHECK(!(rules_match(rs, r->event, comm, m) & ~(m & type[r->event])));
			if (m >> b & 1)
				FUZZ_CHECK(rules_match(rs, r->event, comm, m) >> b & 1);
			FUZZ_CHECK(!(rules_match(rs, (r->event + 1) % EV_TYPES, comm, m) >> b & 1));
		}
	}
}

/* The printed rules load back as the same rules. */
static void check_round_trip(const struct ruleset *rs)
{
	struct ruleset back;
	char *text, err[512];
	bool utf8 = true;

	FUZZ_PRINT_TO_STRING(text, rules_print, rs);
	for (size_t i = 0; i < rs->n && utf8; i++)
		utf8 = strv_utf8(&rs->rules[i].name, 1) &&
		       strv_utf8(rs->rules[i].prefixes, rs->rules[i].n_prefixes) &&
		       strv_utf8(rs->rules[i].comms, rs->rules[i].n_comms);
	if (!utf8) {
		free(text);
		return;
	}
	if (rules_load_string(&back, text, "<printed>", err, sizeof(err))) {
		fprintf(stderr, "printed rules do not load: %s\n--- printed:\n%s---\n", err, text);
		FUZZ_CHECK(!"rules_print() output loads back");
	}
	FUZZ_CHECK(back.n == rs->n && back.n_enabled == rs->n_enabled);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *a = &rs->rules[i], *b = &back.rules[i];

		FUZZ_CHECK(strcmp(a->name, b->name) == 0);
		FUZZ_CHECK(a->enabled == b->enabled && a->event == b->event && a->bit == b->bit);
		FUZZ_CHECK(a->n_prefixes == b->n_prefixes && a->n_comms == b->n_comms);
		for (size_t k = 0; k < a->n_prefixes; k++)
			FUZZ_CHECK(strcmp(a->prefixes[k], b->prefixes[k]) == 0);
		for (size_t k = 0; k < a->n_comms; k++)
			FUZZ_CHECK(strcmp(a->comms[k], b->comms[k]) == 0);
	}
	rules_free(&back);
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Truncated comms warn on every input: keep the fuzzer's output readable. */
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), err[512];
	struct ruleset rs;

	memset(err, 'Z', sizeof(err));
	if (rules_load_string(&rs, text, "<fuzz>", err, sizeof(err)) == 0) {
		check_shape(&rs);
		check_masks(&rs);
		check_round_trip(&rs);
		rules_free(&rs);
	} else {
		/* On error nothing is held and the message is a string. */
		FUZZ_CHECK(rs.n == 0 && rs.rules == NULL && rs.source == NULL);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
	}
	free(text);
	return 0;
}
