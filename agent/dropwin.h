/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dropwin: the share of kernel records lost over the last DROPWIN_S
 * seconds, for /readyz. Fed with two running totals (records lost, records
 * handled); keeps one sample a second, so a ring of DROPWIN_S + 1.
 *
 * Below DROPWIN_MIN_LOST lost records in the window the rate reads 0: on an
 * idle node one lost exit record among 50 is 2 %, which says nothing about
 * the agent keeping up (the loss is still counted in the metrics).
 */
#ifndef SENTINEL_DROPWIN_H
#define SENTINEL_DROPWIN_H

#include <stdint.h>

#define DROPWIN_S 10
#define DROPWIN_MIN_LOST 100

struct dropwin_sample {
	uint64_t t_ns, lost, handled;
};

struct dropwin {
	struct dropwin_sample s[DROPWIN_S + 1]; /* both ends of the window */
	unsigned head, n;
};

/* Takes the totals at @now_ns (a sample when the last is a second old) and
 * returns lost / (lost + handled) since the oldest sample kept. */
double dropwin_ratio(struct dropwin *w, uint64_t now_ns, uint64_t lost, uint64_t handled);

#endif
