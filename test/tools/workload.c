/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-workload - scriptable syscall driver for the integration tests.
 *
 * The command line is a script: global options, then steps run in order.
 * Every traced syscall is issued with syscall(2) so the test gets exactly
 * the syscall it named (glibc would turn open() into openat(), pwritev2()
 * with flags 0 into pwritev(), ...).
 *
 *   sentinel-workload [--log FILE] STEP...
 *
 * Names (NAME, DIR) are identifiers bound by `as`; FD is a number, a bound
 * NAME, or `max` (~0U, close-range only). MODE is r (O_RDONLY), w (O_WRONLY|
 * O_CREAT|O_TRUNC), rw (O_RDWR|O_CREAT) or a (O_WRONLY|O_CREAT|O_APPEND);
 * files are created 0644 and never O_CLOEXEC, so fork-exec children inherit
 * them. LIST is a comma list of iovec lengths ("3,4"). OFF may be -1 for
 * preadv2/pwritev2 (current file position). Writes write 'x' bytes.
 *
 *   open MODE PATH as NAME          open(2)
 *   openat DIR|cwd MODE PATH as NAME   openat(2); openat-cwd MODE PATH as NAME
 *   openat2 DIR|cwd MODE PATH as NAME  openat2(2); openat2-cwd MODE PATH as NAME
 *   creat PATH as NAME              creat(2)
 *   opendir PATH as NAME            openat(AT_FDCWD, O_RDONLY|O_DIRECTORY)
 *   adopt FD PATH as NAME           bind an inherited fd, no syscall
 *   pipe as RNAME WNAME             pipe2(2), flags 0
 *   read NAME N          pread NAME N OFF
 *   readv NAME LIST      preadv NAME LIST OFF      preadv2 NAME LIST OFF
 *   write NAME N         pwrite NAME N OFF
 *   writev NAME LIST     pwritev NAME LIST OFF     pwritev2 NAME LIST OFF
 *   seek NAME OFF                   lseek(SEEK_SET)
 *   truncate NAME N                 ftruncate: gives reads content, no write
 *   close NAME                      close(2)
 *   close-range FD FD               close_range(2), flags 0
 *   dup NAME as NEW   dup2 NAME FD as NEW   dup3 NAME FD as NEW (flags 0)
 *   fcntl-dupfd NAME FD as NEW      fcntl-dupfd-cloexec NAME FD as NEW
 *   chdir PATH        fchdir NAME
 *   rename OLD NEW    unlink PATH
 *   comm NAME                       prctl(PR_SET_NAME) for the current thread
 *   sleep-ms N
 *   wait-file PATH                  poll every 10 ms, fail after 60 s (a
 *                                   sync point: longer than the 30 s the
 *                                   tests give an agent to be ready)
 *   repeat N STEP... end            loops nest
 *   thread STEP... end              run the block on a new thread, join it
 *   fork STEP... end                run the block in a child, wait for it
 *   fork-exec WORD... ;             fork, execvp, wait; fail unless it exits 0
 *   exec WORD... ;                  execvp in place (later steps never run)
 *   (";" is its own word, quote it in shell: \; or ';')
 *
 * The log (--log FILE, default stderr) gets "pid=<n>" first, then one line
 * per syscall step, key=value separated by single spaces, always starting
 * "syscall=<name> fd=<n>" (fd=-1 if none); I/O steps then have
 * "bytes=<ret>"; steps on a path or named fd then "path=" (as the script
 * named it) and "abspath=" (lexically resolved against the tracked cwd or
 * DIR); then step-specific keys (name=, oldfd=, child=, ...); "pid= tid="
 * last. wait-file logs syscall=wait-file when the file showed up; pipe also
 * makes an fstat to name the pipe "pipe:[ino]" as /proc does. Paths must
 * not contain whitespace. The log is buffered and appended (O_APPEND, opened
 * and closed per flush so it takes no fd slot) at exit, before blocking
 * steps (sleep-ms, wait-file, fork*, exec) and every 64 KiB: keep it out of
 * the traced directory, its writes are real write(2) calls.
 *
 * Exit: 0 ok, 1 a syscall failed or a child failed, 2 bad script.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-workload"
#define MAX_IO (64u << 20) /* per step; bigger is a typo, not a test */
#define MAX_IOV 1024	   /* UIO_MAXIOV */
#define MAX_NAMES 256
#define LOG_FLUSH_AT (64u << 10)

enum op {
	OP_OPEN,
	OP_OPENAT,
	OP_OPENAT2,
	OP_CREAT,
	OP_OPENDIR,
	OP_ADOPT,
	OP_PIPE,
	OP_READ,
	OP_PREAD,
	OP_READV,
	OP_PREADV,
	OP_PREADV2,
	OP_WRITE,
	OP_PWRITE,
	OP_WRITEV,
	OP_PWRITEV,
	OP_PWRITEV2,
	OP_SEEK,
	OP_TRUNCATE,
	OP_CLOSE,
	OP_CLOSE_RANGE,
	OP_DUP,
	OP_DUP2,
	OP_DUP3,
	OP_DUPFD,
	OP_DUPFD_CLOEXEC,
	OP_CHDIR,
	OP_FCHDIR,
	OP_RENAME,
	OP_UNLINK,
	OP_COMM,
	OP_SLEEP,
	OP_WAIT_FILE,
	OP_REPEAT,
	OP_THREAD,
	OP_FORK,
	OP_FORK_EXEC,
	OP_EXEC,
};

/*
 * Argument spec, one letter per word: F bound name, D name or "cwd",
 * M mode, P path (twice for rename), S string, N count, O offset,
 * K fd number/name (up to two), L iovec list, A "as NAME", B "as R W",
 * E body up to "end", X words up to ";".
 */
struct opdef {
	const char *kw;
	enum op op;
	const char *spec;
};

static const struct opdef opdefs[] = {
	{"open", OP_OPEN, "MPA"},
	{"openat", OP_OPENAT, "DMPA"},
	{"openat-cwd", OP_OPENAT, "MPA"},
	{"openat2", OP_OPENAT2, "DMPA"},
	{"openat2-cwd", OP_OPENAT2, "MPA"},
	{"creat", OP_CREAT, "PA"},
	{"opendir", OP_OPENDIR, "PA"},
	{"adopt", OP_ADOPT, "KPA"},
	{"pipe", OP_PIPE, "B"},
	{"read", OP_READ, "FN"},
	{"pread", OP_PREAD, "FNO"},
	{"readv", OP_READV, "FL"},
	{"preadv", OP_PREADV, "FLO"},
	{"preadv2", OP_PREADV2, "FLO"},
	{"write", OP_WRITE, "FN"},
	{"pwrite", OP_PWRITE, "FNO"},
	{"writev", OP_WRITEV, "FL"},
	{"pwritev", OP_PWRITEV, "FLO"},
	{"pwritev2", OP_PWRITEV2, "FLO"},
	{"seek", OP_SEEK, "FO"},
	{"truncate", OP_TRUNCATE, "FN"},
	{"close", OP_CLOSE, "F"},
	{"close-range", OP_CLOSE_RANGE, "KK"},
	{"dup", OP_DUP, "FA"},
	{"dup2", OP_DUP2, "FKA"},
	{"dup3", OP_DUP3, "FKA"},
	{"fcntl-dupfd", OP_DUPFD, "FKA"},
	{"fcntl-dupfd-cloexec", OP_DUPFD_CLOEXEC, "FKA"},
	{"chdir", OP_CHDIR, "P"},
	{"fchdir", OP_FCHDIR, "F"},
	{"rename", OP_RENAME, "PP"},
	{"unlink", OP_UNLINK, "P"},
	{"comm", OP_COMM, "S"},
	{"sleep-ms", OP_SLEEP, "N"},
	{"wait-file", OP_WAIT_FILE, "P"},
	{"repeat", OP_REPEAT, "NE"},
	{"thread", OP_THREAD, "E"},
	{"fork", OP_FORK, "E"},
	{"fork-exec", OP_FORK_EXEC, "X"},
	{"exec", OP_EXEC, "X"},
};

struct step {
	const struct opdef *def;
	int tok;	/* argv index of the keyword, for messages */
	const char *fd; /* F/D; NULL for cwd */
	const char *path, *path2;
	const char *as, *as2;
	const char *ktok[2]; /* K words, resolved when run */
	int flags;
	long long n, off;
	size_t *iov;
	int niov;
	char **argv; /* X */
	int argc;
	struct step *body; /* E */
	int nbody;
};

struct binding {
	const char *name;
	int fd;
	const char *path; /* as named in the script */
	char *abspath;
};

static struct binding names[MAX_NAMES];
static int nnames;
static char *cwd;
static char *log_path;
static char *logbuf;
static size_t loglen, logcap;
static char *rbuf, *wbuf;
static size_t rcap, wcap;

static void log_flush(void);

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(2);
}

static void __attribute__((noreturn)) oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

static void __attribute__((format(printf, 1, 2))) log_raw(const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(logbuf + loglen, logcap - loglen, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < logcap - loglen)
			break;
		logcap = (logcap + n + 1) * 2;
		logbuf = xrealloc(logbuf, logcap);
	}
	loglen += n;
}

/* One log line; pid and tid are appended so forked/threaded steps are told apart. */
static void __attribute__((format(printf, 1, 2))) log_line(const char *fmt, ...)
{
	va_list ap;
	char tmp[8192];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	log_raw("%s pid=%d tid=%d\n", tmp, getpid(), gettid());
	if (loglen >= LOG_FLUSH_AT)
		log_flush();
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, PROG ": writing the log: %s\n", strerror(errno));
			exit(1);
		}
		p += w;
		n -= w;
	}
}

/*
 * Opened per flush rather than kept open: a long-lived log fd would shift
 * the fd numbers the test expects and could be hit by dup2/close-range.
 */
static void log_flush(void)
{
	int fd;

	if (!loglen)
		return;
	if (!log_path) {
		write_all(STDERR_FILENO, logbuf, loglen);
		loglen = 0;
		return;
	}
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", log_path, strerror(errno));
		exit(1);
	}
	write_all(fd, logbuf, loglen);
	close(fd);
	loglen = 0;
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(const struct step *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line("error=%s word=%d msg=\"%s%s%s\"", s->def->kw, s->tok, msg, err ? ": " : "",
		 err ? strerror(err) : "");
	log_flush();
	fprintf(stderr, PROG ": word %d '%s': %s%s%s\n", s->tok, s->def->kw, msg, err ? ": " : "",
		err ? strerror(err) : "");
	exit(1);
}

/* ---- paths ---- */

/* Lexical join and normalisation ("." and ".." and "//"), like the agent's view of a name. */
static char *path_join(const char *base, const char *rel)
{
	size_t cap = strlen(base) + strlen(rel) + 3;
	char *in = xrealloc(NULL, cap), *out = xrealloc(NULL, cap);
	size_t o = 0;
	char *save, *c;

	snprintf(in, cap, "%s/%s", rel[0] == '/' ? "" : base, rel);
	for (c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, c, strlen(c));
		o += strlen(c);
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	free(in);
	return out;
}

/* ---- names ---- */

static struct binding *lookup(const char *name)
{
	for (int i = 0; i < nnames; i++)
		if (!strcmp(names[i].name, name))
			return &names[i];
	return NULL;
}

static struct binding *need(const struct step *s, const char *name)
{
	struct binding *b = lookup(name);

	if (!b) {
		errno = EBADF;
		fail(s, "no open fd named %s", name);
	}
	return b;
}

static void unbind(struct binding *b)
{
	free(b->abspath);
	*b = names[--nnames];
}

static struct binding *bind(const struct step *s, const char *name, int fd, const char *path,
			    char *abspath)
{
	struct binding *b = lookup(name);

	if (b) {
		free(b->abspath);
	} else {
		if (nnames == MAX_NAMES) {
			errno = EMFILE;
			fail(s, "more than %d names", MAX_NAMES);
		}
		b = &names[nnames++];
	}
	b->name = name;
	b->fd = fd;
	b->path = path;
	b->abspath = abspath;
	return b;
}

/* K words: a number, "max", or a bound name. */
static long long resolve_k(const struct step *s, int i)
{
	const char *t = s->ktok[i];
	char *end;
	long long v;

	if (!strcmp(t, "max"))
		return ~0U;
	v = strtoll(t, &end, 10);
	if (end != t && !*end)
		return v;
	return need(s, t)->fd;
}

/* ---- parsing ---- */

static int is_ident(const char *t)
{
	if (!*t || !(t[0] == '_' || (t[0] >= 'A' && t[0] <= 'Z') || (t[0] >= 'a' && t[0] <= 'z')))
		return 0;
	for (; *t; t++)
		if (!(*t == '_' || *t == '-' || (*t >= '0' && *t <= '9') ||
		      (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z')))
			return 0;
	return 1;
}

static long long parse_num(const char *t, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(t, &end, 0);
	if (errno || end == t || *end || v < min || v > max)
		usage_error("bad %s '%s' (want %lld..%lld)", what, t, min, max);
	return v;
}

static int parse_mode(const char *t)
{
	if (!strcmp(t, "r"))
		return O_RDONLY;
	if (!strcmp(t, "w"))
		return O_WRONLY | O_CREAT | O_TRUNC;
	if (!strcmp(t, "rw"))
		return O_RDWR | O_CREAT;
	if (!strcmp(t, "a"))
		return O_WRONLY | O_CREAT | O_APPEND;
	usage_error("bad mode '%s' (want r, w, rw or a)", t);
}

static size_t *parse_list(const char *t, int *n)
{
	size_t *v = xrealloc(NULL, MAX_IOV * sizeof(*v));
	unsigned long long sum = 0;
	const char *p = t;

	*n = 0;
	for (;;) {
		char *end;
		unsigned long long x;

		errno = 0;
		x = strtoull(p, &end, 10);
		if (errno || end == p || *p == '-' || (*end && *end != ',') || *n == MAX_IOV)
			usage_error("bad iovec list '%s' (want up to %d lengths like 3,4)", t,
				    MAX_IOV);
		sum += x;
		if (sum > MAX_IO)
			usage_error("iovec list '%s' is over %u bytes", t, MAX_IO);
		v[(*n)++] = x;
		if (!*end)
			return v;
		p = end + 1;
	}
}

static const struct opdef *find_op(const char *kw)
{
	for (size_t i = 0; i < sizeof(opdefs) / sizeof(opdefs[0]); i++)
		if (!strcmp(opdefs[i].kw, kw))
			return &opdefs[i];
	return NULL;
}

static const char *word(int argc, char **argv, int *i, const char *kw, const char *what)
{
	if (*i >= argc)
		usage_error("'%s' wants %s", kw, what);
	return argv[(*i)++];
}

static const char *ident(int argc, char **argv, int *i, const char *kw)
{
	const char *t = word(argc, argv, i, kw, "a name");

	if (!is_ident(t))
		usage_error("'%s': bad name '%s' (letters, digits, _ and -)", kw, t);
	return t;
}

static void expect_as(int argc, char **argv, int *i, const char *kw)
{
	if (strcmp(word(argc, argv, i, kw, "'as NAME'"), "as"))
		usage_error("'%s' wants 'as NAME', got '%s'", kw, argv[*i - 1]);
}

static int parse_block(int argc, char **argv, int *i, int in_block, struct step **out);

static void parse_step(int argc, char **argv, int *i, struct step *s)
{
	const char *kw = argv[*i];
	int nk = 0;

	memset(s, 0, sizeof(*s));
	s->tok = *i;
	s->def = find_op(kw);
	if (!s->def)
		usage_error("unknown step '%s' at word %d", kw, *i);
	(*i)++;
	for (const char *c = s->def->spec; *c; c++) {
		switch (*c) {
		case 'F': s->fd = ident(argc, argv, i, kw); break;
		case 'D':
			s->fd = ident(argc, argv, i, kw);
			if (!strcmp(s->fd, "cwd"))
				s->fd = NULL;
			break;
		case 'M': s->flags = parse_mode(word(argc, argv, i, kw, "a mode")); break;
		case 'P':
			if (s->path)
				s->path2 = word(argc, argv, i, kw, "a path");
			else
				s->path = word(argc, argv, i, kw, "a path");
			break;
		case 'S': s->path = word(argc, argv, i, kw, "a string"); break;
		case 'N':
			s->n = parse_num(word(argc, argv, i, kw, "a number"), 0, MAX_IO, "number");
			break;
		case 'O':
			s->off = parse_num(word(argc, argv, i, kw, "an offset"), -1, LLONG_MAX,
					   "offset");
			break;
		case 'K':
			s->ktok[nk] = word(argc, argv, i, kw, "an fd");
			if (strcmp(s->ktok[nk], "max") && !is_ident(s->ktok[nk]))
				parse_num(s->ktok[nk], 0, INT_MAX, "fd");
			nk++;
			break;
		case 'L':
			s->iov = parse_list(word(argc, argv, i, kw, "an iovec list"), &s->niov);
			break;
		case 'A':
			expect_as(argc, argv, i, kw);
			s->as = ident(argc, argv, i, kw);
			break;
		case 'B':
			expect_as(argc, argv, i, kw);
			s->as = ident(argc, argv, i, kw);
			s->as2 = ident(argc, argv, i, kw);
			break;
		case 'E': s->nbody = parse_block(argc, argv, i, 1, &s->body); break;
		case 'X': {
			/* words up to ";" as find -exec does: counting words is error-prone */
			int start = *i;

			while (*i < argc && strcmp(argv[*i], ";"))
				(*i)++;
			if (*i >= argc || *i == start)
				usage_error("'%s' wants WORD... ';'", kw);
			s->argc = *i - start;
			s->argv = xrealloc(NULL, (s->argc + 1) * sizeof(char *));
			memcpy(s->argv, argv + start, s->argc * sizeof(char *));
			s->argv[s->argc] = NULL; /* execvp wants it */
			(*i)++;
			break;
		}
		}
	}
}

/* Parses steps up to "end" (inside a block) or the end of argv. */
static int parse_block(int argc, char **argv, int *i, int in_block, struct step **out)
{
	struct step *v = NULL;
	int n = 0;

	for (;;) {
		if (*i >= argc) {
			if (in_block)
				usage_error("block is missing its 'end'");
			break;
		}
		if (!strcmp(argv[*i], "end")) {
			if (!in_block)
				usage_error("'end' at word %d closes nothing", *i);
			(*i)++;
			break;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		parse_step(argc, argv, i, &v[n++]);
	}
	*out = v;
	return n;
}

/* ---- running ---- */

static char *iobuf(size_t n, int for_write)
{
	char **b = for_write ? &wbuf : &rbuf;
	size_t *cap = for_write ? &wcap : &rcap;

	if (n > *cap) {
		*b = xrealloc(*b, n);
		if (for_write)
			memset(*b + *cap, 'x', n - *cap);
		*cap = n;
	}
	return *b;
}

static int build_iov(const struct step *s, struct iovec *iov, int for_write)
{
	size_t total = 0, at = 0;
	char *base;

	for (int i = 0; i < s->niov; i++)
		total += s->iov[i];
	base = iobuf(total, for_write);
	for (int i = 0; i < s->niov; i++) {
		iov[i].iov_base = base + at;
		iov[i].iov_len = s->iov[i];
		at += s->iov[i];
	}
	return s->niov;
}

/* syscall(2) takes a 64-bit offset as lo/hi words like glibc's LO_HI_LONG. */
#define LO_HI(off) (long)(off), (long)((unsigned long long)(off) >> 32)

/*
 * The legacy calls the agent traces separately; arm64 and friends lack
 * them, which fails the step with ENOSYS rather than silently using *at().
 */
static long legacy(long nr, long a, long b)
{
	if (nr < 0) {
		errno = ENOSYS;
		return -1;
	}
	return syscall(nr, a, b, 0644);
}

#ifndef SYS_open
#define SYS_open -1
#define SYS_creat -1
#define SYS_dup2 -1
#define SYS_rename -1
#endif

static const char *abs_of(const struct step *s, const char *dirname, const char *path, char **out)
{
	*out = path_join(dirname ? need(s, dirname)->abspath : cwd, path);
	return *out;
}

static void do_open(const struct step *s)
{
	const char *sysname = s->def->kw;
	int dirfd = s->fd ? need(s, s->fd)->fd : AT_FDCWD;
	char *abspath;
	long fd;

	abs_of(s, s->fd, s->path, &abspath);
	switch (s->def->op) {
	case OP_OPEN: fd = legacy(SYS_open, (long)s->path, s->flags); break;
	case OP_OPENAT:
		sysname = "openat";
		fd = syscall(SYS_openat, dirfd, s->path, s->flags, 0644);
		break;
	case OP_OPENAT2: {
		struct open_how how = {.flags = s->flags, .mode = s->flags & O_CREAT ? 0644 : 0};

		sysname = "openat2";
		fd = syscall(SYS_openat2, dirfd, s->path, &how, sizeof(how));
		break;
	}
	case OP_CREAT: fd = legacy(SYS_creat, (long)s->path, 0644); break;
	default: /* OP_OPENDIR */
		sysname = "openat";
		fd = syscall(SYS_openat, AT_FDCWD, s->path, O_RDONLY | O_DIRECTORY, 0);
		break;
	}
	if (fd < 0)
		fail(s, "%s(%s)", sysname, s->path);
	bind(s, s->as, fd, s->path, abspath);
	log_line("syscall=%s fd=%ld path=%s abspath=%s name=%s%s%s", sysname, fd, s->path, abspath,
		 s->as, s->fd ? " dir=" : "", s->fd ? s->fd : "");
}

static void do_pipe(const struct step *s)
{
	int fds[2];
	struct stat st;
	char p[64];

	if (syscall(SYS_pipe2, fds, 0) < 0)
		fail(s, "pipe2");
	/* same name /proc/PID/fd shows, so tests can match the agent's view */
	if (fstat(fds[0], &st) < 0)
		fail(s, "fstat(pipe)");
	snprintf(p, sizeof(p), "pipe:[%llu]", (unsigned long long)st.st_ino);
	bind(s, s->as, fds[0], "pipe", xstrdup(p));
	bind(s, s->as2, fds[1], "pipe", xstrdup(p));
	log_line("syscall=pipe2 fd=%d path=pipe abspath=%s name=%s wfd=%d wname=%s", fds[0], p,
		 s->as, fds[1], s->as2);
}

static void do_io(const struct step *s)
{
	struct binding *b = need(s, s->fd);
	struct iovec iov[MAX_IOV];
	const char *sysname = s->def->kw;
	long r;

	switch (s->def->op) {
	case OP_READ: r = syscall(SYS_read, b->fd, iobuf(s->n, 0), s->n); break;
	case OP_PREAD:
		r = syscall(SYS_pread64, b->fd, iobuf(s->n, 0), s->n, s->off);
		sysname = "pread64";
		break;
	case OP_READV: r = syscall(SYS_readv, b->fd, iov, build_iov(s, iov, 0)); break;
	case OP_PREADV:
		r = syscall(SYS_preadv, b->fd, iov, build_iov(s, iov, 0), LO_HI(s->off));
		break;
	case OP_PREADV2:
		r = syscall(SYS_preadv2, b->fd, iov, build_iov(s, iov, 0), LO_HI(s->off), 0);
		break;
	case OP_WRITE: r = syscall(SYS_write, b->fd, iobuf(s->n, 1), s->n); break;
	case OP_PWRITE:
		r = syscall(SYS_pwrite64, b->fd, iobuf(s->n, 1), s->n, s->off);
		sysname = "pwrite64";
		break;
	case OP_WRITEV: r = syscall(SYS_writev, b->fd, iov, build_iov(s, iov, 1)); break;
	case OP_PWRITEV:
		r = syscall(SYS_pwritev, b->fd, iov, build_iov(s, iov, 1), LO_HI(s->off));
		break;
	default: /* OP_PWRITEV2 */
		r = syscall(SYS_pwritev2, b->fd, iov, build_iov(s, iov, 1), LO_HI(s->off), 0);
		break;
	}
	if (r < 0)
		fail(s, "%s(fd=%d %s)", sysname, b->fd, b->name);
	log_line("syscall=%s fd=%d bytes=%ld path=%s abspath=%s name=%s", sysname, b->fd, r,
		 b->path, b->abspath, b->name);
}

static void do_dup(const struct step *s)
{
	struct binding *b = need(s, s->fd);
	const char *sysname = s->def->kw;
	int oldfd = b->fd;
	long target = s->ktok[0] ? resolve_k(s, 0) : -1;
	long fd;

	switch (s->def->op) {
	case OP_DUP: fd = syscall(SYS_dup, oldfd); break;
	case OP_DUP2: fd = legacy(SYS_dup2, oldfd, target); break;
	case OP_DUP3: fd = syscall(SYS_dup3, oldfd, target, 0); break;
	case OP_DUPFD:
		fd = syscall(SYS_fcntl, oldfd, F_DUPFD, target);
		sysname = "fcntl";
		break;
	default: /* OP_DUPFD_CLOEXEC */
		fd = syscall(SYS_fcntl, oldfd, F_DUPFD_CLOEXEC, target);
		sysname = "fcntl";
		break;
	}
	if (fd < 0)
		fail(s, "%s(fd=%d %s)", s->def->kw, oldfd, b->name);
	log_line("syscall=%s fd=%ld path=%s abspath=%s name=%s oldfd=%d oldname=%s%s", sysname, fd,
		 b->path, b->abspath, s->as, oldfd, b->name,
		 s->def->op == OP_DUPFD		  ? " cmd=F_DUPFD"
		 : s->def->op == OP_DUPFD_CLOEXEC ? " cmd=F_DUPFD_CLOEXEC"
						  : "");
	bind(s, s->as, fd, b->path, xstrdup(b->abspath));
}

static void do_close_range(const struct step *s)
{
	long long first = resolve_k(s, 0), last = resolve_k(s, 1);

	if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0) < 0)
		fail(s, "close_range(%lld, %lld)", first, last);
	log_line("syscall=close_range fd=%lld last=%lld", first, last);
	for (int i = 0; i < nnames;) {
		if (names[i].fd >= first && names[i].fd <= last)
			unbind(&names[i]);
		else
			i++;
	}
}

static void wait_file(const struct step *s)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 6000; i++) {
		if (access(s->path, F_OK) == 0) {
			log_line("syscall=wait-file fd=-1 path=%s", s->path);
			return;
		}
		nanosleep(&ts, NULL);
	}
	errno = ETIMEDOUT;
	fail(s, "%s did not appear within 60 s", s->path);
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static void wait_child(const struct step *s, pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail(s, "waitpid(%d)", pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		if (WIFSIGNALED(status))
			fail(s, "child %d killed by signal %d", pid, WTERMSIG(status));
		fail(s, "child %d exited %d", pid, WEXITSTATUS(status));
	}
}

static void __attribute__((noreturn)) exec_words(const struct step *s)
{
	execvp(s->argv[0], s->argv);
	fprintf(stderr, PROG ": word %d '%s': exec %s: %s\n", s->tok, s->def->kw, s->argv[0],
		strerror(errno));
	_exit(127);
}

static void run_block(const struct step *v, int n);

struct thread_arg {
	const struct step *s;
};

static void *thread_main(void *p)
{
	const struct step *s = ((struct thread_arg *)p)->s;

	run_block(s->body, s->nbody);
	return NULL;
}

static void run_step(const struct step *s)
{
	struct binding *b;
	pid_t pid;

	switch (s->def->op) {
	case OP_OPEN:
	case OP_OPENAT:
	case OP_OPENAT2:
	case OP_CREAT:
	case OP_OPENDIR: do_open(s); break;
	case OP_ADOPT: {
		int fd = resolve_k(s, 0);

		bind(s, s->as, fd, s->path, path_join(cwd, s->path));
		break;
	}
	case OP_PIPE: do_pipe(s); break;
	case OP_READ:
	case OP_PREAD:
	case OP_READV:
	case OP_PREADV:
	case OP_PREADV2:
	case OP_WRITE:
	case OP_PWRITE:
	case OP_WRITEV:
	case OP_PWRITEV:
	case OP_PWRITEV2: do_io(s); break;
	case OP_SEEK:
		b = need(s, s->fd);
		if (lseek(b->fd, s->off, SEEK_SET) < 0)
			fail(s, "lseek(fd=%d %s)", b->fd, b->name);
		log_line("syscall=lseek fd=%d path=%s abspath=%s name=%s offset=%lld", b->fd,
			 b->path, b->abspath, b->name, s->off);
		break;
	case OP_TRUNCATE:
		b = need(s, s->fd);
		if (ftruncate(b->fd, s->n) < 0)
			fail(s, "ftruncate(fd=%d %s)", b->fd, b->name);
		log_line("syscall=ftruncate fd=%d path=%s abspath=%s name=%s length=%lld", b->fd,
			 b->path, b->abspath, b->name, s->n);
		break;
	case OP_CLOSE:
		b = need(s, s->fd);
		if (syscall(SYS_close, b->fd) < 0)
			fail(s, "close(fd=%d %s)", b->fd, b->name);
		log_line("syscall=close fd=%d path=%s abspath=%s name=%s", b->fd, b->path,
			 b->abspath, b->name);
		unbind(b);
		break;
	case OP_CLOSE_RANGE: do_close_range(s); break;
	case OP_DUP:
	case OP_DUP2:
	case OP_DUP3:
	case OP_DUPFD:
	case OP_DUPFD_CLOEXEC: do_dup(s); break;
	case OP_CHDIR: {
		char *abspath = path_join(cwd, s->path);

		if (syscall(SYS_chdir, s->path) < 0)
			fail(s, "chdir(%s)", s->path);
		free(cwd);
		cwd = abspath;
		log_line("syscall=chdir fd=-1 path=%s abspath=%s", s->path, cwd);
		break;
	}
	case OP_FCHDIR:
		b = need(s, s->fd);
		if (syscall(SYS_fchdir, b->fd) < 0)
			fail(s, "fchdir(fd=%d %s)", b->fd, b->name);
		free(cwd);
		cwd = xstrdup(b->abspath);
		log_line("syscall=fchdir fd=%d path=%s abspath=%s name=%s", b->fd, b->path,
			 b->abspath, b->name);
		break;
	case OP_RENAME: {
		char *a = path_join(cwd, s->path), *n = path_join(cwd, s->path2);

		if (legacy(SYS_rename, (long)s->path, (long)s->path2) < 0)
			fail(s, "rename(%s, %s)", s->path, s->path2);
		log_line("syscall=rename fd=-1 path=%s abspath=%s newpath=%s newabspath=%s",
			 s->path, a, s->path2, n);
		free(a);
		free(n);
		break;
	}
	case OP_UNLINK:
		if (unlink(s->path) < 0)
			fail(s, "unlink(%s)", s->path);
		log_line("syscall=unlink fd=-1 path=%s", s->path);
		break;
	case OP_COMM:
		if (prctl(PR_SET_NAME, s->path, 0, 0, 0) < 0)
			fail(s, "prctl(PR_SET_NAME, %s)", s->path);
		/* the kernel keeps 15 bytes; log what the agent will see */
		log_line("syscall=prctl fd=-1 comm=%.15s", s->path);
		break;
	case OP_SLEEP:
		log_flush();
		sleep_ms(s->n);
		break;
	case OP_WAIT_FILE:
		log_flush();
		wait_file(s);
		break;
	case OP_REPEAT:
		for (long long i = 0; i < s->n; i++)
			run_block(s->body, s->nbody);
		break;
	case OP_THREAD: {
		struct thread_arg a = {s};
		pthread_t t;
		int e = pthread_create(&t, NULL, thread_main, &a);

		if (e) {
			errno = e;
			fail(s, "pthread_create");
		}
		pthread_join(t, NULL);
		break;
	}
	case OP_FORK:
		log_flush(); /* or the child would write our lines again */
		pid = fork();
		if (pid < 0)
			fail(s, "fork");
		if (!pid) {
			run_block(s->body, s->nbody);
			log_flush();
			_exit(0);
		}
		log_line("syscall=fork fd=-1 child=%d", pid);
		wait_child(s, pid);
		break;
	case OP_FORK_EXEC:
		log_flush();
		pid = fork();
		if (pid < 0)
			fail(s, "fork");
		if (!pid)
			exec_words(s);
		/* logged by the parent: the child's pid is what a test filters on */
		log_line("syscall=execve fd=-1 path=%s child=%d", s->argv[0], pid);
		wait_child(s, pid);
		break;
	case OP_EXEC:
		log_line("syscall=execve fd=-1 path=%s child=%d", s->argv[0], getpid());
		log_flush();
		exec_words(s);
	}
}

static void run_block(const struct step *v, int n)
{
	for (int i = 0; i < n; i++)
		run_step(&v[i]);
}

static void help(void)
{
	fputs("usage: " PROG " [--log FILE] STEP...\n"
	      "Runs the steps in order, one syscall each, logging every one to FILE.\n"
	      "\n"
	      "MODE r|w|rw|a  LIST 3,4,...  FD number|NAME|max  OFF -1 = current (v2 calls)\n"
	      "  open MODE PATH as NAME        openat DIR|cwd MODE PATH as NAME\n"
	      "  openat-cwd MODE PATH as NAME  openat2 DIR|cwd MODE PATH as NAME\n"
	      "  openat2-cwd MODE PATH as NAME creat PATH as NAME\n"
	      "  opendir PATH as NAME          adopt FD PATH as NAME  (inherited fd)\n"
	      "  pipe as RNAME WNAME\n"
	      "  read NAME N     pread NAME N OFF   readv NAME LIST\n"
	      "  preadv NAME LIST OFF             preadv2 NAME LIST OFF\n"
	      "  write NAME N    pwrite NAME N OFF  writev NAME LIST\n"
	      "  pwritev NAME LIST OFF            pwritev2 NAME LIST OFF\n"
	      "  seek NAME OFF   truncate NAME N    close NAME   close-range FD FD\n"
	      "  dup NAME as NEW   dup2 NAME FD as NEW   dup3 NAME FD as NEW\n"
	      "  fcntl-dupfd NAME FD as NEW   fcntl-dupfd-cloexec NAME FD as NEW\n"
	      "  chdir PATH   fchdir NAME   rename OLD NEW   unlink PATH   comm NAME\n"
	      "  sleep-ms N   wait-file PATH (60 s timeout)\n"
	      "  repeat N STEP... end   thread STEP... end   fork STEP... end\n"
	      "  fork-exec WORD... \\;    exec WORD... \\;   (\";\" ends the command)\n"
	      "\n"
	      "Log lines: pid=<n>, then per step\n"
	      "  syscall=<name> fd=<n> [bytes=<ret>] path=<as named> abspath=<resolved> ... "
	      "pid=<n> tid=<n>\n"
	      "Writes write 'x'. Files are opened 0644 without O_CLOEXEC. Exit 0 ok, 1 failed, "
	      "2 usage.\n",
	      stdout);
}

/* file scope, so the script stays reachable until exit (quiet under LSan) */
static struct step *steps;

int main(int argc, char **argv)
{
	int nsteps, i = 1;
	char buf[PATH_MAX];

	while (i < argc && !strncmp(argv[i], "--", 2)) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			return 0;
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			log_path = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			usage_error("unknown option '%s'", argv[i]);
		}
	}
	/* Parse it all first: a typo must fail before any syscall is made. */
	nsteps = parse_block(argc, argv, &i, 0, &steps);
	if (!getcwd(buf, sizeof(buf))) {
		perror(PROG ": getcwd");
		return 1;
	}
	cwd = xstrdup(buf);
	/* absolute, so a chdir step does not move the log */
	if (log_path)
		log_path = path_join(cwd, log_path);
	logcap = 4096;
	logbuf = xrealloc(NULL, logcap);
	log_raw("pid=%d\n", getpid());
	log_flush();
	run_block(steps, nsteps);
	log_flush();
	return 0;
}
