/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-evade-aio - bytes moved through native Linux AIO (io_setup(2),
 * io_submit(2), io_getevents(2)), for test/integration/test_evasion.sh: the
 * process makes no read(2)/write(2) of its own; the kernel does the I/O for
 * the iocbs it hands over in one io_submit(2). Raw syscalls and
 * <linux/aio_abi.h>, no libaio.
 *
 *   sentinel-evade-aio MODE PATH N
 *
 * Each mode reads or writes N bytes ('A'..'Z' repeated) per iocb, all its
 * iocbs in one io_submit(2) at offset 0 (batch: 0, N, 2N; batch40: 40 of
 * them, N apart; fresh40: 40 files, offset 0 each), prints "writer
 * pid=P tid=T" on stdout, as one write, before the io_submit, waits for
 * every completion with io_getevents(2), checks each result is N, and
 * lingers EVADE_LINGER_MS (default 300) after it. PATH is used as given.
 * Exit 1 on error, 2 on bad usage, 3 when the setup did not come out as
 * intended (the file written does not hold what the iocbs wrote), 4 when
 * native AIO, or what the mode needs, is not available (the test reports
 * SKIP).
 *
 *   pwrite PATH N      open(2) PATH, one IOCB_CMD_PWRITE
 *   pwritev PATH N     open(2) PATH, one IOCB_CMD_PWRITEV (2 iovecs, N in all)
 *   pread PATH N       open(2) PATH read-only, one IOCB_CMD_PREAD (PATH must
 *                      hold N bytes)
 *   preadv PATH N      as pread, IOCB_CMD_PREADV (2 iovecs, N in all)
 *   batch PATH N       open(2) PATH, three IOCB_CMD_PWRITEs of N bytes at
 *                      offsets 0, N, 2N in one io_submit(2)
 *   batch40 PATH N     as batch with 40 iocbs, more than 33 (the probe's
 *                      tail calls per io_submit)
 *   batch200 PATH N    ... with 200
 *   fresh40 PATH N     40 IOCB_CMD_PWRITEs, each on its own new file PATH.I
 *                      (I = 0..39): 40 files never seen, each to be walked
 *   direct PATH 4096   open(2) PATH O_DIRECT, one IOCB_CMD_PWRITE from a
 *                      4096-aligned buffer (N must be 4096; a filesystem that
 *                      refuses O_DIRECT with EINVAL is exit 4)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-evade-aio"
#include "evade_tool.h"

#define MAX_BYTES (1u << 20)
#define MAX_IOCBS 200
#define DIRECT_BYTES 4096 /* the direct mode's N, and its buffer's alignment */
#define WAIT_SECONDS 10	  /* io_getevents' deadline: a lost completion is an error */

struct mode {
	const char *name;
	unsigned opcode; /* IOCB_CMD_* */
	int iocbs;	 /* in the one io_submit(2), N bytes each */
	int direct;	 /* O_DIRECT, N == DIRECT_BYTES, an aligned buffer */
	int files;	 /* a file of its own per iocb, PATH.I (0: all on PATH) */
};

static const struct mode modes[] = {
	{"pwrite", IOCB_CMD_PWRITE, 1, 0, 0},
	{"pwritev", IOCB_CMD_PWRITEV, 1, 0, 0},
	{"pread", IOCB_CMD_PREAD, 1, 0, 0},
	{"preadv", IOCB_CMD_PREADV, 1, 0, 0},
	{"batch", IOCB_CMD_PWRITE, 3, 0, 0},
	{"direct", IOCB_CMD_PWRITE, 1, 1, 0},
	/* more iocbs in one call than the probe's 33 tail calls: one file,
	 * walked once, the rest decided without a walk (SE_AIO_FAST a run) */
	{"batch40", IOCB_CMD_PWRITE, 40, 0, 0},
	{"batch200", IOCB_CMD_PWRITE, 200, 0, 0},
	/* ... 40 files never seen: a walk each, one per tail call */
	{"fresh40", IOCB_CMD_PWRITE, 40, 0, 1},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* ---- the AIO system calls (no libaio) ---- */

static int sys_io_setup(unsigned nr, aio_context_t *ctx)
{
	return (int)syscall(SYS_io_setup, nr, ctx);
}

static int sys_io_destroy(aio_context_t ctx)
{
	return (int)syscall(SYS_io_destroy, ctx);
}

static long sys_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, nr, iocbs);
}

static long sys_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *events,
			     struct timespec *timeout)
{
	return syscall(SYS_io_getevents, ctx, min_nr, nr, events, timeout);
}

/* ---- the run ---- */

static int is_read(const struct mode *m)
{
	return m->opcode == IOCB_CMD_PREAD || m->opcode == IOCB_CMD_PREADV;
}

static int is_vectored(const struct mode *m)
{
	return m->opcode == IOCB_CMD_PWRITEV || m->opcode == IOCB_CMD_PREADV;
}

/* open_path: PATH as the mode reads or writes it; O_DIRECT refused by the
 * filesystem (EINVAL) is exit 4. A file to read must hold N bytes. */
static int open_path(const struct mode *m, const char *path, size_t n)
{
	int flags = is_read(m) ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC;
	struct stat st;
	int fd;

	if (m->direct)
		flags |= O_DIRECT;
	fd = open(path, flags, 0666);
	if (fd < 0 && m->direct && errno == EINVAL)
		unavailable("O_DIRECT on this filesystem", errno);
	if (fd < 0) {
		fprintf(stderr, PROG ": open %s: %s\n", path, strerror(errno));
		exit(EXIT_ERROR);
	}
	if (is_read(m)) {
		if (fstat(fd, &st) < 0)
			die("fstat", errno);
		if (st.st_size < (off_t)n) {
			fprintf(stderr, PROG ": %s holds %lld bytes, fewer than %zu\n", path,
				(long long)st.st_size, n);
			exit(EXIT_ERROR);
		}
	}
	return fd;
}

/* aio_setup NR: a context for NR requests; a kernel without native AIO
 * (ENOSYS), or a filter that forbids it (EPERM), is exit 4. */
static aio_context_t aio_setup(unsigned nr)
{
	aio_context_t ctx = 0; /* io_setup(2) wants it zeroed */

	if (sys_io_setup(nr, &ctx) < 0) {
		if (errno == ENOSYS || errno == EPERM)
			unavailable("io_setup", errno);
		die("io_setup", errno);
	}
	return ctx;
}

/* prep: iocb I of the mode, N bytes at offset I * N (0 with a file per
 * iocb) from BUF (vectored:
 * two iovecs, N / 2 and the rest), tagged I + 1 in aio_data */
static void prep(const struct mode *m, struct iocb *cb, struct iovec *iov, int i, int fd, char *buf,
		 size_t n)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = (__u64)i + 1;
	cb->aio_lio_opcode = (__u16)m->opcode;
	cb->aio_fildes = (__u32)fd;
	cb->aio_offset = m->files ? 0 : (__s64)(i * n);
	if (is_vectored(m)) {
		iov[0] = (struct iovec){buf, n / 2};
		iov[1] = (struct iovec){buf + n / 2, n - n / 2};
		cb->aio_buf = (__u64)(uintptr_t)iov;
		cb->aio_nbytes = 2; /* the vectored commands: the iovec count */
	} else {
		cb->aio_buf = (__u64)(uintptr_t)buf;
		cb->aio_nbytes = n;
	}
}

/* reap: waits for the NR completions, each tagged 1..NR once, each with
 * result N; -EINVAL on an O_DIRECT request (the filesystem or device
 * refused it) is exit 4. */
static void reap(const struct mode *m, aio_context_t ctx, int nr, size_t n)
{
	struct io_event ev[MAX_IOCBS];
	int seen[MAX_IOCBS + 1] = {0};
	int got = 0;

	while (got < nr) {
		struct timespec ts = {WAIT_SECONDS, 0};
		long r = sys_io_getevents(ctx, nr - got, nr - got, ev, &ts);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("io_getevents", errno);
		if (r == 0) {
			fprintf(stderr, PROG ": io_getevents: %d of %d completions in %d s\n", got,
				nr, WAIT_SECONDS);
			exit(EXIT_ERROR);
		}
		for (long i = 0; i < r; i++) {
			__u64 tag = ev[i].data;
			__s64 res = ev[i].res;

			if (tag < 1 || tag > (__u64)nr || seen[tag]) {
				fprintf(stderr,
					PROG ": unexpected completion (data %llu, res %lld)\n",
					(unsigned long long)tag, (long long)res);
				exit(EXIT_ERROR);
			}
			seen[tag] = 1;
			if (res == -EINVAL && m->direct)
				unavailable("an O_DIRECT write here", EINVAL);
			if (res < 0) {
				fprintf(stderr, PROG ": iocb %llu: %s\n", (unsigned long long)tag,
					strerror((int)-res));
				exit(EXIT_ERROR);
			}
			if ((size_t)res != n) {
				fprintf(stderr, PROG ": iocb %llu gave %lld bytes, wanted %zu\n",
					(unsigned long long)tag, (long long)res, n);
				exit(EXIT_ERROR);
			}
		}
		got += (int)r;
	}
}

/* run: the mode on PATH (or PATH.I), N bytes per iocb, all in one
 * io_submit(2) */
static int run(const struct mode *m, const char *path, char *buf, size_t n)
{
	static struct iocb cbs[MAX_IOCBS], *ptrs[MAX_IOCBS];
	static struct iovec iov[MAX_IOCBS][2];
	static int fds[MAX_IOCBS];
	char name[4096];
	struct stat st;
	aio_context_t ctx = aio_setup(MAX_IOCBS);
	int nfds = m->files ? m->iocbs : 1;
	off_t want = m->files ? (off_t)n : (off_t)(n * (size_t)m->iocbs);
	long r;

	for (int i = 0; i < nfds; i++) {
		if (m->files &&
		    snprintf(name, sizeof(name), "%s.%d", path, i) >= (int)sizeof(name)) {
			fprintf(stderr, PROG ": %s: name too long\n", path);
			return EXIT_USAGE;
		}
		fds[i] = open_path(m, m->files ? name : path, n);
	}
	for (int i = 0; i < m->iocbs; i++) {
		prep(m, &cbs[i], iov[i], i, fds[m->files ? i : 0], buf, n);
		ptrs[i] = &cbs[i];
	}
	announce();
	r = sys_io_submit(ctx, m->iocbs, ptrs);
	if (r < 0)
		die("io_submit", errno);
	if (r != m->iocbs) {
		fprintf(stderr, PROG ": io_submit took %ld of %d iocbs\n", r, m->iocbs);
		exit(EXIT_ERROR);
	}
	reap(m, ctx, m->iocbs, n);
	if (sys_io_destroy(ctx) < 0)
		die("io_destroy", errno);
	for (int i = 0; i < nfds; i++) {
		/* the writes landed where they were meant to */
		if (!is_read(m) && (fstat(fds[i], &st) < 0 || st.st_size != want)) {
			fprintf(stderr,
				PROG ": setup: %s%s does not hold %lld bytes after the writes\n",
				path, m->files ? ".I" : "", (long long)want);
			return EXIT_SETUP;
		}
		if (close(fds[i]) < 0)
			die("close", errno);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " MODE PATH N (see the source's header)\nmodes:\n");
	for (size_t i = 0; i < NMODES; i++)
		fprintf(stderr, "  %s PATH %s\n", modes[i].name, modes[i].direct ? "4096" : "N");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct mode *m = NULL;
	const char *linger = getenv("EVADE_LINGER_MS");
	char *buf, *end;
	size_t n;
	int rc;

	for (size_t i = 0; argc >= 2 && i < NMODES; i++)
		if (!strcmp(argv[1], modes[i].name))
			m = &modes[i];
	if (!m || argc != 4)
		return usage();
	errno = 0;
	n = strtoul(argv[3], &end, 10);
	if (errno || *end || n == 0 || n > MAX_BYTES || (m->direct && n != DIRECT_BYTES)) {
		fprintf(stderr, PROG ": bad byte count '%s'%s\n", argv[3],
			m->direct ? " (direct: 4096)" : "");
		return EXIT_USAGE;
	}
	/* aligned for O_DIRECT; the batch's three writes share it */
	if (posix_memalign((void **)&buf, DIRECT_BYTES, n))
		die("posix_memalign", ENOMEM);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('A' + i % 26);
	rc = run(m, argv[2], buf, n);
	if (rc == 0)
		sleep_ms(linger ? atol(linger) : 300);
	free(buf);
	return rc;
}
