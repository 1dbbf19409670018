/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the evasion suite's attackers (evade_uring.c, evade_aio.c) share:
 * their exit codes, which test_evasion.sh reads, the "writer" line it
 * takes the pid from, and the error exits. Define PROG (the tool's name,
 * a string literal) before including it; one tool per executable.
 */
#ifndef SENTINEL_EVADE_TOOL_H
#define SENTINEL_EVADE_TOOL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* 3: the setup did not do what the case needs; 4: the kernel (or the
 * filesystem) does not offer the technique: the case is a SKIP */
enum { EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_SETUP = 3, EXIT_UNAVAILABLE = 4 };

static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* die WHAT ERR: "WHAT: strerror(ERR)", exit 1 */
__attribute__((noreturn)) static inline void die(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(EXIT_ERROR);
}

/* unavailable WHAT ERR: this kernel or filesystem does not offer WHAT;
 * exit 4 (SKIP) */
__attribute__((noreturn)) static inline void unavailable(const char *what, int err)
{
	fprintf(stderr, PROG ": unavailable: %s: %s\n", what, strerror(err));
	exit(EXIT_UNAVAILABLE);
}

/* announce: "writer pid=P tid=T", one write(2), before the I/O */
static inline void announce(void)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "writer pid=%d tid=%d\n", getpid(), gettid());

	if (write(STDOUT_FILENO, line, (size_t)len) != len)
		die("write stdout", errno);
}

#endif /* SENTINEL_EVADE_TOOL_H */
