/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-evade - ways to get bytes into (or out of) a watched file under a
 * name the agent does not expect, for test/integration/test_evasion.sh.
 *
 *   sentinel-evade TECHNIQUE ARG...
 *
 * Each technique reads or writes exactly N bytes ('x') through one read(2)
 * or write(2) on the real file, and prints on stdout, as one write, the
 * process doing it ("writer pid=P tid=T", mostly with " fdpath=" and what
 * /proc/thread-self/fd says of the fd) before that read or write, so that
 * a writer that exits right after is still known. Errors go to stderr
 * and exit 1; a technique that could not be set up as intended (the fd
 * number it needed was not given, ...) exits 3, one the kernel does not
 * offer (userfaultfd) exits 4, which the test reports as SKIP. Paths are
 * used as given (relative ones against the cwd the test chose).
 *
 * Processes that stay alive after their write linger EVADE_LINGER_MS
 * (default 300) before exiting, so that only the technique is under test
 * and not the agent's race with the process's exit; the techniques about
 * exiting (old-child, orphan, scm-exit) exit at once.
 *
 *   write PATH N                      open(O_WRONLY|O_CREAT|O_TRUNC), write
 *   read PATH N                       open(O_RDONLY), read
 *   reopen PREFIX PATH N              open PATH read-only as fd K, then open
 *                                     "PREFIX/K" (/dev/fd, /proc/self/fd) for
 *                                     writing, write
 *   proc-cwd DIR NAME N               a child sits in DIR; the parent writes
 *                                     /proc/<child>/cwd/NAME
 *   cd-write DIR NAME N               chdir(DIR), write NAME (relative)
 *   chroot ROOT PATH N                chroot(ROOT), chdir("/"), write PATH
 *   in-root ROOT PATH N               openat2(ROOT fd, PATH, RESOLVE_IN_ROOT)
 *   rename-open OLD NEW N             open OLD, rename OLD -> NEW, write
 *   rename-dirfd OLDDIR NEWDIR NAME N open OLDDIR, rename it to NEWDIR,
 *                                     openat(dirfd, NAME), write
 *   rename-cwd OLDDIR NEWDIR NAME N   chdir OLDDIR, rename it, open NAME, write
 *   tmpfile DIR N                     open(DIR, O_TMPFILE), write; also prints
 *                                     "path=<readlink of the fd>"
 *   clone-files DECOY WATCHED N       the parent opens DECOY as fd K; a
 *                                     clone(CLONE_FILES) child closes K and
 *                                     opens WATCHED (gets K) and exits; the
 *                                     parent writes K
 *   unshare-files WATCHED DECOY N     the main thread opens WATCHED as K; a
 *                                     thread unshare(CLONE_FILES)s, closes
 *                                     its K, opens DECOY as K; main writes K
 *   unshare-fs WDIR ODIR NAME N       a thread unshare(CLONE_FS)s and
 *                                     chdir(WDIR)s; then the main thread
 *                                     chdir(ODIR)s; the thread writes NAME
 *   clone-fs DIR NAME N               a clone(CLONE_FS) child chdir(DIR)s and
 *                                     exits; the parent writes NAME (relative)
 *   main-exit PATH N                  a thread opens PATH; the main thread
 *                                     pthread_exit()s; then the thread writes
 *   close-range DECOY WATCHED N       fd K = DECOY; close_range(K, ~0U); a
 *                                     helper's WATCHED fd arrives over
 *                                     SCM_RIGHTS as K; write K
 *   exec-decoy DECOY WATCHED N        fd K = DECOY, O_CLOEXEC; exec self; a
 *                                     helper's WATCHED fd arrives over
 *                                     SCM_RIGHTS as K; write K
 *   old-child PATH N                  open PATH; a child waits 1.2 s, writes
 *                                     the inherited fd and exits at once
 *   orphan PATH N                     open PATH; fork; the parent exits; the
 *                                     child then writes and exits at once
 *   scm-exit PATH N                   a child receives PATH's fd over
 *                                     SCM_RIGHTS, writes it and exits at once
 *   path-race WDIR UDIR ITER N M      ITER times (up to 3 ITER until 10 are
 *                                     "inflight"): open(buf) of WDIR/race-I
 *                                     while a thread rewrites buf to UDIR/...
 *                                     (same length); where the kernel opened
 *                                     the WDIR file, write N bytes and print
 *                                     "race-watched PATH"; where it opened
 *                                     the UDIR one, write M bytes; last a
 *                                     "race-summary" line (inflight: opens of
 *                                     the WDIR file whose buffer had been
 *                                     rewritten before the open returned)
 *   fifo-race FIFO DECOY N            open(buf = FIFO, O_WRONLY) blocks until
 *                                     a reader comes; meanwhile a thread
 *                                     rewrites buf to DECOY (same length);
 *                                     then write N
 *   dup2-uffd WATCHED DECOY N         a thread write(2)s WATCHED's fd K from a
 *                                     userfaultfd page (blocks); meanwhile
 *                                     dup2(DECOY fd, K); then the page is
 *                                     filled and the write completes
 *   move HOW SRC DST N                N bytes from SRC to DST (created) in one
 *                                     call: HOW copy_file_range, sendfile,
 *                                     ficlone (SRC of N bytes, reflinked
 *                                     whole), ficlonerange (bytes 0..N of
 *                                     SRC: N whole blocks, or SRC's size);
 *                                     or splice: SRC -> a pipe, the pipe ->
 *                                     DST (the file sides: one read of SRC,
 *                                     one write of DST)
 *   trunc HOW PATH N                  destroys content of PATH, which must
 *                                     hold at least N bytes (else exit 3),
 *                                     without a write: HOW open, openat,
 *                                     openat2, creat (raw syscalls,
 *                                     O_WRONLY|O_TRUNC of the existing file:
 *                                     all of it), ftruncate (cuts the last
 *                                     N), punch, zero, collapse (fallocate
 *                                     of bytes 0..N: a hole, zeros, removed);
 *                                     allocate (fallocate mode 0 over bytes
 *                                     0..N, which hold data: no change);
 *                                     truncate (truncate(2) of the path,
 *                                     a symlink followed: cuts the last N)
 *   name HOW OLD NEW                  gives a file a new name: HOW rename
 *                                     (rename(2)), renameat (from the two
 *                                     parent dirs' fds), exchange
 *                                     (renameat2 RENAME_EXCHANGE), link
 *                                     (link(2)), linkat (from dir fds),
 *                                     tmpfile (OLD a directory: an O_TMPFILE
 *                                     there, linkat(fd, "", AT_EMPTY_PATH)
 *                                     to NEW), tmpfile-proc (the same by
 *                                     /proc/self/fd/N, AT_SYMLINK_FOLLOW)
 *   map HOW PATH N                    maps N bytes of PATH (O_RDWR) shared
 *                                     and stores one byte through the
 *                                     mapping into a clean page (fsync and
 *                                     POSIX_FADV_DONTNEED first): HOW write
 *                                     (PROT_WRITE), mprotect (PROT_READ, then
 *                                     mprotect adds PROT_WRITE), mprotect-mid
 *                                     (the same from the second page on: N-4096
 *                                     bytes at an address inside it), private
 *                                     (MAP_PRIVATE: nothing reaches PATH)
 *
 * Every technique issues its opens with plain open/openat, as an attacker's
 * program would; the byte count N is what the test looks for.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-evade"
#define MAX_N (1u << 20)

static const char *self_exe;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

/* The technique did not come out as intended: not a result, a broken test. */
static void __attribute__((noreturn, format(printf, 1, 2))) setup_failed(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": setup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}

static size_t parse_n(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > MAX_N) {
		errno = 0;
		die("bad byte count '%s'", s);
	}
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void linger(void)
{
	const char *s = getenv("EVADE_LINGER_MS");

	sleep_ms(s ? atol(s) : 300);
}

/* One line on stdout in one write(2), never buffered across a fork. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char line[PATH_MAX + 128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) != n)
		die("stdout");
}

static void say_writer(void)
{
	say("writer pid=%d tid=%d", getpid(), gettid());
}

/* The same, plus what the kernel calls the fd (its d_path, relative to the
 * writer's root: chroot and mount namespaces show here). */
static void say_writer_fd(int fd)
{
	char p[64], link[PATH_MAX];
	ssize_t l;

	snprintf(p, sizeof(p), "/proc/thread-self/fd/%d", fd);
	l = readlink(p, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = '\0';
	say("writer pid=%d tid=%d fdpath=%s", getpid(), gettid(), link);
}

static char *xbytes(size_t n)
{
	char *b = malloc(n);

	if (!b)
		die("malloc");
	memset(b, 'x', n);
	return b;
}

/* write(2) N bytes in one call; anything short is an error. */
static void write_n(int fd, size_t n)
{
	char *b = xbytes(n);
	ssize_t w = write(fd, b, n);

	if (w < 0)
		die("write fd %d", fd);
	if ((size_t)w != n) {
		errno = 0;
		die("short write on fd %d: %zd of %zu", fd, w, n);
	}
	free(b);
}

static void read_n(int fd, size_t n)
{
	char *b = malloc(n);
	ssize_t r;

	if (!b)
		die("malloc");
	r = read(fd, b, n);
	if (r < 0)
		die("read fd %d", fd);
	if ((size_t)r != n) {
		errno = 0;
		die("short read on fd %d: %zd of %zu (is the file big enough?)", fd, r, n);
	}
	free(b);
}

static int open_w(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

	if (fd < 0)
		die("open %s", path);
	return fd;
}

static int open_r(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("open %s", path);
	return fd;
}

/* Same file (device and inode)? */
static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void need_same(int fd, const char *path)
{
	if (!same_file(fd, path))
		setup_failed("fd %d is not %s", fd, path);
}

static void need_fd(int got, int want, const char *what)
{
	if (got != want)
		setup_failed("%s got fd %d, wanted %d", what, got, want);
}

/* Give the agent time to post the decoy fd's verdict to the kernel (it does
 * within a drain, 10 ms): the attacks below exploit a verdict in place. */
static void let_verdict_settle(void)
{
	sleep_ms(100);
}

static void wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			die("waitpid %d", pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		exit(3);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = 0;
		die("child %d failed (status 0x%x)", pid, st);
	}
}

/* fork-like clone with extra sharing flags: returns 0 in the child. */
static pid_t clone_flags(unsigned long flags)
{
	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);

	if (pid < 0)
		die("clone");
	return pid;
}

/* ---- SCM_RIGHTS ---- */

static void send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {0};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {0};
	struct cmsghdr *cm;
	int fd;

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	if (recvmsg(sock, &m, 0) != 1)
		die("recvmsg");
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = 0;
		die("recvmsg: no fd");
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A child that opens PATH for writing, sends it over SOCK and exits. */
static void helper_sends(int sock, int other, const char *path)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd;

		close(other);
		fd = open_w(path);
		send_fd(sock, fd);
		_exit(0);
	}
	wait_child(pid);
}

/* ---- symlinks, magic links ---- */

static int t_write(char **a)
{
	size_t n = parse_n(a[1]);
	int fd = open_w(a[0]);

	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static int t_read(char **a)
{
	size_t n = parse_n(a[1]);
	int fd = open_r(a[0]);

	say_writer_fd(fd);
	read_n(fd, n);
	linger();
	return 0;
}

static int t_reopen(char **a)
{
	size_t n = parse_n(a[2]);
	char p[PATH_MAX];
	int k = open_r(a[1]), fd;

	snprintf(p, sizeof(p), "%s/%d", a[0], k);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		die("open %s", p);
	need_same(fd, a[1]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static int t_proc_cwd(char **a)
{
	size_t n = parse_n(a[2]);
	char p[PATH_MAX], c;
	int pfd[2], fd;
	pid_t pid;

	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (chdir(a[0]) < 0)
			die("chdir %s", a[0]);
		if (write(pfd[1], "r", 1) != 1)
			die("pipe");
		pause();
		_exit(0);
	}
	if (read(pfd[0], &c, 1) != 1)
		die("child did not get ready");
	snprintf(p, sizeof(p), "/proc/%d/cwd/%s", pid, a[1]);
	fd = open_w(p);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

static int t_cd_write(char **a)
{
	if (chdir(a[0]) < 0)
		die("chdir %s", a[0]);
	return t_write(a + 1);
}

/* ---- roots ---- */

static int t_chroot(char **a)
{
	if (chroot(a[0]) < 0)
		die("chroot %s", a[0]);
	if (chdir("/") < 0)
		die("chdir /");
	t_write(a + 1);
	_exit(0); /* no exit handlers: LeakSanitizer needs the /proc left behind */
}

static int t_in_root(char **a)
{
	size_t n = parse_n(a[2]);
	struct open_how how = {
		.flags = O_WRONLY | O_CREAT | O_TRUNC,
		.mode = 0666,
		.resolve = RESOLVE_IN_ROOT,
	};
	int root = open(a[0], O_PATH | O_DIRECTORY), fd;

	if (root < 0)
		die("open %s", a[0]);
	fd = (int)syscall(SYS_openat2, root, a[1], &how, sizeof(how));
	if (fd < 0)
		die("openat2 %s in %s", a[1], a[0]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

/* ---- renamed while open ---- */

static int t_rename_open(char **a)
{
	size_t n = parse_n(a[2]);
	int fd = open_w(a[0]);

	if (rename(a[0], a[1]) < 0)
		die("rename %s %s", a[0], a[1]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static int t_rename_dirfd(char **a)
{
	size_t n = parse_n(a[3]);
	int dfd = open(a[0], O_RDONLY | O_DIRECTORY), fd;

	if (dfd < 0)
		die("open %s", a[0]);
	if (rename(a[0], a[1]) < 0)
		die("rename %s %s", a[0], a[1]);
	fd = openat(dfd, a[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		die("openat %s", a[2]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static int t_rename_cwd(char **a)
{
	size_t n = parse_n(a[3]);
	int fd;

	if (chdir(a[0]) < 0)
		die("chdir %s", a[0]);
	if (rename(a[0], a[1]) < 0)
		die("rename %s %s", a[0], a[1]);
	fd = open_w(a[2]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static int t_tmpfile(char **a)
{
	size_t n = parse_n(a[1]);
	char p[64], link[PATH_MAX];
	ssize_t l;
	int fd = open(a[0], O_TMPFILE | O_WRONLY, 0600);

	if (fd < 0)
		die("open %s O_TMPFILE", a[0]);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	l = readlink(p, link, sizeof(link) - 1);
	if (l < 0)
		die("readlink %s", p);
	link[l] = '\0';
	say("path=%s", link);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

/* ---- shared tables ---- */

static int t_clone_files(char **a)
{
	size_t n = parse_n(a[2]);
	int k = open_w(a[0]);
	pid_t pid;

	let_verdict_settle();
	pid = clone_flags(CLONE_FILES);
	if (pid == 0) {
		close(k);
		need_fd(open_w(a[1]), k, "sibling's open");
		_exit(0);
	}
	wait_child(pid);
	need_same(k, a[1]);
	say_writer_fd(k);
	write_n(k, n);
	linger();
	return 0;
}

struct sync {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stage;
};

static struct sync sy = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void stage_set(int s)
{
	pthread_mutex_lock(&sy.mu);
	sy.stage = s;
	pthread_cond_broadcast(&sy.cv);
	pthread_mutex_unlock(&sy.mu);
}

static void stage_wait(int s)
{
	pthread_mutex_lock(&sy.mu);
	while (sy.stage < s)
		pthread_cond_wait(&sy.cv, &sy.mu);
	pthread_mutex_unlock(&sy.mu);
}

static char **targs;
static int tfd;

static void *unshare_files_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES) < 0)
		die("unshare(CLONE_FILES)");
	close(tfd);
	need_fd(open_w(targs[1]), tfd, "thread's own open");
	stage_set(1);
	stage_wait(2); /* keep the private table until the main thread wrote */
	return NULL;
}

static int t_unshare_files(char **a)
{
	size_t n = parse_n(a[2]);
	pthread_t t;

	targs = a;
	tfd = open_w(a[0]);
	let_verdict_settle();
	if (pthread_create(&t, NULL, unshare_files_thread, NULL))
		die("pthread_create");
	stage_wait(1);
	let_verdict_settle();
	need_same(tfd, a[0]);
	say_writer_fd(tfd);
	write_n(tfd, n);
	stage_set(2);
	pthread_join(t, NULL);
	linger();
	return 0;
}

static void *unshare_fs_thread(void *arg)
{
	size_t n = *(size_t *)arg;
	int fd;

	if (unshare(CLONE_FS) < 0)
		die("unshare(CLONE_FS)");
	if (chdir(targs[0]) < 0)
		die("chdir %s", targs[0]);
	stage_set(1);
	stage_wait(2);
	fd = open_w(targs[2]);
	say_writer_fd(fd);
	write_n(fd, n);
	return NULL;
}

static int t_unshare_fs(char **a)
{
	size_t n = parse_n(a[3]);
	pthread_t t;

	targs = a;
	if (pthread_create(&t, NULL, unshare_fs_thread, &n))
		die("pthread_create");
	stage_wait(1);
	if (chdir(a[1]) < 0)
		die("chdir %s", a[1]);
	stage_set(2);
	pthread_join(t, NULL);
	linger();
	return 0;
}

static int t_clone_fs(char **a)
{
	size_t n = parse_n(a[2]);
	pid_t pid = clone_flags(CLONE_FS);
	int fd;

	if (pid == 0) {
		if (chdir(a[0]) < 0)
			die("chdir %s", a[0]);
		_exit(0);
	}
	wait_child(pid);
	fd = open_w(a[1]);
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	return 0;
}

static pid_t leader;

static int leader_gone(void)
{
	char p[64], buf[512], *s;
	ssize_t r;
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/stat", leader, leader);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 1;
	buf[r] = '\0';
	s = strrchr(buf, ')');
	return s && (s[2] == 'Z' || s[2] == 'X');
}

static void *main_exit_thread(void *arg)
{
	size_t n = *(size_t *)arg;
	int fd = open_w(targs[0]);

	stage_set(1);
	for (int i = 0; !leader_gone(); i++) {
		if (i > 5000)
			setup_failed("the main thread did not exit");
		sleep_ms(1);
	}
	say_writer_fd(fd);
	write_n(fd, n);
	linger();
	exit(0);
}

static int t_main_exit(char **a)
{
	static size_t n;
	pthread_t t;

	n = parse_n(a[1]);
	targs = a;
	leader = getpid();
	if (pthread_create(&t, NULL, main_exit_thread, &n))
		die("pthread_create");
	stage_wait(1);
	pthread_exit(NULL);
}

static int t_close_range(char **a)
{
	size_t n = parse_n(a[2]);
	int sv[2], k, fd;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	k = open_w(a[0]);
	if (k < sv[1])
		setup_failed("decoy fd %d below the socket", k);
	let_verdict_settle();
	helper_sends(sv[1], sv[0], a[1]);
	say_writer(); /* before: nothing that may sleep inside the window */
	if (syscall(SYS_close_range, (unsigned)k, ~0U, 0) < 0)
		die("close_range");
	fd = recv_fd(sv[0]);
	need_fd(fd, k, "recvmsg");
	write_n(fd, n);
	linger();
	return 0;
}

/*
 * The decoy must get a number no open of the new image's start-up (the
 * dynamic loader, a sanitizer runtime) takes first, which would replace
 * the decoy's state in the kernel. So numbers 5..EXEC_FD-1 are held across
 * the exec by eventfds (syscalls the probe does not follow) and the decoy
 * is EXEC_FD; fd 4 stays free for the start-up's own opens, and is filled
 * by another eventfd before the receive, which then lands on EXEC_FD.
 */
#define EXEC_FD 64

static int t_exec_decoy(char **a)
{
	int sv[2], k, hold;
	char ks[16], ss[16];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	helper_sends(sv[1], sv[0], a[1]); /* queued in the socket until received */
	close(sv[1]);
	hold = eventfd(0, 0); /* keeps the lowest free number out of the fill */
	for (int fd = 0; fd < EXEC_FD;) {
		fd = eventfd(0, 0);
		if (fd < 0)
			die("eventfd");
		if (fd == EXEC_FD - 1)
			break;
		if (fd >= EXEC_FD)
			setup_failed("fd %d above %d: too many fds open at start", fd, EXEC_FD);
	}
	k = open(a[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (k < 0)
		die("open %s", a[0]);
	need_fd(k, EXEC_FD, "the decoy's open");
	close(hold);
	let_verdict_settle();
	say_writer(); /* the same pid after exec; said now, outside the window */
	snprintf(ks, sizeof(ks), "%d", k);
	snprintf(ss, sizeof(ss), "%d", sv[0]);
	execl(self_exe, PROG, "exec-decoy-2", ss, ks, a[1], a[2], (char *)NULL);
	die("exec %s", self_exe);
}

static int t_exec_decoy2(char **a)
{
	int sock = atoi(a[0]), k = atoi(a[1]), fd;
	size_t n = parse_n(a[3]);

	if (fcntl(k, F_GETFD) >= 0)
		setup_failed("the O_CLOEXEC decoy fd %d survived exec", k);
	/* Fill what start-up left free below k (F_GETFD is not followed). A
	 * close here would not do: the probe deletes the number's state at
	 * any close, the decoy's stale one too. */
	for (int i = 0; i < k; i++)
		if (fcntl(i, F_GETFD) < 0)
			need_fd(eventfd(0, 0), i, "eventfd filling");
	fd = recv_fd(sock);
	need_fd(fd, k, "recvmsg after exec");
	write_n(fd, n);
	linger();
	return 0;
}

/* ---- lineage and exit races ---- */

static int t_old_child(char **a)
{
	size_t n = parse_n(a[1]);
	int fd = open_w(a[0]);
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		sleep_ms(1200);
		say_writer_fd(fd);
		write_n(fd, n);
		_exit(0);
	}
	wait_child(pid);
	linger();
	return 0;
}

static int t_orphan(char **a)
{
	size_t n = parse_n(a[1]);
	int fd = open_w(a[0]), pfd[2];
	pid_t parent = getpid(), pid;
	char c;

	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 0) /* EOF: the parent is gone */
			die("pipe");
		/* Reparented (to init or a subreaper) once the parent is reaped. */
		for (int i = 0; getppid() == parent; i++) {
			if (i > 5000)
				setup_failed("the parent did not exit");
			sleep_ms(1);
		}
		say_writer_fd(fd);
		write_n(fd, n);
		_exit(0);
	}
	/* The parent exits at once; its pipe end closes with it. */
	_exit(0);
}

static int t_scm_exit(char **a)
{
	size_t n = parse_n(a[1]);
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[1]);
		fd = recv_fd(sv[0]);
		say_writer_fd(fd);
		write_n(fd, n);
		_exit(0);
	}
	close(sv[0]);
	fd = open_w(a[0]);
	send_fd(sv[1], fd);
	close(fd);
	wait_child(pid);
	linger();
	return 0;
}

/* ---- the path buffer rewritten while the open is in flight ---- */

static char race_buf[PATH_MAX];
static char race_alt[PATH_MAX];
static size_t race_len;
static atomic_int race_go, race_armed, race_done;
static atomic_uint race_delay;

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * The rewriting thread says it is running (armed) before the open is
 * issued, so on a busy machine it is not still waiting for a CPU when the
 * open is long over; then it waits the iteration's delay and rewrites.
 */
static void *race_thread(void *arg)
{
	(void)arg;
	for (int seen = 0;;) {
		int go;

		while ((go = atomic_load(&race_go)) == seen)
			;
		if (go < 0)
			return NULL;
		seen = go;
		atomic_store(&race_armed, seen);
		spin(atomic_load(&race_delay));
		memcpy(race_buf, race_alt, race_len); /* same length: only bytes change */
		atomic_store(&race_done, seen);
	}
}

/* Median duration of an unraced open(O_CREAT|O_TRUNC) in DIR, in ns. */
static long long open_ns(const char *dir)
{
	long long d[15], t;
	char p[PATH_MAX];

	for (int i = 0; i < 15; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/race-calibrate-%d", dir, i);
		t = now_ns();
		fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		d[i] = now_ns() - t;
		if (fd < 0)
			die("open %s", p);
		close(fd);
		unlink(p);
	}
	for (int i = 1; i < 15; i++) /* insertion sort */
		for (int j = i; j > 0 && d[j] < d[j - 1]; j--)
			t = d[j], d[j] = d[j - 1], d[j - 1] = t;
	return d[7];
}

#define RACE_MIN_INFLIGHT 10

static int t_path_race(char **a)
{
	int iter = atoi(a[2]), watched = 0, decoy = 0, torn = 0, inflight = 0, i;
	size_t n = parse_n(a[3]), m = parse_n(a[4]);
	unsigned seed = (unsigned)getpid();
	long long t, dur, per_spin;
	double delay;
	pthread_t th;

	if (strlen(a[0]) != strlen(a[1])) {
		errno = 0;
		die("the two directories must have names of the same length");
	}
	/* The first delay: half an open's duration, in spin counts. */
	dur = open_ns(a[1]);
	t = now_ns();
	spin(1000000);
	per_spin = (now_ns() - t) / 1000; /* ns per 1000 spins */
	if (per_spin < 1)
		per_spin = 1;
	delay = (double)dur / 2 * 1000 / per_spin;
	if (pthread_create(&th, NULL, race_thread, NULL))
		die("pthread_create");
	say_writer();
	/* ITER opens, more (up to 3 ITER) while fewer than RACE_MIN_INFLIGHT
	 * rewrites landed inside an open of the watched name. */
	for (i = 1; i <= 3 * iter && (i <= iter || inflight < RACE_MIN_INFLIGHT); i++) {
		char wpath[PATH_MAX], upath[PATH_MAX];
		int fd, early;

		snprintf(wpath, sizeof(wpath), "%s/race-%d", a[0], i);
		snprintf(upath, sizeof(upath), "%s/race-%d", a[1], i);
		race_len = strlen(wpath) + 1;
		memcpy(race_buf, wpath, race_len);
		memcpy(race_alt, upath, race_len);
		/* jitter of +-25% around the delay that is being tuned */
		atomic_store(&race_delay,
			     (unsigned)(delay * (0.75 + (rand_r(&seed) % 1000) / 2000.0)));
		atomic_store(&race_go, i);
		while (atomic_load(&race_armed) != i)
			;
		fd = (int)syscall(SYS_openat, AT_FDCWD, race_buf, O_WRONLY | O_CREAT | O_TRUNC,
				  0666);
		early = atomic_load(&race_done) == i; /* rewritten before the open returned */
		while (atomic_load(&race_done) != i)
			;
		if (fd < 0 && errno == ENOENT) {
			torn++; /* the kernel copied half of each name: no such dir */
			delay = delay * 1.25 + 10;
			continue;
		}
		if (fd < 0)
			die("open (raced) %d", i);
		/* Tuned toward the window: a rewrite the kernel saw came too early,
		 * one after the open returned too late. */
		if (same_file(fd, wpath)) {
			say("race-watched %s", wpath);
			write_n(fd, n);
			watched++;
			inflight += early;
			if (!early)
				delay = delay * 0.8;
		} else if (same_file(fd, upath)) {
			write_n(fd, m);
			decoy++;
			delay = delay * 1.25 + 10;
		} else {
			setup_failed("iteration %d opened neither file", i);
		}
		close(fd);
	}
	atomic_store(&race_go, -1);
	pthread_join(th, NULL);
	/* inflight: the kernel opened the watched name, and the buffer said
	 * the other one before the open returned. */
	say("race-summary iterations=%d watched=%d inflight=%d decoy=%d torn=%d open_ns=%lld",
	    i - 1, watched, inflight, decoy, torn, dur);
	linger();
	return 0;
}

static const char *fifo_path;

static void *fifo_thread(void *arg)
{
	char wchan[64] = "", p[96];
	int fd;

	(void)arg;
	/* Wait until the opener sleeps in the FIFO's open. */
	snprintf(p, sizeof(p), "/proc/self/task/%d/wchan", *(pid_t *)arg);
	for (int i = 0; i < 2000; i++) { /* else, after 2 s, it surely sleeps there */
		ssize_t r;

		fd = open(p, O_RDONLY | O_CLOEXEC);
		r = fd >= 0 ? read(fd, wchan, sizeof(wchan) - 1) : -1;
		if (fd >= 0)
			close(fd);
		wchan[r > 0 ? r : 0] = '\0';
		if (strstr(wchan, "fifo") || strstr(wchan, "pipe"))
			break;
		sleep_ms(1);
	}
	memcpy(race_buf, race_alt, race_len);
	fd = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* lets the open return */
	if (fd < 0)
		die("open %s for reading", fifo_path);
	stage_wait(1);
	close(fd);
	return NULL;
}

static int t_fifo_race(char **a)
{
	size_t n = parse_n(a[2]);
	pthread_t t;
	pid_t me = gettid();
	int fd;

	if (strlen(a[0]) != strlen(a[1])) {
		errno = 0;
		die("FIFO and DECOY must have names of the same length");
	}
	fifo_path = a[0];
	race_len = strlen(a[0]) + 1;
	memcpy(race_buf, a[0], race_len);
	memcpy(race_alt, a[1], race_len);
	if (pthread_create(&t, NULL, fifo_thread, &me))
		die("pthread_create");
	fd = (int)syscall(SYS_openat, AT_FDCWD, race_buf, O_WRONLY, 0);
	if (fd < 0)
		die("open %s", a[0]);
	need_same(fd, a[0]);
	say_writer_fd(fd);
	write_n(fd, n);
	stage_set(1);
	pthread_join(t, NULL);
	linger();
	return 0;
}

/* ---- dup2 over an fd while a write on it blocks ---- */

static char *uffd_page;
static size_t uffd_n;
static ssize_t uffd_ret;

static void *uffd_writer(void *arg)
{
	int fd = *(int *)arg;

	say_writer_fd(fd);
	uffd_ret = write(fd, uffd_page, uffd_n); /* faults: blocks in the kernel */
	if (uffd_ret < 0)
		die("write");
	return NULL;
}

static int t_dup2_uffd(char **a)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg;
	struct uffdio_copy cp;
	struct uffd_msg msg;
	pthread_t t;
	char *src;
	int uffd, k, decoy;

	uffd_n = parse_n(a[2]);
	if ((long)uffd_n > psz) {
		errno = 0;
		die("N must fit in a page");
	}
	k = open_w(a[0]);
	decoy = open_w(a[1]);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		fprintf(stderr, PROG ": userfaultfd: %s\n", strerror(errno));
		exit(4); /* not available here: the test reports SKIP */
	}
	if (ioctl(uffd, UFFDIO_API, &api) < 0)
		die("UFFDIO_API");
	uffd_page = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (uffd_page == MAP_FAILED)
		die("mmap");
	reg.range.start = (uintptr_t)uffd_page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		die("UFFDIO_REGISTER");
	let_verdict_settle();
	if (pthread_create(&t, NULL, uffd_writer, &k))
		die("pthread_create");
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg)) /* the write is blocked now */
		die("read userfaultfd");
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		setup_failed("userfaultfd event %u", msg.event);
	if (dup2(decoy, k) != k)
		die("dup2");
	let_verdict_settle();
	src = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		die("mmap");
	memset(src, 'x', psz);
	cp.dst = (uintptr_t)uffd_page;
	cp.src = (uintptr_t)src;
	cp.len = psz;
	cp.mode = 0;
	if (ioctl(uffd, UFFDIO_COPY, &cp) < 0)
		die("UFFDIO_COPY");
	pthread_join(t, NULL);
	if ((size_t)uffd_ret != uffd_n) {
		errno = 0;
		die("short write: %zd of %zu", uffd_ret, uffd_n);
	}
	linger();
	return 0;
}

/* ---- table ---- */

/* The byte movers: one call moves N bytes between two files (splice: via
 * a pipe, one call per side). */
static int t_move(char **a)
{
	size_t n = parse_n(a[3]);
	int in = open_r(a[1]), out = open_w(a[2]), p[2];
	ssize_t r = -1;

	say("writer pid=%d tid=%d", getpid(), gettid());
	if (!strcmp(a[0], "copy_file_range")) {
		r = copy_file_range(in, NULL, out, NULL, n, 0);
	} else if (!strcmp(a[0], "sendfile")) {
		r = sendfile(out, in, NULL, n);
	} else if (!strcmp(a[0], "ficlone")) {
		/* the whole source (N bytes): a reflink, no byte read or written */
		r = ioctl(out, FICLONE, in) == 0 ? (ssize_t)n : -1;
	} else if (!strcmp(a[0], "ficlonerange")) {
		struct file_clone_range fcr = {.src_fd = in, .src_length = n};

		r = ioctl(out, FICLONERANGE, &fcr) == 0 ? (ssize_t)n : -1;
	} else if (!strcmp(a[0], "splice")) {
		if (pipe(p) != 0)
			die("pipe");
		r = splice(in, NULL, p[1], NULL, n, 0);
		if (r == (ssize_t)n)
			r = splice(p[0], NULL, out, NULL, n, 0);
	} else {
		errno = 0;
		die("move: HOW is copy_file_range, sendfile, splice, ficlone or ficlonerange, "
		    "not '%s'",
		    a[0]);
	}
	if (r < 0 && (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL) &&
	    !strncmp(a[0], "ficlone", 7)) {
		fprintf(stderr, PROG ": unavailable: %s: %s\n", a[0], strerror(errno));
		exit(4);
	}
	if (r < 0)
		die("move %s", a[0]);
	if ((size_t)r != n) {
		errno = 0;
		die("move %s: moved %zd of %zu", a[0], r, n);
	}
	linger();
	return 0;
}

/* Content destroyed without a write (the file_truncate events). */
static int t_trunc(char **a)
{
	size_t n = parse_n(a[2]);
	const char *how = a[0], *path = a[1];
	struct open_how oh = {.flags = O_WRONLY | O_TRUNC};
	struct stat st;
	long r;
	int fd = -1;

	if (stat(path, &st) != 0)
		die("stat %s", path);
	if ((size_t)st.st_size < n)
		setup_failed("%s holds %lld bytes, fewer than %zu", path, (long long)st.st_size, n);
	if (strcmp(how, "open") && strcmp(how, "openat") && strcmp(how, "openat2") &&
	    strcmp(how, "creat") && strcmp(how, "truncate")) {
		fd = open(path, O_RDWR);
		if (fd < 0)
			die("open %s", path);
	}
	say_writer();
	if (!strcmp(how, "open"))
		r = syscall(SYS_open, path, O_WRONLY | O_TRUNC);
	else if (!strcmp(how, "openat"))
		r = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_TRUNC);
	else if (!strcmp(how, "openat2"))
		r = syscall(SYS_openat2, AT_FDCWD, path, &oh, sizeof(oh));
	else if (!strcmp(how, "creat"))
		r = syscall(SYS_creat, path, 0644);
	else if (!strcmp(how, "ftruncate"))
		r = ftruncate(fd, st.st_size - (off_t)n);
	else if (!strcmp(how, "truncate")) /* no fd: the kernel looks the path up */
		r = truncate(path, st.st_size - (off_t)n);
	else if (!strcmp(how, "punch"))
		r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)n);
	else if (!strcmp(how, "zero"))
		r = fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, (off_t)n);
	else if (!strcmp(how, "collapse"))
		r = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, (off_t)n);
	else if (!strcmp(how, "allocate")) /* a control: no byte changes */
		r = fallocate(fd, 0, 0, (off_t)n);
	else {
		errno = 0;
		die("trunc: HOW is open, openat, openat2, creat, ftruncate, truncate, punch, "
		    "zero, collapse or allocate, not '%s'",
		    how);
	}
	if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
		fprintf(stderr, PROG ": unavailable: trunc %s: %s\n", how, strerror(errno));
		exit(4);
	}
	if (r < 0)
		die("trunc %s %s", how, path);
	linger();
	return 0;
}

/* A parent directory's fd (O_PATH) and the last component of @path. */
static int parent_fd(const char *path, const char **last)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash) {
		*last = path;
		return open(".", O_PATH | O_DIRECTORY);
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
	*last = slash + 1;
	fd = open(dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		die("open %s", dir);
	return fd;
}

/* A new name for a file (file_rename, file_link events). */
static int t_name(char **a)
{
	const char *how = a[0], *old = a[1], *new = a[2], *ol, *nl;
	char proc[64];
	long r;
	int fd, od, nd;

	if (!strcmp(how, "rename")) {
		say_writer();
		r = syscall(SYS_rename, old, new);
	} else if (!strcmp(how, "renameat") || !strcmp(how, "linkat")) {
		od = parent_fd(old, &ol);
		nd = parent_fd(new, &nl);
		say_writer();
		r = how[0] == 'r' ? syscall(SYS_renameat, od, ol, nd, nl)
				  : syscall(SYS_linkat, od, ol, nd, nl, 0);
	} else if (!strcmp(how, "exchange")) {
		say_writer();
		r = syscall(SYS_renameat2, AT_FDCWD, old, AT_FDCWD, new, RENAME_EXCHANGE);
	} else if (!strcmp(how, "link")) {
		say_writer();
		r = syscall(SYS_link, old, new);
	} else if (!strcmp(how, "tmpfile") || !strcmp(how, "tmpfile-proc")) {
		fd = open(old, O_TMPFILE | O_WRONLY, 0644);
		if (fd < 0)
			die("open %s O_TMPFILE", old);
		if (write(fd, "secret\n", 7) != 7)
			die("write");
		say_writer();
		if (how[7]) {
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			r = syscall(SYS_linkat, AT_FDCWD, proc, AT_FDCWD, new, AT_SYMLINK_FOLLOW);
		} else {
			r = syscall(SYS_linkat, fd, "", AT_FDCWD, new, AT_EMPTY_PATH);
		}
	} else {
		errno = 0;
		die("name: HOW is rename, renameat, exchange, link, linkat, tmpfile or "
		    "tmpfile-proc, not '%s'",
		    how);
	}
	if (r < 0)
		die("name %s %s %s", how, old, new);
	linger();
	return 0;
}

/* A store through a shared mapping (the file_mmap event, and the page it
 * dirties: a file_write, data.syscall mapped_store). */
static int t_map(char **a)
{
	size_t n = parse_n(a[2]);
	const char *how = a[0], *path = a[1];
	int fd = open(path, O_RDWR), prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	char *m;

	if (fd < 0)
		die("open %s", path);
	if (!strcmp(how, "mprotect") || !strcmp(how, "mprotect-mid"))
		prot = PROT_READ;
	else if (!strcmp(how, "private"))
		flags = MAP_PRIVATE;
	else if (strcmp(how, "write")) {
		errno = 0;
		die("map: HOW is write, mprotect, mprotect-mid or private, not '%s'", how);
	}
	/* Clean pages, out of the cache: the store makes one dirty. */
	if (fsync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		die("fsync/fadvise %s", path);
	say_writer();
	m = mmap(NULL, n, prot, flags, fd, 0);
	if (m == MAP_FAILED)
		die("mmap %s", path);
	if (!strcmp(how, "mprotect") && mprotect(m, n, PROT_READ | PROT_WRITE) != 0)
		die("mprotect");
	/* from the second page on: an address inside the mapping */
	if (!strcmp(how, "mprotect-mid")) {
		if (n <= 4096 || mprotect(m + 4096, n - 4096, PROT_READ | PROT_WRITE) != 0)
			die("mprotect");
		m += 4096;
		n -= 4096;
	}
	m[0] = 'S';
	if (flags == MAP_SHARED && msync(m, n, MS_SYNC) != 0)
		die("msync");
	munmap(m, n);
	close(fd);
	linger();
	return 0;
}

struct technique {
	const char *name;
	int nargs;
	int (*fn)(char **a);
};

static const struct technique techniques[] = {
	{"write", 2, t_write},
	{"read", 2, t_read},
	{"reopen", 3, t_reopen},
	{"proc-cwd", 3, t_proc_cwd},
	{"cd-write", 3, t_cd_write},
	{"chroot", 3, t_chroot},
	{"in-root", 3, t_in_root},
	{"rename-open", 3, t_rename_open},
	{"rename-dirfd", 4, t_rename_dirfd},
	{"rename-cwd", 4, t_rename_cwd},
	{"tmpfile", 2, t_tmpfile},
	{"clone-files", 3, t_clone_files},
	{"unshare-files", 3, t_unshare_files},
	{"unshare-fs", 4, t_unshare_fs},
	{"clone-fs", 3, t_clone_fs},
	{"main-exit", 2, t_main_exit},
	{"close-range", 3, t_close_range},
	{"exec-decoy", 3, t_exec_decoy},
	{"exec-decoy-2", 4, t_exec_decoy2},
	{"old-child", 2, t_old_child},
	{"orphan", 2, t_orphan},
	{"scm-exit", 2, t_scm_exit},
	{"path-race", 5, t_path_race},
	{"fifo-race", 3, t_fifo_race},
	{"dup2-uffd", 3, t_dup2_uffd},
	{"move", 4, t_move},
	{"trunc", 3, t_trunc},
	{"map", 3, t_map},
	{"name", 3, t_name},
};

int main(int argc, char **argv)
{
	static char exe[PATH_MAX];
	ssize_t l;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: " PROG " TECHNIQUE ARG... (see the source's header)\n");
		return argc < 2 ? 2 : 0;
	}
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l < 0)
		die("readlink /proc/self/exe");
	exe[l] = '\0';
	self_exe = exe;
	for (size_t i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++) {
		if (strcmp(argv[1], techniques[i].name))
			continue;
		if (argc - 2 != techniques[i].nargs) {
			fprintf(stderr, PROG ": %s takes %d arguments\n", argv[1],
				techniques[i].nargs);
			return 2;
		}
		return techniques[i].fn(argv + 2);
	}
	fprintf(stderr, PROG ": unknown technique '%s'\n", argv[1]);
	return 2;
}
