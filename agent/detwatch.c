/* SPDX-License-Identifier: Apache-2.0 */
#include "detwatch.h"

#include <string.h>

void detwatch_init(struct detwatch *w, uint64_t ack_timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->ack_timeout_ns = ack_timeout_ns;
	w->conn = DETWATCH_IDLE;
}

enum detwatch_say detwatch_channel(struct detwatch *w, enum detwatch_conn st, uint64_t now)
{
	if (st == DETWATCH_READY) {
		/* Up again: the next outage is said at once. */
		w->down_since_ns = 0;
		w->fail_said_ns = 0;
		w->failures_unsaid = 0;
	} else if (st == DETWATCH_FAILURE && w->conn != DETWATCH_FAILURE) {
		w->failures++;
		w->failures_unsaid++;
		if (!w->down_since_ns)
			w->down_since_ns = now;
	}
	w->conn = st;
	if (!w->failures_unsaid || (w->fail_said_ns && now - w->fail_said_ns < DETWATCH_LOG_NS))
		return DETWATCH_SAY_NOTHING;
	w->fail_said_ns = now;
	w->failures_said = w->failures_unsaid;
	w->failures_unsaid = 0;
	return DETWATCH_SAY_UNREACHABLE;
}

enum detwatch_say detwatch_acks(struct detwatch *w, uint64_t outstanding, uint64_t acked,
				bool connected, uint64_t now)
{
	bool progress = acked != w->acked_seen;

	w->acked_seen = acked;
	w->outstanding = outstanding;
	if (progress) {
		/* Any answer clears the fault: the clock restarts for what
		 * is still owed. */
		w->wait_since_ns = outstanding ? now : 0;
		if (!w->stalled)
			return DETWATCH_SAY_NOTHING;
		w->stalled = false;
		return DETWATCH_SAY_ACKING_AGAIN;
	}
	if (!outstanding || !connected) {
		/* Nothing owed, or the stream is down (what was sent is
		 * sent again on the next one): the clock restarts then. A
		 * stall stays until an answer comes. */
		w->wait_since_ns = 0;
		return DETWATCH_SAY_NOTHING;
	}
	if (!w->wait_since_ns)
		w->wait_since_ns = now;
	if (now - w->wait_since_ns < w->ack_timeout_ns)
		return DETWATCH_SAY_NOTHING;
	if (w->stalled && now - w->stall_said_ns < DETWATCH_LOG_NS)
		return DETWATCH_SAY_NOTHING;
	w->stalled = true;
	w->stall_said_ns = now;
	return DETWATCH_SAY_NOT_ACKING;
}

uint64_t detwatch_unacked_ns(const struct detwatch *w, uint64_t now)
{
	return w->wait_since_ns && now > w->wait_since_ns ? now - w->wait_since_ns : 0;
}
