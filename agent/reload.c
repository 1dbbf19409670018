/* SPDX-License-Identifier: Apache-2.0 */
#include "reload.h"

#include <errno.h>
#include <stddef.h>

const char *reload_result_name(enum reload_result r)
{
	switch (r) {
	case RELOAD_SUCCESS: return "success";
	case RELOAD_INVALID: return "invalid";
	case RELOAD_ERROR: return "error";
	case RELOAD_RESULT_MAX: break;
	}
	return "unknown";
}

void reload_box_init(struct reload_box *b)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->pending = NULL;
	b->replied = false;
	b->err = 0;
	b->gen = 0;
	b->closed = false;
}

void reload_box_destroy(struct reload_box *b)
{
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

int reload_box_post(struct reload_box *b, struct ruleset *rs, uint32_t *gen)
{
	int err;

	pthread_mutex_lock(&b->lock);
	if (b->closed) {
		pthread_mutex_unlock(&b->lock);
		return -ESHUTDOWN;
	}
	b->pending = rs;
	b->replied = false;
	while (!b->replied && !b->closed)
		pthread_cond_wait(&b->cond, &b->lock);
	if (b->replied) {
		err = b->err;
		*gen = b->gen;
	} else {
		/* Closed before the reader took it: still ours. */
		b->pending = NULL;
		err = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&b->lock);
	return err;
}

struct ruleset *reload_box_take(struct reload_box *b)
{
	struct ruleset *rs;

	pthread_mutex_lock(&b->lock);
	rs = b->pending;
	b->pending = NULL;
	pthread_mutex_unlock(&b->lock);
	return rs;
}

void reload_box_reply(struct reload_box *b, int err, uint32_t gen)
{
	pthread_mutex_lock(&b->lock);
	b->err = err;
	b->gen = gen;
	b->replied = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void reload_box_close(struct reload_box *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}
