/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evtype: the event types of the EventEnvelope contract. One home for
 * their wire names and their count: every per-type counter (kernel losses,
 * forwarded, unresolved, the sinks' losses, acknowledgements) is an array
 * indexed by enum ev_type, and every metric's event_type label comes from
 * ev_type_name().
 */
#ifndef SENTINEL_EVTYPE_H
#define SENTINEL_EVTYPE_H

/* In the probe's order: an event of kind k (probes/event.h) is type
 * se_type(k), k - 1 (probe_event_type(), agent/probe.h). */
enum ev_type {
	EV_FILE_READ = 0,     /* SE_READ */
	EV_FILE_WRITE = 1,    /* SE_WRITE */
	EV_FILE_TRUNCATE = 2, /* SE_TRUNCATE */
	EV_FILE_MMAP = 3,     /* SE_MMAP */
	EV_FILE_RENAME = 4,   /* SE_RENAME */
	EV_FILE_LINK = 5,     /* SE_LINK */
	EV_TYPES
};

/* Not an event type: a lost kernel record that was no event (a name). */
#define EV_INTERNAL EV_TYPES

/* "file_read", "file_write", ...; "internal" for EV_INTERNAL; "unknown"
 * past it. */
static inline const char *ev_type_name(unsigned t)
{
	static const char *const names[EV_TYPES + 1] = {
		[EV_FILE_READ] = "file_read",	      [EV_FILE_WRITE] = "file_write",
		[EV_FILE_TRUNCATE] = "file_truncate", [EV_FILE_MMAP] = "file_mmap",
		[EV_FILE_RENAME] = "file_rename",     [EV_FILE_LINK] = "file_link",
		[EV_INTERNAL] = "internal",
	};

	return t <= EV_INTERNAL ? names[t] : "unknown";
}

/* The type named @s, or -1. */
static inline int ev_type_parse(const char *s)
{
	for (unsigned t = 0; t < EV_TYPES; t++)
		if (__builtin_strcmp(s, ev_type_name(t)) == 0)
			return (int)t;
	return -1;
}

#endif
