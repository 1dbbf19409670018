/* SPDX-License-Identifier: Apache-2.0 */
#include "pb_envelope.h"

#include <string.h>

/* Wire types: 0 varint, 2 length-delimited. A tag is (field << 3) | type. */
#define TAG_LD(f) ((uint8_t)((f) << 3 | 2))
#define DATA_TAG TAG_LD(10)
#define ENTRY_KEY_TAG TAG_LD(1)
#define ENTRY_VALUE_TAG TAG_LD(2)
/* Fields 16 and up take a two-byte tag (the tag as a varint):
 * 30 << 3 | 0 = 240, 31 << 3 | 0 = 248, 32 << 3 | 2 = 258. */
static const uint8_t ts_tag[2] = {0xf0, 0x01};
static const uint8_t seq_tag[2] = {0xf8, 0x01};
static const uint8_t agent_id_tag[2] = {0x82, 0x02};

/* The string fields below 16, in field order (protobuf-c writes fields
 * in the order of their numbers: 1-5, 9, data 10, then 30-32). */
enum { F_EVENT_ID, F_HOSTNAME, F_POD, F_NAMESPACE, F_CONTAINER, F_EVENT_TYPE, F_LOW };
static const uint8_t low_num[F_LOW] = {1, 2, 3, 4, 5, 9};

size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

uint8_t *pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A string field with a @tag_len-byte tag: nothing when empty (proto3). */
static size_t str_size(size_t tag_len, size_t n)
{
	return n ? tag_len + pb_varint_len(n) + n : 0;
}

static uint8_t *put_str(uint8_t *p, const uint8_t *tag, size_t tag_len, const char *s, size_t n)
{
	if (!n)
		return p;
	memcpy(p, tag, tag_len);
	p = pb_put_varint(p + tag_len, n);
	memcpy(p, s, n);
	return p + n;
}

static uint8_t *put_u64(uint8_t *p, const uint8_t tag[2], uint64_t v)
{
	if (!v)
		return p;
	memcpy(p, tag, 2);
	return pb_put_varint(p + 2, v);
}

size_t pb_envelope_encode(const struct pb_envelope *m, uint8_t *out, size_t cap)
{
	const char *low[F_LOW] = {m->event_id,	 m->hostname,	  m->pod_name,
				  m->namespace_, m->container_id, m->event_type};
	size_t n_data = m->n_data < PB_ENVELOPE_DATA_MAX ? m->n_data : PB_ENVELOPE_DATA_MAX;
	size_t low_len[F_LOW], key_len[PB_ENVELOPE_DATA_MAX], val_len[PB_ENVELOPE_DATA_MAX];
	size_t entry[PB_ENVELOPE_DATA_MAX], agent_len = slen(m->agent_id), total = 0;
	uint8_t *p = out;

	for (int f = 0; f < F_LOW; f++) {
		low_len[f] = slen(low[f]);
		total += str_size(1, low_len[f]);
	}
	for (size_t i = 0; i < n_data; i++) {
		key_len[i] = slen(m->keys[i]);
		val_len[i] = slen(m->vals[i]);
		/* An entry is a message of its own: sent even when empty. */
		entry[i] = str_size(1, key_len[i]) + str_size(1, val_len[i]);
		total += 1 + pb_varint_len(entry[i]) + entry[i];
	}
	total += (m->ts_unix_nano ? 2 + pb_varint_len(m->ts_unix_nano) : 0) +
		 (m->seq ? 2 + pb_varint_len(m->seq) : 0) + str_size(2, agent_len);
	if (total > cap)
		return total;
	for (int f = 0; f < F_LOW; f++) {
		uint8_t tag = TAG_LD(low_num[f]);

		p = put_str(p, &tag, 1, low[f], low_len[f]);
	}
	for (size_t i = 0; i < n_data; i++) {
		static const uint8_t key_tag = ENTRY_KEY_TAG, val_tag = ENTRY_VALUE_TAG;

		*p++ = DATA_TAG;
		p = pb_put_varint(p, entry[i]);
		p = put_str(p, &key_tag, 1, m->keys[i], key_len[i]);
		p = put_str(p, &val_tag, 1, m->vals[i], val_len[i]);
	}
	p = put_u64(p, ts_tag, m->ts_unix_nano);
	p = put_u64(p, seq_tag, m->seq);
	p = put_str(p, agent_id_tag, 2, m->agent_id, agent_len);
	return (size_t)(p - out);
}
