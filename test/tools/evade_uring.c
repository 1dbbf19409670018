/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-evade-uring - swaps what an fd number means behind the probe's
 * back with io_uring, for test/integration/test_evasion.sh:
 *
 *   sentinel-evade-uring DECOY WATCHED N
 *
 * opens DECOY (fd K) with open(2), waits for the agent to post K's verdict,
 * then submits one io_uring chain: IORING_OP_CLOSE K, IORING_OP_OPENAT
 * WATCHED (which gets K, the lowest free number); neither is a syscall the
 * probe follows. Then a plain write(2) of N bytes on K. Prints "writer
 * pid=P tid=T" before the write; lingers EVADE_LINGER_MS (300) after it.
 * Exit 1 on error, 3 when the swap did not give K, 4 when io_uring is not
 * available (the test reports SKIP).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-evade-uring"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct stat a, b;
	const char *linger = getenv("EVADE_LINGER_MS");
	char *buf, line[64];
	int k, r, opened = -1, len;
	size_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: " PROG " DECOY WATCHED N\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 10);
	if (n == 0 || n > (1u << 20)) {
		fprintf(stderr, PROG ": bad byte count '%s'\n", argv[3]);
		return 2;
	}
	r = io_uring_queue_init(4, &ring, 0);
	if (r < 0) {
		fprintf(stderr, PROG ": io_uring_queue_init: %s\n", strerror(-r));
		return 4;
	}
	k = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (k < 0) {
		fprintf(stderr, PROG ": open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sleep_ms(100); /* the agent posts the decoy's verdict within a drain */

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_close(sqe, k);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = 1;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_openat(sqe, AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	sqe->user_data = 2;
	r = io_uring_submit_and_wait(&ring, 2);
	if (r < 0) {
		fprintf(stderr, PROG ": io_uring_submit: %s\n", strerror(-r));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		r = io_uring_wait_cqe(&ring, &cqe);
		if (r < 0) {
			fprintf(stderr, PROG ": io_uring_wait_cqe: %s\n", strerror(-r));
			return 1;
		}
		if (cqe->res < 0) {
			fprintf(stderr, PROG ": io_uring op %llu: %s\n",
				(unsigned long long)cqe->user_data, strerror(-cqe->res));
			return cqe->res == -EINVAL || cqe->res == -EOPNOTSUPP ? 4 : 1;
		}
		if (cqe->user_data == 2)
			opened = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	if (opened != k || fstat(k, &a) < 0 || stat(argv[2], &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		fprintf(stderr, PROG ": setup: the swap gave fd %d, wanted %d on %s\n", opened, k,
			argv[2]);
		return 3;
	}
	len = snprintf(line, sizeof(line), "writer pid=%d tid=%d\n", getpid(), gettid());
	if (write(STDOUT_FILENO, line, len) != len)
		return 1;
	buf = malloc(n);
	if (!buf)
		return 1;
	memset(buf, 'x', n);
	if (write(k, buf, n) != (ssize_t)n) {
		fprintf(stderr, PROG ": write: %s\n", strerror(errno));
		return 1;
	}
	free(buf);
	sleep_ms(linger ? atol(linger) : 300);
	io_uring_queue_exit(&ring);
	return 0;
}
