/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scoring: the detector's extension point.
 *
 * A scorer is a table of three functions. The server calls score() once per
 * event, in arrival order, from its single completion-queue thread, so a
 * scorer needs no locking; it must not block (every stream waits on it).
 *
 *   init(&state, err, errcap)  once at startup; reads its own settings (the
 *                              reference scorer: environment variables).
 *                              Returns 0, or -1 with a message in err (the
 *                              detector then exits 1).
 *   score(state, ev, out)      fills *out; out is zeroed by the caller.
 *                              out->score is clamped to [0,1] afterwards.
 *                              For an anomaly, out->code names the rule
 *                              that decided it (see struct verdict).
 *   destroy(state)             at exit.
 *
 * Plugging in your own (compile time):
 *   1. write my_scorer.c with
 *        const struct scorer_ops my_scorer = {
 *                .name = "mine", .help = "...",
 *                .init = my_init, .score = my_score, .destroy = my_destroy,
 *        };
 *      and add it to sentinel_detector_core's sources in CMakeLists.txt;
 *   2. in detector/main.c, register_scorers(): scorer_register(&my_scorer);
 *   3. run sentinel-detector --scorer mine (env DETECTOR_SCORER=mine).
 *
 * The reference scorer ("reference", the default) implements the rules of
 * the original project:
 *   DETECTOR_SENSITIVE_PREFIXES  comma list, default /etc,/bin,/usr,/sbin,/boot
 *   DETECTOR_HIGH_WRITE_BYTES    default 10485760
 *   DETECTOR_ALLOWED_COMMS       comma list, default empty
 * A file_write under a sensitive prefix (on a path component boundary) by a
 * comm not in the allowed list scores 0.9 ("sensitive_path_write: /etc");
 * a file_write of more than the threshold bytes scores 0.7
 * ("high_write_bytes: N > T"); both: the higher score, reasons joined by
 * "; ". A file_truncate or file_mmap (a writable shared mapping) under a
 * sensitive prefix scores 0.9 too ("sensitive_path_truncate: /etc",
 * "sensitive_path_mmap: /etc"), and so does a file_rename or file_link
 * whose new name (filename) or old one (data.source) is under one
 * ("sensitive_path_rename: /etc", "sensitive_path_link: /etc"). The
 * allowed comms exempt only the
 * sensitive-path rules. Reads are never anomalies. Filenames are compared
 * as sent (the agent sends resolved absolute paths). Codes:
 * "sensitive_path_write", "high_write_bytes" (both rules: the sensitive
 * one, it scores higher), "sensitive_path_truncate", "sensitive_path_mmap",
 * "sensitive_path_rename", "sensitive_path_link".
 */
#ifndef SENTINEL_DETECTOR_SCORE_H
#define SENTINEL_DETECTOR_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "events.pb-c.h"

#define VERDICT_REASON_MAX 256

struct verdict {
	bool anomaly;
	double score;			 /* 0..1 */
	char reason[VERDICT_REASON_MAX]; /* "" when nothing to say; truncated */
	/*
	 * The rule that decided the score, as a short constant identifier
	 * ([a-z0-9_], e.g. "sensitive_path_write"): the reason label of
	 * sentinel_detector_anomalies_total, so it must come from a small fixed
	 * set (never paths or other event data). NULL: "unspecified".
	 */
	const char *code;
};

/* How many distinct codes the metric keeps apart; more count as "other". */
#define VERDICT_CODES_MAX 16
#define VERDICT_CODE_LEN 48

struct scorer_ops {
	const char *name;
	const char *help; /* one line for --help */
	/* Optional, NULL-terminated: every code score() may set, so the metric
	 * shows each at 0 before the first such anomaly. */
	const char *const *codes;
	int (*init)(void **state, char *err, size_t errcap);
	void (*score)(void *state, const Sentinel__V1__EventEnvelope *ev, struct verdict *out);
	void (*destroy)(void *state);
};

extern const struct scorer_ops scorer_reference;

/* Adds a scorer to the registry (the reference one is always there).
 * Returns -1 when the registry is full or the name is taken. */
int scorer_register(const struct scorer_ops *ops);
/* NULL when no scorer has that name. */
const struct scorer_ops *scorer_find(const char *name);
/* The i-th registered scorer, NULL past the end (for --help). */
const struct scorer_ops *scorer_at(size_t i);

/* data["key"] of an envelope, NULL when absent: for scorers. */
const char *envelope_data(const Sentinel__V1__EventEnvelope *ev, const char *key);

/*
 * proto3 strings must be UTF-8, so the agent sends a file name or comm
 * that is not as text with U+FFFD for each bad byte, plus its exact bytes
 * in hex under "<key>_hex". This puts the exact bytes back in data[key]
 * (for "filename" and "comm"), so scorers and the anomaly log see the real
 * name; the server calls it before scoring. A _hex value that is not hex,
 * decodes to a NUL, or does not match the text is ignored (the text stays).
 * The bytes are written over the text in place (never longer than it), so
 * the envelope may come from any allocator; nothing is freed or allocated
 * in it.
 * Returns how many values it restored.
 */
int envelope_restore_bytes(Sentinel__V1__EventEnvelope *ev);

#endif
