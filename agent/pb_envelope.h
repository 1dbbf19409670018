/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pb_envelope: one EventEnvelope (proto/events.proto) encoded straight from
 * the gRPC sink's strings, the bytes protobuf-c's
 * sentinel__v1__event_envelope__pack() writes (test_pb_envelope compares
 * them on random envelopes). Why not protobuf-c here: its pack sizes the
 * message, then sizes every map entry again while writing it, with a
 * strlen() per string per pass; that was ~30 % of the agent's reader
 * thread flat out (perf, stop 37). This measures each string once and
 * writes once. Everything else (answers, the detector, tests) keeps
 * protobuf-c.
 */
#ifndef SENTINEL_PB_ENVELOPE_H
#define SENTINEL_PB_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define PB_ENVELOPE_DATA_MAX 32 /* data entries at most */
#define PB_VARINT_MAX 10	/* bytes of the longest varint (a uint64) */

/* Base-128 varints, as protobuf writes them: the bytes @v takes, and @v
 * written at @p (returns the byte after it). */
size_t pb_varint_len(uint64_t v);
uint8_t *pb_put_varint(uint8_t *p, uint64_t v);

/* Borrowed, NUL-terminated strings; NULL is the same as "" (not sent). */
struct pb_envelope {
	const char *event_id, *hostname, *pod_name, *namespace_, *container_id, *event_type;
	const char *const *keys; /* data: n_data keys and values, in order */
	const char *const *vals;
	size_t n_data; /* entries past PB_ENVELOPE_DATA_MAX are not sent */
	uint64_t ts_unix_nano, seq;
	const char *agent_id;
};

/*
 * Writes @m's encoding at @out when it fits in @cap bytes; returns its
 * length either way (more than @cap: nothing written; call again with
 * room for it).
 */
size_t pb_envelope_encode(const struct pb_envelope *m, uint8_t *out, size_t cap);

#endif
