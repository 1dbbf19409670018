/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int current_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&current_level);
}

const char *log_level_name(enum log_level level)
{
	return level <= LOG_ERROR ? level_names[level] : "unknown";
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

const char *log_quote(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	int bare = *s != '\0';

	for (const char *p = s; *p && bare; p++)
		bare = (unsigned char)*p > ' ' && *p != '"' && *p != '=' && *p != '\\' &&
		       (unsigned char)*p < 0x7f;
	if (bare) {
		snprintf(buf, cap, "%s", s);
		return buf;
	}
	if (cap < 3)
		return "\"\"";
	buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 6 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (*p < ' ' || *p == 0x7f) {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void log_emit(enum log_level level, const char *msg, const char *kvfmt, ...)
{
	char line[4096], ts[40], qmsg[1024];
	struct timespec now;
	struct tm tm;
	size_t n;
	va_list ap;

	if ((int)level < atomic_load(&current_level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s msg=%s", ts,
			     now.tv_nsec / 1000000, log_level_name(level),
			     log_quote(qmsg, sizeof(qmsg), msg));
	if (kvfmt && *kvfmt && n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, kvfmt);
		vsnprintf(line + n, sizeof(line) - n, kvfmt, ap);
		va_end(ap);
	}
	/* One fputs of a whole line: lines from threads do not interleave. */
	n = strlen(line);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n] = '\n';
	line[n + 1] = '\0';
	fputs(line, stderr);
}
