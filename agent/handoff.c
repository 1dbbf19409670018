/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HANDOFF_MAGIC 0x53454248u /* "SEBH" */
#define HANDOFF_VERSION 1u
#define HANDOFF_MAX_FDS (PROBE_MAX_PROGS + PROBE_MAP_N)

/* Positions in the message's descriptor array, -1: none. */
struct wire {
	uint32_t magic;
	uint32_t version;
	int32_t transport;
	int32_t nfds;
	int32_t prog[PROBE_MAX_PROGS];
	int32_t map[PROBE_MAP_N];
};

void handoff_init(struct handoff *h)
{
	h->transport = 0;
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++)
		h->prog_fd[i] = -1;
	for (unsigned i = 0; i < PROBE_MAP_N; i++)
		h->map_fd[i] = -1;
}

void handoff_close(struct handoff *h)
{
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++) {
		if (h->prog_fd[i] >= 0)
			close(h->prog_fd[i]);
		h->prog_fd[i] = -1;
	}
	for (unsigned i = 0; i < PROBE_MAP_N; i++) {
		if (h->map_fd[i] >= 0)
			close(h->map_fd[i]);
		h->map_fd[i] = -1;
	}
}

/* @fd's position in @fds, appended if it is a descriptor; -1 otherwise. */
static int32_t place(int fd, int *fds, int32_t *n)
{
	if (fd < 0)
		return -1;
	fds[*n] = fd;
	return (*n)++;
}

int handoff_send(int sock, const struct handoff *h)
{
	int fds[HANDOFF_MAX_FDS];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct wire w = {
		.magic = HANDOFF_MAGIC, .version = HANDOFF_VERSION, .transport = h->transport};
	struct iovec iov = {.iov_base = &w, .iov_len = sizeof(w)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++)
		w.prog[i] = place(h->prog_fd[i], fds, &w.nfds);
	for (unsigned i = 0; i < PROBE_MAP_N; i++)
		w.map[i] = place(h->map_fd[i], fds, &w.nfds);
	memset(&ctl, 0, sizeof(ctl));
	if (w.nfds > 0) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)w.nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)w.nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)w.nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);

		if (n == (ssize_t)sizeof(w))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : -EMSGSIZE;
	}
}

/* Whether every position of @w is -1 or a distinct one below nfds. */
static int positions_valid(const struct wire *w)
{
	unsigned char used[HANDOFF_MAX_FDS] = {0};
	int32_t n = 0;

	for (unsigned i = 0; i < PROBE_MAX_PROGS + PROBE_MAP_N; i++) {
		int32_t pos = i < PROBE_MAX_PROGS ? w->prog[i] : w->map[i - PROBE_MAX_PROGS];

		if (pos == -1)
			continue;
		if (pos < 0 || pos >= w->nfds || used[pos])
			return 0;
		used[pos] = 1;
		n++;
	}
	return n == w->nfds;
}

/* The descriptors of @msg's SCM_RIGHTS into @fds: how many (-1: more than fit). */
static int fds_of(struct msghdr *msg, int *fds, int cap)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		int k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
			if (n < cap)
				fds[n] = fd;
			else
				close(fd);
			n++;
		}
	}
	return n;
}

static int fail(char *err, size_t cap, int code, const char *what)
{
	snprintf(err, cap, "%s", what);
	return code;
}

int handoff_recv(int sock, struct handoff *h, char *err, size_t errcap)
{
	int fds[HANDOFF_MAX_FDS];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct wire w;
	struct iovec iov = {.iov_base = &w, .iov_len = sizeof(w)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	int nfds, code = 0;

	handoff_init(h);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		code = -errno;
		snprintf(err, errcap, "receiving the probe: %s", strerror(errno));
		return code;
	}
	nfds = fds_of(&msg, fds, HANDOFF_MAX_FDS);
	if (n == 0)
		code = fail(err, errcap, -ENODATA, "the helper exited without sending the probe");
	else if (n != (ssize_t)sizeof(w) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		code = fail(err, errcap, -EPROTO, "malformed message: wrong size or truncated");
	else if (w.magic != HANDOFF_MAGIC || w.version != HANDOFF_VERSION)
		code = fail(err, errcap, -EPROTO,
			    "malformed message: not this build's helper (magic or version)");
	else if (nfds > HANDOFF_MAX_FDS || nfds != w.nfds || !positions_valid(&w))
		code = fail(err, errcap, -EPROTO,
			    "malformed message: descriptors do not match their table");
	if (code) {
		for (int i = 0; i < nfds && i < HANDOFF_MAX_FDS; i++)
			close(fds[i]);
		return code;
	}
	h->transport = w.transport;
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++)
		h->prog_fd[i] = w.prog[i] < 0 ? -1 : fds[w.prog[i]];
	for (unsigned i = 0; i < PROBE_MAP_N; i++)
		h->map_fd[i] = w.map[i] < 0 ? -1 : fds[w.map[i]];
	return 0;
}
