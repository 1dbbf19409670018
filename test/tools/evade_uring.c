/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-evade-uring - bytes moved through io_uring, for
 * test/integration/test_evasion.sh: the kernel reads or writes for the
 * process with no read(2)/write(2) of its own, or an fd number changes
 * meaning by requests no syscall tracer follows.
 *
 *   sentinel-evade-uring MODE ARG... N
 *
 * Each mode reads or writes N bytes ('A'..'Z' repeated) in one request (or
 * in one write(2) where said), prints "writer pid=P tid=T" on stdout, as
 * one write, before that I/O, and lingers EVADE_LINGER_MS (default 300)
 * after it. Paths are used as given. Exit 1 on error, 2 on bad usage, 3
 * when the setup did not come out as intended (a swap left the fd on
 * another file), 4 when io_uring, or a feature the mode needs, is not
 * available (the test reports SKIP).
 *
 *   swap DECOY WATCHED N       open DECOY (fd K) with open(2), wait for the
 *                              agent to post K's verdict, then one chain:
 *                              IORING_OP_CLOSE K, IORING_OP_OPENAT WATCHED
 *                              (gets K); then a plain write(2) on K
 *   write PATH N               open(2) PATH, IORING_OP_WRITE
 *   writev PATH N              open(2) PATH, IORING_OP_WRITEV (2 iovecs)
 *   read PATH N                open(2) PATH read-only, IORING_OP_READ (PATH
 *                              must hold N bytes)
 *   readv PATH N               as read, IORING_OP_READV (2 iovecs)
 *   write-fixed-buf PATH N     a registered buffer, IORING_OP_WRITE_FIXED
 *   fixed-file PATH N          open(2) PATH, register the fd, close(2) it,
 *                              then IORING_OP_WRITE on fixed slot 0
 *   openat-direct PATH N       one chain: IORING_OP_OPENAT straight into
 *                              fixed slot 0, IORING_OP_WRITE on slot 0 (no
 *                              fd ever exists in the process)
 *   openat-direct-skip PATH N  as openat-direct, the write with
 *                              IOSQE_CQE_SKIP_SUCCESS, a NOP linked after it
 *   openat-silent PATH N       as openat-direct-skip, the OPENAT (O_CREAT,
 *                              no O_TRUNC) with IOSQE_CQE_SKIP_SUCCESS too:
 *                              only the NOP completes
 *   openat-alloc-silent PATH N ... OPENAT2 into IORING_FILE_INDEX_ALLOC, the
 *                              write on slot 0 (what the kernel picks)
 *   skip PATH N                IORING_OP_WRITE with IOSQE_CQE_SKIP_SUCCESS
 *                              (no completion), linked to a NOP to wait on
 *   async PATH N               IORING_OP_WRITE with IOSQE_ASYNC (an io-wq
 *                              worker thread does it)
 *   sqpoll PATH N              IORING_OP_WRITE on an IORING_SETUP_SQPOLL
 *                              ring (the kernel's SQ thread submits it)
 *   swap-linked DECOY PATH N   fd K = DECOY; after K's verdict, one chain: a
 *                              100 ms IORING_OP_TIMEOUT hard-linked to an
 *                              IORING_OP_WRITE on K; while the timeout runs,
 *                              dup2(2) PATH over K: the write, issued after
 *                              the timeout, goes to PATH
 *   swap-linked-skip DECOY PATH N
 *                              as swap-linked, the write with
 *                              IOSQE_CQE_SKIP_SUCCESS, a NOP linked after it
 *   renameat SRC DST N         open(2) SRC, write(2) 1 byte, then
 *                              IORING_OP_RENAMEAT SRC -> DST, then write(2)
 *                              N bytes on the same fd (now DST)
 *   linkat SRC DST N           IORING_OP_LINKAT SRC -> DST (a hard link; N
 *                              unused)
 *   linkat-dirfd SRC DST N     ... the names relative to O_PATH fds of
 *                              their directories
 *
 * Changes that are no write (PATH must exist and hold at least N bytes):
 *   fallocate PATH N           IORING_OP_FALLOCATE PUNCH_HOLE|KEEP_SIZE of
 *                              bytes [0, N)
 *   ftruncate PATH N           IORING_OP_FTRUNCATE (6.9) to its size - N
 *   open-trunc PATH N          IORING_OP_OPENAT O_WRONLY|O_TRUNC (an fd)
 *   open-trunc-direct PATH N   ... into registered slot 0 (no fd)
 *   open-trunc-alloc PATH N    IORING_OP_OPENAT2 O_TRUNC into a slot the
 *                              kernel picks (IORING_FILE_INDEX_ALLOC)
 *   open-trunc-skip PATH N     IORING_OP_OPENAT O_TRUNC with
 *                              IOSQE_CQE_SKIP_SUCCESS, a NOP linked
 * Splices (a pipe on the other side; PATH must hold N bytes to read it):
 *   splice-in PATH N           IORING_OP_SPLICE N bytes of PATH into a pipe
 *   splice-in-fixed PATH N     ... PATH a registered file whose fd was closed
 *                              (SPLICE_F_FD_IN_FIXED)
 *   splice-in-skip PATH N      ... with IOSQE_CQE_SKIP_SUCCESS, a NOP linked
 *   splice-out PATH N          N bytes written to a pipe, IORING_OP_SPLICE
 *                              from it into PATH (opened O_TRUNC)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-evade-uring"
#include "evade_tool.h"

/* The mode's -skip variant (its table row needs IORING_FEAT_CQE_SKIP): the
 * modes that have one put IOSQE_CQE_SKIP_SUCCESS on their write. Set once,
 * by main, from the row. */
static int cqe_skip;
#define MAX_BYTES (1u << 20)
#define OP(op) (1ull << (op)) /* a mode's opcodes, as a mask */

/* user_data of each request: which CQE is which */
enum tag { TAG_IO = 1, TAG_OPEN, TAG_CLOSE, TAG_TIMEOUT, TAG_NOP, TAG_RENAME, TAG_LINK };
static const char *const tag_names[] = {
	[TAG_IO] = "the request",  [TAG_OPEN] = "openat", [TAG_CLOSE] = "close",
	[TAG_TIMEOUT] = "timeout", [TAG_NOP] = "nop",	  [TAG_RENAME] = "renameat",
	[TAG_LINK] = "linkat",
};
#define SE_IORING_OP_FTRUNCATE 55 /* 6.9; liburing 2.3's enum ends before it */

static const char *tag_name(__u64 tag)
{
	return tag < sizeof(tag_names) / sizeof(tag_names[0]) && tag_names[tag] ? tag_names[tag]
										: "?";
}

/* the opcodes the modes use, for the exit-4 message */
static const char *op_name(int op)
{
	switch (op) {
	case IORING_OP_NOP: return "IORING_OP_NOP";
	case IORING_OP_READV: return "IORING_OP_READV";
	case IORING_OP_WRITEV: return "IORING_OP_WRITEV";
	case IORING_OP_WRITE_FIXED: return "IORING_OP_WRITE_FIXED";
	case IORING_OP_TIMEOUT: return "IORING_OP_TIMEOUT";
	case IORING_OP_OPENAT: return "IORING_OP_OPENAT";
	case IORING_OP_CLOSE: return "IORING_OP_CLOSE";
	case IORING_OP_READ: return "IORING_OP_READ";
	case IORING_OP_WRITE: return "IORING_OP_WRITE";
	case IORING_OP_RENAMEAT: return "IORING_OP_RENAMEAT";
	case IORING_OP_LINKAT: return "IORING_OP_LINKAT";
	case IORING_OP_FALLOCATE: return "IORING_OP_FALLOCATE";
	case IORING_OP_OPENAT2: return "IORING_OP_OPENAT2";
	case IORING_OP_SPLICE: return "IORING_OP_SPLICE";
	case SE_IORING_OP_FTRUNCATE: return "IORING_OP_FTRUNCATE";
	default: return "an opcode";
	}
}

/* setup_failed WHAT ERR: a setup or register call's error: one saying the
 * kernel has no such call or feature is exit 4, any other exit 1. */
__attribute__((noreturn)) static void setup_failed(const char *what, int err)
{
	if (err == ENOSYS || err == EINVAL || err == EOPNOTSUPP)
		unavailable(what, err);
	die(what, err);
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0666);

	if (fd < 0) {
		fprintf(stderr, PROG ": open %s: %s\n", path, strerror(errno));
		exit(EXIT_ERROR);
	}
	return fd;
}

static int open_write(const char *path)
{
	return open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
}

/* ring_init: a ring with setup FLAGS; exit 4 unless the kernel has
 * FEATURES (IORING_FEAT_*) and every opcode in OPS (OP() mask). */
static void ring_init(struct io_uring *ring, unsigned flags, unsigned features, uint64_t ops)
{
	struct io_uring_params p = {.flags = flags};
	struct io_uring_probe *probe;
	int r;

	if (flags & IORING_SETUP_SQPOLL)
		p.sq_thread_idle = 2000;
	r = io_uring_queue_init_params(8, ring, &p);
	/* EPERM too: io_uring_disabled, or a seccomp filter */
	if (r == -EPERM)
		unavailable("io_uring_setup", -r);
	if (r < 0)
		setup_failed("io_uring_setup", -r);
	if ((p.features & features) != features)
		unavailable("a feature this mode needs (IORING_FEAT_*)", EOPNOTSUPP);
	probe = io_uring_get_probe_ring(ring);
	if (!probe)
		unavailable("IORING_REGISTER_PROBE", EOPNOTSUPP);
	for (int op = 0; op < 64; op++) {
		if ((ops & OP(op)) && !io_uring_opcode_supported(probe, op))
			unavailable(op_name(op), EOPNOTSUPP);
	}
	io_uring_free_probe(probe);
}

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		fprintf(stderr, PROG ": the submission queue is full\n");
		exit(EXIT_ERROR);
	}
	return sqe;
}

/* mark SQE TAG FLAGS: after its prep (which clears the SQE) */
static void mark(struct io_uring_sqe *sqe, enum tag tag, unsigned flags)
{
	sqe->user_data = tag;
	sqe->flags |= flags;
}

/* submit: hands the WANT queued SQEs (a whole chain) to the kernel */
static void submit(struct io_uring *ring, int want)
{
	int r = io_uring_submit(ring);

	if (r < 0)
		die("io_uring_submit", -r);
	if (r != want) {
		fprintf(stderr, PROG ": io_uring_submit took %d of %d requests\n", r, want);
		exit(EXIT_ERROR);
	}
}

/* reap TAG WANT: the next completion must be TAG's, with result WANT */
static void reap(struct io_uring *ring, enum tag tag, int want)
{
	struct io_uring_cqe *cqe;
	__u64 got;
	int r, res;

	r = io_uring_wait_cqe(ring, &cqe);
	if (r < 0)
		die("io_uring_wait_cqe", -r);
	got = cqe->user_data;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	if (got == tag && res == want)
		return;
	if (res < 0 && res != want)
		fprintf(stderr, PROG ": %s: %s\n", tag_name(got), strerror(-res));
	else if (got != tag)
		fprintf(stderr, PROG ": %s completed (%d) before %s\n", tag_name(got), res,
			tag_name(tag));
	else
		fprintf(stderr, PROG ": %s gave %d, wanted %d\n", tag_name(got), res, want);
	exit(EXIT_ERROR);
}

/* reap_res TAG: the next completion, which must be TAG's: its result */
static int reap_res(struct io_uring *ring, enum tag tag)
{
	struct io_uring_cqe *cqe;
	int r = io_uring_wait_cqe(ring, &cqe), res;
	__u64 got;

	if (r < 0)
		die("io_uring_wait_cqe", -r);
	got = cqe->user_data;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	if (got != tag) {
		fprintf(stderr, PROG ": %s completed (%d) before %s\n", tag_name(got), res,
			tag_name(tag));
		exit(EXIT_ERROR);
	}
	return res;
}

/* no_more_cqes: nothing else completed (a skipped success stayed silent) */
static void no_more_cqes(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(ring, &cqe) == 0) {
		fprintf(stderr, PROG ": unexpected completion of %s: %d\n",
			tag_name(cqe->user_data), cqe->res);
		exit(EXIT_ERROR);
	}
}

/* finish_io SKIP N: the chain's last completion, once the others are
 * reaped: the I/O's, of N bytes, or with SKIP the NOP linked after it, and
 * no other (the skipped success stayed silent) */
static void finish_io(struct io_uring *ring, int skip, size_t n)
{
	if (skip) {
		reap(ring, TAG_NOP, 0);
		no_more_cqes(ring);
	} else {
		reap(ring, TAG_IO, (int)n);
	}
}

/* prep_io OP FD: the N-byte request (WRITE, READ, WRITEV, READV: two
 * iovecs; WRITE_FIXED: registered buffer 0) at offset 0 on FD, to mark() */
static struct io_uring_sqe *prep_io(struct io_uring *ring, int op, int fd, char *buf, size_t n)
{
	static struct iovec iov[2];
	struct io_uring_sqe *sqe = sqe_get(ring);

	iov[0] = (struct iovec){buf, n / 2};
	iov[1] = (struct iovec){buf + n / 2, n - n / 2};
	switch (op) {
	case IORING_OP_WRITE: io_uring_prep_write(sqe, fd, buf, n, 0); break;
	case IORING_OP_READ: io_uring_prep_read(sqe, fd, buf, n, 0); break;
	case IORING_OP_WRITEV: io_uring_prep_writev(sqe, fd, iov, 2, 0); break;
	case IORING_OP_READV: io_uring_prep_readv(sqe, fd, iov, 2, 0); break;
	case IORING_OP_WRITE_FIXED: io_uring_prep_write_fixed(sqe, fd, buf, n, 0, 0); break;
	default: fprintf(stderr, PROG ": prep_io: opcode %d\n", op); exit(EXIT_ERROR);
	}
	return sqe;
}

/* io_once OP FD FLAGS: one request of N bytes with IOSQE_ FLAGS, awaited */
static void io_once(struct io_uring *ring, int op, int fd, unsigned flags, char *buf, size_t n)
{
	mark(prep_io(ring, op, fd, buf, n), TAG_IO, flags);
	submit(ring, 1);
	reap(ring, TAG_IO, (int)n);
}

/* register_sparse NR: a table of NR empty registered-file slots */
static void register_sparse(struct io_uring *ring, unsigned nr)
{
	int r = io_uring_register_files_sparse(ring, nr);

	if (r < 0)
		setup_failed("io_uring_register_files_sparse", -r);
}

/* queue_nop: a NOP whose completion is awaited (after a skipped one) */
static void queue_nop(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = sqe_get(ring);

	io_uring_prep_nop(sqe);
	mark(sqe, TAG_NOP, 0);
}

/* ---- the modes: each gets its arguments but N, the filled buffer ---- */

/* swap: the fd number K changes file by IORING_OP_CLOSE and IORING_OP_OPENAT,
 * which no syscall tracer sees; the later write(2) on K must be named by
 * what K is then, not by the verdict the agent posted for the decoy. */
static int m_swap(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	struct io_uring_sqe *sqe;
	struct stat a, b;
	int k = open_write(argv[0]);

	sleep_ms(100); /* the agent posts the decoy's verdict within a drain */
	sqe = sqe_get(ring);
	io_uring_prep_close(sqe, k);
	mark(sqe, TAG_CLOSE, IOSQE_IO_LINK);
	sqe = sqe_get(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	mark(sqe, TAG_OPEN, 0);
	submit(ring, 2);
	reap(ring, TAG_CLOSE, 0);
	reap(ring, TAG_OPEN, k); /* the lowest free number: K */
	if (fstat(k, &a) < 0 || stat(argv[1], &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		fprintf(stderr, PROG ": setup: fd %d is not %s after the swap\n", k, argv[1]);
		return EXIT_SETUP;
	}
	announce();
	if (write(k, buf, n) != (ssize_t)n)
		die("write", errno);
	return 0;
}

/* write, writev, read, readv: the kernel does the I/O for the process;
 * only the open is a syscall a tracer of read(2)/write(2) sees. */
static int rw_mode(struct io_uring *ring, const char *path, int op, char *buf, size_t n)
{
	int rd = op == IORING_OP_READ || op == IORING_OP_READV;
	int fd = rd ? open_or_die(path, O_RDONLY) : open_write(path);

	announce();
	io_once(ring, op, fd, 0, buf, n);
	return 0;
}

static int m_write(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return rw_mode(ring, argv[0], IORING_OP_WRITE, buf, n);
}

static int m_writev(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return rw_mode(ring, argv[0], IORING_OP_WRITEV, buf, n);
}

static int m_read(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return rw_mode(ring, argv[0], IORING_OP_READ, buf, n);
}

static int m_readv(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return rw_mode(ring, argv[0], IORING_OP_READV, buf, n);
}

/* write-fixed-buf: the bytes come from a buffer registered with the ring
 * beforehand (IORING_OP_WRITE_FIXED), not from an address in the request. */
static int m_write_fixed_buf(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	struct iovec iov = {buf, n};
	int fd = open_write(argv[0]);
	int r = io_uring_register_buffers(ring, &iov, 1);

	if (r < 0)
		setup_failed("io_uring_register_buffers", -r);
	announce();
	io_once(ring, IORING_OP_WRITE_FIXED, fd, 0, buf, n);
	return 0;
}

/* fixed-file: the file is the ring's (a registered file) and the process's
 * fd is closed before the write: no fd names it when the bytes move. */
static int m_fixed_file(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int fd = open_write(argv[0]);
	int r = io_uring_register_files(ring, &fd, 1);

	if (r < 0)
		setup_failed("io_uring_register_files", -r);
	if (close(fd) < 0)
		die("close", errno);
	announce();
	io_once(ring, IORING_OP_WRITE, 0, IOSQE_FIXED_FILE, buf, n);
	return 0;
}

/* openat-direct SKIP: the open goes straight into the ring's file table
 * (IORING_OP_OPENAT with a fixed slot): no open(2), no fd, ever. With
 * SKIP the write posts no completion either (IOSQE_CQE_SKIP_SUCCESS), and
 * its slot is still empty when it is submitted. */
static int m_openat_direct(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int skip = cqe_skip;
	struct io_uring_sqe *sqe;

	register_sparse(ring, 1);
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_openat_direct(sqe, AT_FDCWD, argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0666, 0);
	mark(sqe, TAG_OPEN, IOSQE_IO_LINK);
	mark(prep_io(ring, IORING_OP_WRITE, 0, buf, n), TAG_IO,
	     IOSQE_FIXED_FILE | (skip ? IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK : 0));
	if (skip)
		queue_nop(ring);
	submit(ring, skip ? 3 : 2);
	reap(ring, TAG_OPEN, 0);
	finish_io(ring, skip, n);
	return 0;
}

/* openat-silent, openat-alloc-silent: as openat-direct-skip, the OPENAT
 * silent too (CQE_SKIP_SUCCESS; no O_TRUNC: no truncation to see), so
 * only the NOP completes; -alloc: OPENAT2 into the slot the kernel picks
 * (IORING_FILE_INDEX_ALLOC), the write on slot 0, the lowest free one,
 * which is what it picks in an empty table */
static int openat_silent(struct io_uring *ring, const char *path, char *buf, size_t n, int alloc)
{
	static struct open_how how = {.flags = O_WRONLY | O_CREAT, .mode = 0666};
	struct io_uring_sqe *sqe;

	register_sparse(ring, 2);
	announce();
	sqe = sqe_get(ring);
	if (alloc) /* liburing adds 1 to the index: ~0U, IORING_FILE_INDEX_ALLOC */
		io_uring_prep_openat2_direct(sqe, AT_FDCWD, path, &how,
					     IORING_FILE_INDEX_ALLOC - 1);
	else
		io_uring_prep_openat_direct(sqe, AT_FDCWD, path, O_WRONLY | O_CREAT, 0666, 0);
	mark(sqe, TAG_OPEN, IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK);
	mark(prep_io(ring, IORING_OP_WRITE, 0, buf, n), TAG_IO,
	     IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK);
	queue_nop(ring);
	submit(ring, 3);
	finish_io(ring, 1, n);
	return 0;
}

static int m_openat_silent(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return openat_silent(ring, argv[0], buf, n, 0);
}

static int m_openat_alloc_silent(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return openat_silent(ring, argv[0], buf, n, 1);
}

/* skip: a write that posts no completion when it succeeds
 * (IOSQE_CQE_SKIP_SUCCESS): a probe that waits for the CQE sees nothing. */
static int m_skip(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int fd = open_write(argv[0]);

	announce();
	mark(prep_io(ring, IORING_OP_WRITE, fd, buf, n), TAG_IO,
	     IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK);
	queue_nop(ring); /* linked: completes once the write is over */
	submit(ring, 2);
	reap(ring, TAG_NOP, 0);
	no_more_cqes(ring);
	return 0;
}

/* async: IOSQE_ASYNC, the write is done by an io-wq worker thread of the
 * process, not by the task that submitted it. */
static int m_async(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int fd = open_write(argv[0]);

	announce();
	io_once(ring, IORING_OP_WRITE, fd, IOSQE_ASYNC, buf, n);
	return 0;
}

/* sqpoll: the kernel's SQ thread picks the request up from shared memory;
 * the process makes no io_uring_enter(2) for it. */
static int m_sqpoll(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	return rw_mode(ring, argv[0], IORING_OP_WRITE, buf, n);
}

/* swap_linked SKIP: the write on K is submitted while K is the decoy, and
 * issued 100 ms later (behind a timeout in its chain) when K is PATH: the
 * file is the one K names at issue, not at submission. */
static int m_swap_linked(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int skip = cqe_skip;
	static struct __kernel_timespec ts = {0, 100000000};
	struct io_uring_sqe *sqe;
	struct stat a, b, d;
	int k = open_write(argv[0]), j;

	sleep_ms(200); /* the agent posts the decoy's verdict within a drain */
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	mark(sqe, TAG_TIMEOUT, IOSQE_IO_HARDLINK); /* -ETIME must not cut the chain */
	mark(prep_io(ring, IORING_OP_WRITE, k, buf, n), TAG_IO,
	     skip ? IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK : 0);
	if (skip)
		queue_nop(ring);
	submit(ring, skip ? 3 : 2);
	/* while the timeout runs: K becomes PATH */
	j = open_write(argv[1]);
	if (dup2(j, k) < 0)
		die("dup2", errno);
	close(j);
	reap(ring, TAG_TIMEOUT, -ETIME);
	finish_io(ring, skip, n);
	if (fstat(k, &a) < 0 || stat(argv[1], &b) < 0 || stat(argv[0], &d) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino || a.st_size != (off_t)n ||
	    d.st_size != 0) {
		fprintf(stderr, PROG ": setup: the write did not land in %s after the dup2\n",
			argv[1]);
		return EXIT_SETUP;
	}
	return 0;
}

/* renameat: the open file is renamed by IORING_OP_RENAMEAT, which no
 * syscall tracer sees: the later write(2) must be named DST, not SRC. */
static int m_renameat(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	struct io_uring_sqe *sqe;
	int fd = open_write(argv[0]);

	announce();
	if (write(fd, buf, 1) != 1) /* a probe names the fd SRC */
		die("write", errno);
	sqe = sqe_get(ring);
	io_uring_prep_renameat(sqe, AT_FDCWD, argv[0], AT_FDCWD, argv[1], 0);
	mark(sqe, TAG_RENAME, 0);
	submit(ring, 1);
	reap(ring, TAG_RENAME, 0);
	if (write(fd, buf, n) != (ssize_t)n)
		die("write", errno);
	return 0;
}

/* linkat, linkat-dirfd: a hard link made by the kernel for the process (no
 * link(2)): by the names as given, or each relative to an O_PATH fd of its
 * directory (the part before its last '/') */
static int link_mode(struct io_uring *ring, char **argv, int dirfd)
{
	const char *name[2] = {argv[0], argv[1]};
	int dfd[2] = {AT_FDCWD, AT_FDCWD};
	struct io_uring_sqe *sqe;

	for (int i = 0; dirfd && i < 2; i++) {
		char dir[4096];
		const char *slash = strrchr(name[i], '/');

		if (!slash || (size_t)(slash - name[i]) >= sizeof(dir)) {
			fprintf(stderr, PROG ": %s: no directory part\n", name[i]);
			return EXIT_USAGE;
		}
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name[i]), name[i]);
		dfd[i] = open_or_die(dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
		name[i] = slash + 1;
	}
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_linkat(sqe, dfd[0], name[0], dfd[1], name[1], 0);
	mark(sqe, TAG_LINK, 0);
	submit(ring, 1);
	reap(ring, TAG_LINK, 0);
	return 0;
}

static int m_linkat(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return link_mode(ring, argv, 0);
}

static int m_linkat_dirfd(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return link_mode(ring, argv, 1);
}

/* ---- changes that are no write ---- */

/* one_request SQE RES: SQE (prepared) alone, its completion RES awaited */
static void one_request(struct io_uring *ring, struct io_uring_sqe *sqe, int res)
{
	mark(sqe, TAG_IO, 0);
	submit(ring, 1);
	reap(ring, TAG_IO, res);
}

/* fallocate: bytes [0, N) of the file punched to zeroes by the kernel */
static int m_fallocate(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int fd = open_or_die(argv[0], O_WRONLY);
	struct io_uring_sqe *sqe;

	(void)buf;
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)n);
	one_request(ring, sqe, 0);
	return 0;
}

/* ftruncate: the file cut by N bytes, no ftruncate(2) */
static int m_ftruncate(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int fd = open_or_die(argv[0], O_WRONLY);
	struct io_uring_sqe *sqe;
	struct stat st;

	(void)buf;
	if (fstat(fd, &st) < 0)
		die("fstat", errno);
	if ((size_t)st.st_size < n) {
		fprintf(stderr, PROG ": setup: %s holds fewer than %zu bytes\n", argv[0], n);
		return EXIT_SETUP;
	}
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_rw(SE_IORING_OP_FTRUNCATE, sqe, fd, NULL, 0, (__u64)st.st_size - n);
	one_request(ring, sqe, 0);
	return 0;
}

/* open-trunc, -direct, -alloc, -skip: an existing file emptied by an
 * io_uring open (no open(2)); into an fd, a chosen registered slot, a slot
 * the kernel allocates (its completion says which), or an fd with no
 * completion at all */
enum open_into { INTO_FD, INTO_SLOT, INTO_ALLOC, INTO_FD_SILENT };

static int open_trunc(struct io_uring *ring, const char *path, enum open_into slot)
{
	static struct open_how how = {.flags = O_WRONLY | O_TRUNC};
	struct io_uring_sqe *sqe;
	int r;

	if (slot == INTO_SLOT || slot == INTO_ALLOC)
		register_sparse(ring, 2);
	announce();
	sqe = sqe_get(ring);
	if (slot == INTO_FD || slot == INTO_FD_SILENT)
		io_uring_prep_openat(sqe, AT_FDCWD, path, O_WRONLY | O_TRUNC, 0);
	else if (slot == INTO_SLOT)
		io_uring_prep_openat_direct(sqe, AT_FDCWD, path, O_WRONLY | O_TRUNC, 0, 0);
	else /* liburing adds 1 to the index: ~0U, IORING_FILE_INDEX_ALLOC */
		io_uring_prep_openat2_direct(sqe, AT_FDCWD, path, &how,
					     IORING_FILE_INDEX_ALLOC - 1);
	if (slot == INTO_FD_SILENT) { /* the NOP says it is over */
		mark(sqe, TAG_OPEN, IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK);
		queue_nop(ring);
		submit(ring, 2);
		reap(ring, TAG_NOP, 0);
		no_more_cqes(ring);
		return 0;
	}
	mark(sqe, TAG_OPEN, 0);
	submit(ring, 1);
	r = reap_res(ring, TAG_OPEN); /* an fd, a slot, or 0 */
	if (r < 0)
		die("openat", -r);
	return 0;
}

static int m_open_trunc(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return open_trunc(ring, argv[0], INTO_FD);
}

static int m_open_trunc_direct(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return open_trunc(ring, argv[0], INTO_SLOT);
}

static int m_open_trunc_alloc(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return open_trunc(ring, argv[0], INTO_ALLOC);
}

static int m_open_trunc_skip(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf, (void)n;
	return open_trunc(ring, argv[0], INTO_FD_SILENT);
}

/* ---- splices: a pipe on one side, the file on the other ---- */

static void pipe_or_die(int p[2])
{
	if (pipe(p) < 0)
		die("pipe", errno);
}

/* splice-in, -fixed, -skip: N bytes of the file into a pipe, no read(2);
 * the file a registered one whose fd is closed, or the request silent on
 * success (IOSQE_CQE_SKIP_SUCCESS, a NOP linked after it) */
static int splice_in(struct io_uring *ring, const char *path, int fixed, size_t n)
{
	int skip = cqe_skip, p[2], fd = open_or_die(path, O_RDONLY), in = fd, r;
	struct io_uring_sqe *sqe;

	pipe_or_die(p);
	if (fixed) {
		r = io_uring_register_files(ring, &fd, 1);
		if (r < 0)
			setup_failed("io_uring_register_files", -r);
		if (close(fd) < 0)
			die("close", errno);
		in = 0;
	}
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_splice(sqe, in, 0, p[1], -1, (unsigned)n, fixed ? SPLICE_F_FD_IN_FIXED : 0);
	mark(sqe, TAG_IO, skip ? IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK : 0);
	if (skip)
		queue_nop(ring);
	submit(ring, skip ? 2 : 1);
	finish_io(ring, skip, n);
	return 0;
}

static int m_splice_in(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf;
	return splice_in(ring, argv[0], 0, n);
}

static int m_splice_in_fixed(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	(void)buf;
	return splice_in(ring, argv[0], 1, n);
}

/* splice-out: N bytes put in a pipe (a pipe's write), then spliced from it
 * into the file: no write(2) of the file */
static int m_splice_out(struct io_uring *ring, char **argv, char *buf, size_t n)
{
	int p[2], fd = open_write(argv[0]);
	struct io_uring_sqe *sqe;

	pipe_or_die(p);
	if (write(p[1], buf, n) != (ssize_t)n)
		die("write pipe", errno);
	announce();
	sqe = sqe_get(ring);
	io_uring_prep_splice(sqe, p[0], -1, fd, 0, (unsigned)n, 0);
	one_request(ring, sqe, (int)n);
	return 0;
}

struct mode {
	const char *name;
	const char *args; /* before N */
	int nargs;	  /* with N */
	int (*run)(struct io_uring *ring, char **argv, char *buf, size_t n);
	unsigned setup;	   /* IORING_SETUP_* */
	unsigned features; /* IORING_FEAT_* */
	uint64_t ops;	   /* OP(IORING_OP_*) */
};

static const struct mode modes[] = {
	{"swap", "DECOY WATCHED", 3, m_swap, 0, 0, OP(IORING_OP_CLOSE) | OP(IORING_OP_OPENAT)},
	{"write", "PATH", 2, m_write, 0, 0, OP(IORING_OP_WRITE)},
	{"writev", "PATH", 2, m_writev, 0, 0, OP(IORING_OP_WRITEV)},
	{"read", "PATH", 2, m_read, 0, 0, OP(IORING_OP_READ)},
	{"readv", "PATH", 2, m_readv, 0, 0, OP(IORING_OP_READV)},
	{"write-fixed-buf", "PATH", 2, m_write_fixed_buf, 0, 0, OP(IORING_OP_WRITE_FIXED)},
	{"fixed-file", "PATH", 2, m_fixed_file, 0, 0, OP(IORING_OP_WRITE)},
	{"openat-direct", "PATH", 2, m_openat_direct, 0, 0,
	 OP(IORING_OP_OPENAT) | OP(IORING_OP_WRITE)},
	{"openat-direct-skip", "PATH", 2, m_openat_direct, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_OPENAT) | OP(IORING_OP_WRITE) | OP(IORING_OP_NOP)},
	{"openat-silent", "PATH", 2, m_openat_silent, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_OPENAT) | OP(IORING_OP_WRITE) | OP(IORING_OP_NOP)},
	{"openat-alloc-silent", "PATH", 2, m_openat_alloc_silent, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_OPENAT2) | OP(IORING_OP_WRITE) | OP(IORING_OP_NOP)},
	{"skip", "PATH", 2, m_skip, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_WRITE) | OP(IORING_OP_NOP)},
	{"async", "PATH", 2, m_async, 0, 0, OP(IORING_OP_WRITE)},
	{"sqpoll", "PATH", 2, m_sqpoll, IORING_SETUP_SQPOLL, 0, OP(IORING_OP_WRITE)},
	{"swap-linked", "DECOY PATH", 3, m_swap_linked, 0, 0,
	 OP(IORING_OP_TIMEOUT) | OP(IORING_OP_WRITE)},
	{"swap-linked-skip", "DECOY PATH", 3, m_swap_linked, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_TIMEOUT) | OP(IORING_OP_WRITE) | OP(IORING_OP_NOP)},
	{"renameat", "SRC DST", 3, m_renameat, 0, 0, OP(IORING_OP_RENAMEAT)},
	{"linkat", "SRC DST", 3, m_linkat, 0, 0, OP(IORING_OP_LINKAT)},
	{"linkat-dirfd", "SRC DST", 3, m_linkat_dirfd, 0, 0, OP(IORING_OP_LINKAT)},
	{"fallocate", "PATH", 2, m_fallocate, 0, 0, OP(IORING_OP_FALLOCATE)},
	{"ftruncate", "PATH", 2, m_ftruncate, 0, 0, OP(SE_IORING_OP_FTRUNCATE)},
	{"open-trunc", "PATH", 2, m_open_trunc, 0, 0, OP(IORING_OP_OPENAT)},
	{"open-trunc-direct", "PATH", 2, m_open_trunc_direct, 0, 0, OP(IORING_OP_OPENAT)},
	{"open-trunc-alloc", "PATH", 2, m_open_trunc_alloc, 0, 0, OP(IORING_OP_OPENAT2)},
	{"open-trunc-skip", "PATH", 2, m_open_trunc_skip, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_OPENAT) | OP(IORING_OP_NOP)},
	{"splice-in", "PATH", 2, m_splice_in, 0, 0, OP(IORING_OP_SPLICE)},
	{"splice-in-fixed", "PATH", 2, m_splice_in_fixed, 0, 0, OP(IORING_OP_SPLICE)},
	{"splice-in-skip", "PATH", 2, m_splice_in, 0, IORING_FEAT_CQE_SKIP,
	 OP(IORING_OP_SPLICE) | OP(IORING_OP_NOP)},
	{"splice-out", "PATH", 2, m_splice_out, 0, 0, OP(IORING_OP_SPLICE)},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " MODE ARG... N (see the source's header)\nmodes:\n");
	for (size_t i = 0; i < NMODES; i++)
		fprintf(stderr, "  %s %s N\n", modes[i].name, modes[i].args);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct mode *m = NULL;
	const char *linger = getenv("EVADE_LINGER_MS");
	struct io_uring ring;
	char *buf, *end;
	size_t n;
	int rc;

	for (size_t i = 0; argc >= 2 && i < NMODES; i++)
		if (!strcmp(argv[1], modes[i].name))
			m = &modes[i];
	if (!m || argc - 2 != m->nargs)
		return usage();
	errno = 0;
	n = strtoul(argv[argc - 1], &end, 10);
	if (errno || *end || n == 0 || n > MAX_BYTES) {
		fprintf(stderr, PROG ": bad byte count '%s'\n", argv[argc - 1]);
		return EXIT_USAGE;
	}
	buf = malloc(n);
	if (!buf)
		die("malloc", ENOMEM);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('A' + i % 26);
	ring_init(&ring, m->setup, m->features, m->ops);
	cqe_skip = (m->features & IORING_FEAT_CQE_SKIP) != 0;
	rc = m->run(&ring, argv + 2, buf, n);
	if (rc == 0)
		sleep_ms(linger ? atol(linger) : 300);
	io_uring_queue_exit(&ring);
	free(buf);
	return rc;
}
