/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format 0.0.4. See metrics.h.
 */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- text ---- */

/* HELP text escapes only \ and newline; label values also ". */
static void put_escaped(FILE *f, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/*
 * The shortest of %.15g..%.17g that reads back as @v: 17 significant digits
 * always round-trip, but print 0.1 as 0.10000000000000001.
 */
static const char *fmt_double(char *buf, size_t cap, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* {a="x",b="y",le="0.5"}; nothing at all when there are no labels. */
static void put_labels(FILE *f, const struct metrics_labels *labels,
		       const struct metrics_label *extra)
{
	const char *sep = "{";

	for (unsigned i = 0; labels && i < 4 && labels->l[i].name; i++) {
		fprintf(f, "%s%s=\"", sep, labels->l[i].name);
		put_escaped(f, labels->l[i].value ? labels->l[i].value : "", 1);
		fputc('"', f);
		sep = ",";
	}
	if (extra) {
		fprintf(f, "%s%s=\"", sep, extra->name);
		put_escaped(f, extra->value, 1);
		fputc('"', f);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', f);
}

void metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help ? help : "", 0);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void metrics_u64(FILE *f, const char *name, const struct metrics_labels *labels, uint64_t v)
{
	fputs(name, f);
	put_labels(f, labels, NULL);
	fprintf(f, " %" PRIu64 "\n", v);
}

void metrics_double(FILE *f, const char *name, const struct metrics_labels *labels, double v)
{
	char buf[40];

	fputs(name, f);
	put_labels(f, labels, NULL);
	fprintf(f, " %s\n", fmt_double(buf, sizeof(buf), v));
}

/* ---- histograms ---- */

void histogram_init(struct histogram *h, const double *bounds, unsigned n)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < n && h->n_bounds < HISTOGRAM_MAX_BOUNDS; i++) {
		if (!isfinite(bounds[i]) ||
		    (h->n_bounds && bounds[i] <= h->bounds[h->n_bounds - 1]))
			continue;
		h->bounds[h->n_bounds++] = bounds[i];
	}
}

void histogram_observe(struct histogram *h, double v)
{
	unsigned i = 0;

	if (isnan(v))
		return;
	/* A dozen bounds: a linear scan beats a binary search's branches. */
	while (i < h->n_bounds && v > h->bounds[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum += v;
}

void metrics_histogram(FILE *f, const char *name, const struct metrics_labels *labels,
		       const struct histogram *h)
{
	char le[40];
	uint64_t cum = 0;

	for (unsigned i = 0; i <= h->n_bounds; i++) {
		struct metrics_label bound = {
			"le", i < h->n_bounds ? fmt_double(le, sizeof(le), h->bounds[i]) : "+Inf"};

		cum += h->buckets[i];
		fprintf(f, "%s_bucket", name);
		put_labels(f, labels, &bound);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_sum", name);
	put_labels(f, labels, NULL);
	fprintf(f, " %s\n", fmt_double(le, sizeof(le), h->sum));
	fprintf(f, "%s_count", name);
	put_labels(f, labels, NULL);
	fprintf(f, " %" PRIu64 "\n", h->count);
}

/* ---- process_* ---- */

struct proc_stat {
	unsigned long long utime, stime, starttime; /* clock ticks */
	unsigned long long vsize;		    /* bytes */
	long long rss;				    /* pages */
};

/*
 * /proc/self/stat: "pid (comm) state ppid ...". comm may hold spaces and
 * parentheses, so fields are counted from the last ')'. After it come
 * fields 3 (state) onwards: utime is 14, stime 15, starttime 22, vsize 23,
 * rss 24.
 */
static int read_proc_stat(struct proc_stat *ps)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	int got;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	got = sscanf(p + 1,
		     "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s %*s "
		     "%*s %llu %llu %lld",
		     &ps->utime, &ps->stime, &ps->starttime, &ps->vsize, &ps->rss);
	return got == 5 ? 0 : -1;
}

/* The boot time in seconds since the epoch ("btime" in /proc/stat). */
static int read_btime(unsigned long long *out)
{
	char line[256];
	FILE *f = fopen("/proc/stat", "re");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "btime %llu", out) == 1) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Entries of /proc/self/fd, not counting the one reading it. */
static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	const struct dirent *e;
	long n = 0;
	int self;

	if (!d)
		return -1;
	self = dirfd(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != self)
			n++;
	closedir(d);
	return n;
}

void metrics_process(FILE *f)
{
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds = count_fds();
	unsigned long long btime;
	struct proc_stat ps;
	struct rlimit rl;

	if (read_proc_stat(&ps) == 0 && tck > 0) {
		metrics_family(f, "process_cpu_seconds_total", "counter",
			       "Total user and system CPU time spent in seconds.");
		metrics_double(f, "process_cpu_seconds_total", METRICS_NO_LABELS,
			       (double)(ps.utime + ps.stime) / (double)tck);
		metrics_family(f, "process_virtual_memory_bytes", "gauge",
			       "Virtual memory size in bytes.");
		metrics_u64(f, "process_virtual_memory_bytes", METRICS_NO_LABELS, ps.vsize);
		if (page > 0 && ps.rss >= 0) {
			metrics_family(f, "process_resident_memory_bytes", "gauge",
				       "Resident memory size in bytes.");
			metrics_u64(f, "process_resident_memory_bytes", METRICS_NO_LABELS,
				    (uint64_t)ps.rss * (uint64_t)page);
		}
		if (read_btime(&btime) == 0) {
			metrics_family(f, "process_start_time_seconds", "gauge",
				       "Start time of the process since unix epoch in seconds.");
			metrics_double(f, "process_start_time_seconds", METRICS_NO_LABELS,
				       (double)btime + (double)ps.starttime / (double)tck);
		}
	}
	if (fds >= 0) {
		metrics_family(f, "process_open_fds", "gauge", "Number of open file descriptors.");
		metrics_u64(f, "process_open_fds", METRICS_NO_LABELS, (uint64_t)fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_family(f, "process_max_fds", "gauge",
			       "Maximum number of open file descriptors.");
		metrics_u64(f, "process_max_fds", METRICS_NO_LABELS, (uint64_t)rl.rlim_cur);
	}
}
