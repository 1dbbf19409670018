/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handoff: the loaded probe, from the compile helper to the agent. The
 * helper (sentinel-probe-build) links libbcc, compiles and loads the
 * programs, and exits; what outlives it is file descriptors, sent over a
 * SOCK_SEQPACKET socketpair in one message (SCM_RIGHTS), so the agent never
 * maps libLLVM or libclang.
 *
 * One message: a fixed header (magic, version, transport) and, per program
 * and map slot of probe_progs.h, the position of its fd among the message's
 * descriptors or -1. Both ends are one build; the version only catches a
 * helper from another one.
 */
#ifndef SENTINEL_HANDOFF_H
#define SENTINEL_HANDOFF_H

#include <stddef.h>

#include "probe_progs.h"

struct handoff {
	int transport;		      /* PROBE_RINGBUF or PROBE_PERF (probe.h) */
	int prog_fd[PROBE_MAX_PROGS]; /* by probe_progs[] index; -1: not built */
	int map_fd[PROBE_MAP_N];      /* by enum probe_map; -1: none */
};

/* Every fd -1. */
void handoff_init(struct handoff *h);

/* Sends @h's fds (those >= 0) and layout: 0, or -errno. The fds stay
 * the caller's. */
int handoff_send(int sock, const struct handoff *h);

/*
 * Receives one message into @h (fds owned by the caller, close-on-exec):
 * 0; or -errno with the reason in @err (the peer closed without sending:
 * -ENODATA; a malformed message: -EPROTO), and no fd left open.
 */
int handoff_recv(int sock, struct handoff *h, char *err, size_t errcap);

/* Closes every fd >= 0 of @h and sets it to -1. */
void handoff_close(struct handoff *h);

#endif
