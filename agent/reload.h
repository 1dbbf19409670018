/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reload: live rule reloads between the agent's threads.
 *
 * The control (main) thread notices a change (rulewatch, SIGHUP), loads and
 * validates the new rules and hands them over here; the reader thread, which
 * owns the pipeline (single-threaded), takes them between two drains,
 * applies them and replies. The control thread waits for that reply, so one
 * reload is in flight at a time and it knows the outcome to count and log.
 *
 * The result counters are atomics: other threads (metrics) read them.
 */
#ifndef SENTINEL_RELOAD_H
#define SENTINEL_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* sentinel_agent_rules_reload_total{result} */
enum reload_result {
	RELOAD_SUCCESS, /* applied */
	RELOAD_INVALID, /* the file was rejected: unreadable or not valid rules */
	RELOAD_ERROR,	/* valid, but could not be applied (kernel update failed) */
	RELOAD_RESULT_MAX
};

/* "success" | "invalid" | "error" */
const char *reload_result_name(enum reload_result r);

struct reload_counts {
	atomic_ullong n[RELOAD_RESULT_MAX];
};

struct reload_box {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ruleset *pending; /* posted, not taken yet */
	bool replied;
	int err;      /* the reader's reply: 0 or -errno */
	uint32_t gen; /* rules generation now in force */
	bool closed;  /* the reader is gone: nobody takes */
};

void reload_box_init(struct reload_box *b);
void reload_box_destroy(struct reload_box *b);

/*
 * Control thread: hand @rs (heap, loaded) to the reader and wait for its
 * reply. 0: applied, the reader owns @rs now, *gen is its generation.
 * -errno: not applied, the old rules stay in force and the caller still
 * owns @rs (-ESHUTDOWN: the reader has stopped).
 */
int reload_box_post(struct reload_box *b, struct ruleset *rs, uint32_t *gen);

/* Reader thread, every loop: the posted ruleset, or NULL. Cheap when none. */
struct ruleset *reload_box_take(struct reload_box *b);
/* Reader thread, after a take: 0 (it owns the ruleset now) or -errno (it
 * has given the ruleset back: the poster frees it). */
void reload_box_reply(struct reload_box *b, int err, uint32_t gen);
/* Reader thread, on exit: a poster waiting now or later gets -ESHUTDOWN. */
void reload_box_close(struct reload_box *b);

#endif
