/* SPDX-License-Identifier: Apache-2.0 */
#include "dropwin.h"

#define NSLOTS (DROPWIN_S + 1)
#define NS_PER_S 1000000000ull

double dropwin_ratio(struct dropwin *w, uint64_t now_ns, uint64_t lost, uint64_t handled)
{
	unsigned newest = (w->head + NSLOTS - 1) % NSLOTS;
	const struct dropwin_sample *oldest;
	uint64_t dl, dh;

	if (!w->n || now_ns - w->s[newest].t_ns >= NS_PER_S) {
		w->s[w->head] = (struct dropwin_sample){now_ns, lost, handled};
		w->head = (w->head + 1) % NSLOTS;
		if (w->n < NSLOTS)
			w->n++;
	}
	oldest = &w->s[(w->head + NSLOTS - w->n) % NSLOTS];
	dl = lost - oldest->lost;
	dh = handled - oldest->handled;
	return dl >= DROPWIN_MIN_LOST ? (double)dl / (double)(dl + dh) : 0.0;
}
