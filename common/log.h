/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One log format for the agent and the detector: logfmt on stderr,
 *   ts=2026-11-28T10:12:48.123Z level=info msg="probe attached" transport=ringbuf
 * The message is quoted and escaped; the key=value tail is the caller's
 * printf-formatted text (use log_quote() for values that may hold spaces).
 */
#ifndef SENTINEL_LOG_H
#define SENTINEL_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "debug" | "info" | "warn" | "warning" | "error" -> 0, else -1 */
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_emit(enum log_level level, const char *msg, const char *kvfmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes s as a logfmt value (quoted and escaped when needed) into buf. */
const char *log_quote(char *buf, size_t cap, const char *s);

#define log_debug(msg, ...) log_emit(LOG_DEBUG, msg, "" __VA_ARGS__)
#define log_info(msg, ...) log_emit(LOG_INFO, msg, "" __VA_ARGS__)
#define log_warn(msg, ...) log_emit(LOG_WARN, msg, "" __VA_ARGS__)
#define log_error(msg, ...) log_emit(LOG_ERROR, msg, "" __VA_ARGS__)

#endif
