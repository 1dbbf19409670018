/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-loadgen - file I/O load generator for the agent benchmarks.
 *
 * Makes a known number of read/write/open syscalls at a known rate so a
 * bench script can compare what it did with what the agent delivered. On
 * exit (end of --duration/--count, or SIGINT/SIGTERM) prints one JSON line:
 *
 *   {"mode":"write","syscalls":N,"bytes":B,"seconds":S,"rate":R,"files":F,
 *    "pid":P,"ops":O,"threads":T}
 *
 * "syscalls" counts only syscalls that succeeded, inside the timed window;
 * "rate" is syscalls/seconds. An op is one pwrite64 (write(2) with --append),
 * one pread64, one openat+close pair (open-close: two syscalls per op),
 * one ioctl(FIONREAD) of the file (ioctl), or one mprotect of an anonymous
 * page, every other one adding PROT_WRITE (mprotect).
 * --rate, --count and --burst count ops. Set-up and clean-up are outside the
 * window: creating the files (openat), pre-filling them for read mode (one
 * pwrite64 of --bytes per file) and unlinking them.
 *
 * Pacing uses absolute CLOCK_MONOTONIC deadlines, sleeping once per batch of
 * about 1 ms worth of ops, so sleep overshoot never accumulates: a late
 * batch is caught up by the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PROG "sentinel-loadgen"
#define NSEC 1000000000LL
#define MAX_BYTES (64 << 20)
/* flat-out: look at the clock and the stop flag every this many ops */
#define FLAT_BATCH 64

enum mode { M_WRITE, M_READ, M_OPEN_CLOSE, M_IOCTL, M_MPROTECT };
#define M_MODES 5
static const char *const mode_names[M_MODES] = {"write", "read", "open-close", "ioctl", "mprotect"};

struct opts {
	enum mode mode;
	size_t bytes;
	int files;
	const char *dir;
	double rate;	 /* ops/s, all threads; 0 = flat out */
	double duration; /* s; 0 = none */
	long long count; /* ops, all threads; 0 = none */
	long long burst; /* ops per burst, all threads */
	long long burst_ms;
	int threads;
	int append;
	int keep;
	long long settle_ms; /* pause between set-up and the timed window */
	const char *comm;
};

struct worker {
	pthread_t thread;
	int idx;
	long long quota; /* ops; LLONG_MAX = until the deadline */
	double rate;	 /* this thread's share */
	long long burst; /* this thread's share of a burst */
	long long ops, syscalls, bytes;
	int64_t t_last;	    /* when its last op returned */
	int timed_out;	    /* stopped by --duration */
	int err;	    /* errno of the failure that stopped it */
	const char *failed; /* which syscall */
};

static struct opts o = {
	.mode = M_WRITE,
	.bytes = 1,
	.files = 1,
	.threads = 1,
};
static long long warmup_writes; /* set-up pwrites, outside the window */
static int *fds;
static char **paths;
static char *buf;
static char *page;	       /* mprotect mode: an anonymous page */
static int64_t t_start, t_end; /* ns; t_end = 0: no time limit */
static pthread_barrier_t start_barrier;
static atomic_int stop;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = {t / NSEC, t % NSEC};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One op; returns 0 or -1 with w->err/failed set. Counts what succeeded. */
static int do_op(struct worker *w, int file)
{
	ssize_t r;
	int fd;

	switch (o.mode) {
	case M_WRITE:
		if (o.append)
			r = write(fds[file], buf, o.bytes);
		else
			r = pwrite(fds[file], buf, o.bytes, 0);
		if (r < 0) {
			w->failed = o.append ? "write" : "pwrite64";
			goto fail;
		}
		w->bytes += r;
		break;
	case M_READ:
		r = pread(fds[file], buf, o.bytes, 0);
		if (r < 0) {
			w->failed = "pread64";
			goto fail;
		}
		w->bytes += r;
		break;
	case M_IOCTL: {
		int avail;

		/* FIONREAD: an ioctl the probe decodes no further than its cmd */
		if (ioctl(fds[file], FIONREAD, &avail) < 0) {
			w->failed = "ioctl";
			goto fail;
		}
		break;
	}
	case M_MPROTECT:
		/* a JIT's W^X toggle: every other call adds PROT_WRITE (to an
		 * anonymous page: the probe looks it up and finds no file) */
		if (mprotect(page, 4096, (w->ops & 1) ? PROT_READ : PROT_READ | PROT_WRITE) < 0) {
			w->failed = "mprotect";
			goto fail;
		}
		break;
	case M_OPEN_CLOSE:
		fd = openat(AT_FDCWD, paths[file], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			w->failed = "openat";
			goto fail;
		}
		w->syscalls++;
		if (close(fd) < 0) {
			w->failed = "close";
			goto fail;
		}
		break;
	}
	w->syscalls++;
	w->ops++;
	return 0;
fail:
	w->err = errno;
	return -1;
}

/* Runs @n ops back to back; -1 when one failed. */
static int run_batch(struct worker *w, long long n, int *file)
{
	for (long long i = 0; i < n; i++) {
		if (do_op(w, *file) < 0) {
			w->t_last = now_ns();
			return -1;
		}
		if (++*file == o.files)
			*file = 0;
	}
	w->t_last = now_ns();
	return 0;
}

static int time_up(struct worker *w)
{
	if (stop)
		return 1;
	w->timed_out = t_end && now_ns() >= t_end;
	return w->timed_out;
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	/* threads start on different files to spread the inode locks */
	int file = (int)((long long)w->idx * o.files / o.threads);
	long long batch, left = w->quota;

	pthread_barrier_wait(&start_barrier);
	/* Every thread waits for the shared start (and --settle-ms with it),
	 * flat-out ones too. */
	sleep_until(t_start);
	w->t_last = t_start;
	if (o.burst) {
		/* burst k starts at t_start + k * interval, whatever the last one cost */
		for (long long k = 0; left > 0; k++) {
			int64_t t = t_start + k * o.burst_ms * 1000000;

			sleep_until(t);
			if (time_up(w))
				break;
			batch = w->burst < left ? w->burst : left;
			if (run_batch(w, batch, &file) < 0)
				goto failed;
			left -= batch;
		}
	} else if (w->rate > 0) {
		/* ~1 ms of ops per sleep: few wakeups, yet smooth at the ms scale */
		batch = (long long)(w->rate / 1000);
		if (batch < 1)
			batch = 1;
		while (left > 0) {
			int64_t t = t_start + (int64_t)(w->ops * (double)NSEC / w->rate);

			sleep_until(t);
			if (time_up(w))
				break;
			if (batch > left)
				batch = left;
			if (run_batch(w, batch, &file) < 0)
				goto failed;
			left -= batch;
		}
	} else {
		while (left > 0 && !time_up(w)) {
			batch = FLAT_BATCH < left ? FLAT_BATCH : left;
			if (run_batch(w, batch, &file) < 0)
				goto failed;
			left -= batch;
		}
	}
	return NULL;
failed:
	stop = 1; /* the others stop too: the run is invalid */
	return NULL;
}

static void usage(FILE *f)
{
	fputs("usage: " PROG " [options]\n"
	      "  --mode write|read|open-close|ioctl|mprotect   (default write)\n"
	      "  --bytes N           bytes per read/write (default 1)\n"
	      "  --files N           distinct files, used round-robin (default 1)\n"
	      "  --dir DIR           where the files go (default: fresh mkdtemp in /tmp)\n"
	      "  --rate R            ops/s over all threads, 0 = flat out (default 0)\n"
	      "  --duration S        stop after S seconds (default 10 unless --count)\n"
	      "  --count N           stop after N ops over all threads\n"
	      "  --burst N --burst-interval-ms M   N back-to-back ops every M ms\n"
	      "  --threads T         (default 1)\n"
	      "  --append            write(2) to O_APPEND files instead of pwrite at 0\n"
	      "  --comm NAME         set the thread names (for comm filters)\n"
	      "  --keep              leave the files (and a mkdtemp dir) behind\n"
	      "  --settle-ms M       pause M ms after opening the files, before the timed\n"
	      "                      window: the agent's verdict on them arrives one drain\n"
	      "                      after the open, so every timed op is already decided\n"
	      "Prints one JSON line at exit; exit 1 if a syscall failed.\n",
	      f);
}

static void __attribute__((noreturn)) bad(const char *opt, const char *val)
{
	fprintf(stderr, PROG ": bad value '%s' for --%s\n", val, opt);
	usage(stderr);
	exit(2);
}

static long long num(const char *opt, const char *val, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno || end == val || *end || v < min || v > max)
		bad(opt, val);
	return v;
}

static double fnum(const char *opt, const char *val)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (errno || end == val || *end || !(v >= 0) || v > 1e12)
		bad(opt, val);
	return v;
}

static void parse_args(int argc, char **argv)
{
	/* same order as longopts[], which the error messages index */
	enum {
		OPT_MODE = 256,
		OPT_BYTES,
		OPT_FILES,
		OPT_DIR,
		OPT_RATE,
		OPT_DURATION,
		OPT_COUNT,
		OPT_BURST,
		OPT_BURST_MS,
		OPT_THREADS,
		OPT_APPEND,
		OPT_KEEP,
		OPT_SETTLE_MS,
		OPT_COMM,
		OPT_HELP
	};
	static const struct option longopts[] = {
		{"mode", required_argument, NULL, OPT_MODE},
		{"bytes", required_argument, NULL, OPT_BYTES},
		{"files", required_argument, NULL, OPT_FILES},
		{"dir", required_argument, NULL, OPT_DIR},
		{"rate", required_argument, NULL, OPT_RATE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"count", required_argument, NULL, OPT_COUNT},
		{"burst", required_argument, NULL, OPT_BURST},
		{"burst-interval-ms", required_argument, NULL, OPT_BURST_MS},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"append", no_argument, NULL, OPT_APPEND},
		{"keep", no_argument, NULL, OPT_KEEP},
		{"settle-ms", required_argument, NULL, OPT_SETTLE_MS},
		{"comm", required_argument, NULL, OPT_COMM},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	int c, i;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *name = longopts[c >= OPT_MODE && c <= OPT_HELP ? c - OPT_MODE : 0].name;

		switch (c) {
		case OPT_MODE:
			for (i = 0; i < M_MODES && strcmp(optarg, mode_names[i]); i++)
				;
			if (i == M_MODES)
				bad(name, optarg);
			o.mode = i;
			break;
		case OPT_BYTES: o.bytes = num(name, optarg, 0, MAX_BYTES); break;
		case OPT_FILES: o.files = num(name, optarg, 1, 100000); break;
		case OPT_DIR: o.dir = optarg; break;
		case OPT_RATE: o.rate = fnum(name, optarg); break;
		case OPT_DURATION: o.duration = fnum(name, optarg); break;
		case OPT_COUNT: o.count = num(name, optarg, 1, LLONG_MAX); break;
		case OPT_BURST: o.burst = num(name, optarg, 1, LLONG_MAX); break;
		case OPT_BURST_MS: o.burst_ms = num(name, optarg, 1, 3600 * 1000); break;
		case OPT_THREADS: o.threads = num(name, optarg, 1, 1024); break;
		case OPT_APPEND: o.append = 1; break;
		case OPT_KEEP: o.keep = 1; break;
		case OPT_SETTLE_MS: o.settle_ms = num(name, optarg, 0, 3600 * 1000); break;
		case OPT_COMM: o.comm = optarg; break;
		case 'h':
		case OPT_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		exit(2);
	}
	if (!o.burst != !o.burst_ms) {
		fprintf(stderr, PROG ": --burst and --burst-interval-ms go together\n");
		exit(2);
	}
	if (o.burst && o.rate > 0) {
		fprintf(stderr, PROG ": --burst and --rate exclude each other\n");
		exit(2);
	}
	if (o.append && o.mode != M_WRITE) {
		fprintf(stderr, PROG ": --append is for --mode write\n");
		exit(2);
	}
	if (!o.duration && !o.count)
		o.duration = 10;
}

static int setup_files(char *tmpl)
{
	int flags;

	if (!o.dir) {
		if (!mkdtemp(tmpl)) {
			fprintf(stderr, PROG ": mkdtemp %s: %s\n", tmpl, strerror(errno));
			return -1;
		}
		o.dir = tmpl;
	}
	fds = calloc(o.files, sizeof(*fds));
	paths = calloc(o.files, sizeof(*paths));
	buf = malloc(o.bytes ? o.bytes : 1);
	if (!fds || !paths || !buf)
		goto oom;
	memset(buf, 'x', o.bytes);
	if (o.mode == M_MPROTECT) {
		page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED) {
			fprintf(stderr, PROG ": mmap: %s\n", strerror(errno));
			return -1;
		}
	}
	flags = o.mode == M_READ ? O_RDWR : O_WRONLY;
	if (o.append)
		flags |= O_APPEND;
	for (int i = 0; i < o.files; i++) {
		if (asprintf(&paths[i], "%s/loadgen-%d", o.dir, i) < 0)
			goto oom;
		fds[i] = open(paths[i], flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fds[i] < 0) {
			fprintf(stderr, PROG ": %s: %s\n", paths[i], strerror(errno));
			return -1;
		}
		/* Read mode pre-fills; with --settle-ms write mode writes once too:
		 * the agent names a file and posts its verdict after the first
		 * read or write of it, so the timed ops find it decided. */
		if (o.mode == M_READ || (o.mode == M_WRITE && o.settle_ms)) {
			if (pwrite(fds[i], buf, o.bytes, 0) != (ssize_t)o.bytes) {
				fprintf(stderr, PROG ": pre-filling %s failed\n", paths[i]);
				return -1;
			}
			warmup_writes++;
		}
		/* open-close opens by name; no need to hold an fd */
		if (o.mode == M_OPEN_CLOSE) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	return 0;
oom:
	fprintf(stderr, PROG ": out of memory\n");
	return -1;
}

static void cleanup_files(const char *tmpl)
{
	for (int i = 0; fds && paths && i < o.files && paths[i]; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (!o.keep)
			unlink(paths[i]);
	}
	if (!o.keep && o.dir == tmpl)
		rmdir(tmpl);
}

/* Splits @total as evenly as possible; thread i gets the remainder first. */
static long long share(long long total, int i)
{
	return total / o.threads + (i < total % o.threads);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/sentinel-loadgen.XXXXXX";
	struct sigaction sa = {.sa_handler = on_signal};
	struct worker *w;
	long long ops = 0, syscalls = 0, bytes = 0;
	int64_t t_last = 0;
	const struct worker *failed = NULL;
	double secs;
	int rc = 0;

	parse_args(argc, argv);
	if (o.comm)
		prctl(PR_SET_NAME, o.comm, 0, 0, 0); /* threads inherit it */
	/* no SA_RESTART: a signal ends clock_nanosleep and the run */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (setup_files(tmpl) < 0) {
		cleanup_files(tmpl);
		return 1;
	}
	w = calloc(o.threads, sizeof(*w));
	if (!w || pthread_barrier_init(&start_barrier, NULL, o.threads + 1)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	for (int i = 0; i < o.threads; i++) {
		w[i].idx = i;
		w[i].quota = o.count ? share(o.count, i) : LLONG_MAX;
		w[i].rate = o.rate / o.threads;
		w[i].burst = o.burst ? share(o.burst, i) : 0;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
			fprintf(stderr, PROG ": pthread_create failed\n");
			return 1;
		}
	}
	/* a shared start so paced threads interleave instead of drifting apart */
	t_start = now_ns() + 1000000 + o.settle_ms * 1000000;
	t_end = o.duration ? t_start + (int64_t)(o.duration * NSEC) : 0;
	pthread_barrier_wait(&start_barrier);
	sleep_until(t_start);
	for (int i = 0; i < o.threads; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
		syscalls += w[i].syscalls;
		bytes += w[i].bytes;
		if (w[i].t_last > t_last)
			t_last = w[i].t_last;
		if (w[i].timed_out && t_end > t_last)
			t_last = t_end; /* the window is --duration, not the last op in it */
		if (w[i].failed && !failed)
			failed = &w[i];
	}
	/*
	 * Up to the last op (or the end of --duration), not the join: a paced
	 * thread notices the end only after sleeping to its next batch.
	 */
	secs = (t_last - t_start) / (double)NSEC;
	cleanup_files(tmpl);
	if (failed) {
		fprintf(stderr, PROG ": %s failed: %s\n", failed->failed, strerror(failed->err));
		rc = 1;
	}
	printf("{\"mode\":\"%s\",\"syscalls\":%lld,\"bytes\":%lld,\"seconds\":%.6f,"
	       "\"rate\":%.1f,\"files\":%d,\"pid\":%d,\"ops\":%lld,\"threads\":%d,"
	       "\"setup_writes\":%lld}\n",
	       mode_names[o.mode], syscalls, bytes, secs, secs > 0 ? syscalls / secs : 0.0, o.files,
	       getpid(), ops, o.threads, warmup_writes);
	fflush(stdout);
	free(w);
	for (int i = 0; i < o.files; i++)
		free(paths[i]);
	free(paths);
	free(fds);
	free(buf);
	return rc;
}
