/* SPDX-License-Identifier: Apache-2.0 */
#include "probe.h"

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfoff.h"
#include "cpulist.h"
#include "kheaders.h"
#include "log.h"

extern const char sentinel_probe_text[];

#define MAX_PROGS 24
#define LOAD_LOG_SIZE (1 << 20)

struct prog_spec {
	const char *fn;	  /* function name bcc gives the probe */
	int type;	  /* BPF_PROG_TYPE_* */
	const char *cat;  /* tracepoint category, NULL for raw */
	const char *name; /* tracepoint name; NULL: tail-called, not attached */
	bool uring;	  /* built only where BTF gives io_uring's layouts (SE_URING) */
	int tail;	  /* a tail-called program's slot (enum se_tail); -1 */
	/* Attached if it can be: what goes unseen otherwise (said loudly);
	 * NULL: the agent cannot run without it. */
	const char *unseen;
};

#define RAW BPF_PROG_TYPE_RAW_TRACEPOINT
static const struct prog_spec progs[] = {
	{.fn = "raw_tracepoint__sys_enter", .type = RAW, .name = "sys_enter", .tail = -1},
	{.fn = "raw_tracepoint__sys_exit", .type = RAW, .name = "sys_exit", .tail = -1},
	{.fn = "raw_tracepoint__cgroup_mkdir", .type = RAW, .name = "cgroup_mkdir", .tail = -1},
	{.fn = "raw_tracepoint__cgroup_rename", .type = RAW, .name = "cgroup_rename", .tail = -1},
	/* 5.17+ (writeback_dirty_page before) */
	{.fn = "raw_tracepoint__writeback_dirty_folio",
	 .type = RAW,
	 .name = "writeback_dirty_folio",
	 .tail = -1,
	 .unseen = "stores through shared mappings"},
	{.fn = "move_src", .type = RAW, .tail = SE_TAIL_MOVE_SRC},
	{.fn = "move_dst", .type = RAW, .tail = SE_TAIL_MOVE_DST},
	{.fn = "aio_iocb", .type = RAW, .tail = SE_TAIL_AIO},
	{.fn = "change_enter", .type = RAW, .tail = SE_TAIL_CHANGE},
	{.fn = "trunc_open", .type = RAW, .tail = SE_TAIL_TRUNC_OPEN},
	{.fn = "name_old", .type = RAW, .tail = SE_TAIL_NAME_OLD},
	{.fn = "name_new", .type = RAW, .tail = SE_TAIL_NAME_NEW},
	{.fn = "name_send", .type = RAW, .tail = SE_TAIL_NAME_SEND},
	{.fn = "raw_tracepoint__io_uring_submit_req",
	 .type = RAW,
	 .name = "io_uring_submit_req",
	 .uring = true,
	 .tail = -1},
	{.fn = "raw_tracepoint__io_uring_file_get",
	 .type = RAW,
	 .name = "io_uring_file_get",
	 .uring = true,
	 .tail = -1},
	{.fn = "raw_tracepoint__io_uring_complete",
	 .type = RAW,
	 .name = "io_uring_complete",
	 .uring = true,
	 .tail = -1},
	{.fn = "uring_in", .type = RAW, .uring = true, .tail = SE_TAIL_URING_IN},
};
#undef RAW

#define N_PROGS (sizeof(progs) / sizeof(progs[0]))
_Static_assert(N_PROGS <= MAX_PROGS, "MAX_PROGS");

/* The one home of the syscall names (data.syscall), by enum se_syscall. */
static const char *const syscall_names[SE_SC_MAX] = {
	[SE_SC_NONE] = "unknown",	 [SE_SC_READ] = "read",
	[SE_SC_WRITE] = "write",	 [SE_SC_PREAD64] = "pread64",
	[SE_SC_PWRITE64] = "pwrite64",	 [SE_SC_READV] = "readv",
	[SE_SC_WRITEV] = "writev",	 [SE_SC_PREADV] = "preadv",
	[SE_SC_PWRITEV] = "pwritev",	 [SE_SC_PREADV2] = "preadv2",
	[SE_SC_PWRITEV2] = "pwritev2",	 [SE_SC_SENDFILE] = "sendfile",
	[SE_SC_SPLICE] = "splice",	 [SE_SC_COPY_FILE_RANGE] = "copy_file_range",
	[SE_SC_IO_URING] = "io_uring",	 [SE_SC_AIO] = "aio",
	[SE_SC_OPEN] = "open",		 [SE_SC_OPENAT] = "openat",
	[SE_SC_OPENAT2] = "openat2",	 [SE_SC_CREAT] = "creat",
	[SE_SC_FTRUNCATE] = "ftruncate", [SE_SC_FALLOCATE] = "fallocate",
	[SE_SC_MMAP] = "mmap",		 [SE_SC_MAPPED_STORE] = "mapped_store",
	[SE_SC_FICLONE] = "ficlone",	 [SE_SC_FICLONERANGE] = "ficlonerange",
	[SE_SC_RENAME] = "rename",	 [SE_SC_RENAMEAT] = "renameat",
	[SE_SC_RENAMEAT2] = "renameat2", [SE_SC_LINK] = "link",
	[SE_SC_LINKAT] = "linkat",	 [SE_SC_TRUNCATE] = "truncate",
	[SE_SC_OLD_MMAP] = "old_mmap",	 [SE_SC_MPROTECT] = "mprotect",
};

const char *probe_syscall_name(unsigned sc)
{
	return sc < SE_SC_MAX && syscall_names[sc] ? syscall_names[sc] : "unknown";
}

/* Perf transport: records of one drain, merged by timestamp before use. */
struct perf_rec {
	size_t off;
	size_t size;
};

struct perf_batch {
	char *buf;
	size_t len, cap;
	struct perf_rec *recs;
	size_t n, ncap;
	int oom;
};

struct probe {
	void *mod;
	int transport;
	int prog_fd[MAX_PROGS]; /* by progs[] index; -1: not loaded */
	int link_fd[MAX_PROGS];
	unsigned nprogs; /* loaded */
	int config_fd, files_fd, verdicts_fd, comms_fd, counters_fd, rl_fd, epoch_fd;
	struct probe_rate_limit rl;
	uint64_t rl_cost_ns, rl_tau_ns; /* se_config's, from rl */
	uint32_t host_mntns;		/* se_config's, see host_mntns() */
	int ncpus_possible;
	probe_record_fn cb;
	void *cb_ctx;
	/* ring buffer */
	struct ring_buffer *rb;
	/* perf buffer */
	struct perf_reader **readers;
	int nreaders;
	uint64_t perf_lost;
	struct perf_batch batch;
};

/* A throw-away map of @type: 0, or -errno. */
static int try_map(enum bpf_map_type type, int key, int value, int entries)
{
	int fd;

	errno = 0;
	fd = bcc_create_map(type, "se_probe_check", key, value, entries, 0);
	if (fd < 0)
		return errno ? -errno : fd;
	close(fd);
	return 0;
}

/*
 * Before compiling: can this process use BPF at all, and does the kernel
 * have a ring buffer? A plain array map is the cheapest question. Without
 * it, an EPERM would surface later as "no ring buffer" and then as a map
 * creation failure deep inside libbcc, which names neither the cause nor
 * the fix. Returns 1 (ring buffer), 0 (perf buffers only) or -errno.
 */
static int bpf_access(void)
{
	int err = try_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);

	if (err == -EPERM || err == -EACCES) {
		log_error("BPF is not permitted to this process",
			  "errno=%d error=\"%s\" "
			  "hint=\"needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): run as root, "
			  "or in a container privileged or with those capabilities\"",
			  -err, strerror(-err));
		return err;
	}
	if (err) {
		log_error("creating a BPF map failed", "errno=%d error=\"%s\"", -err,
			  strerror(-err));
		return err;
	}
	return try_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096) == 0;
}

static int table_fd(struct probe *p, const char *name)
{
	int fd = bpf_table_fd(p->mod, name);

	if (fd < 0)
		log_error("BPF map missing from the probe", "map=%s", name);
	return fd;
}

/*
 * Without BTF: the offsets the compiler takes from the headers libbcc
 * compiles against, if they are the running kernel's (@kh, from
 * kheaders_report). Headers of another kernel would give wrong layouts,
 * and names that look right and are not: refused, unless
 * SENTINEL_HEADERS_ANY_VERSION=1 (for tests of this mode on a node whose
 * kernel has BTF; never in production), then loudly. struct mount is in no
 * headers package, so paths stop at their mount's root (flagged
 * truncated: they match every rule).
 */
static int header_offsets(const struct kheaders_info *kh, const char *why, struct btfoff **out)
{
	const char *any = getenv("SENTINEL_HEADERS_ANY_VERSION");
	bool same = kh->kind != KHEADERS_NONE && kh->version[0] &&
		    strcmp(kh->version, kh->running) == 0;
	size_t n;
	const struct btfoff_want *want = btfoff_probe_wants(&n);
	struct btfoff *b;
	char err[256];

	if (!same && !(any && strcmp(any, "1") == 0)) {
		log_error("no BTF for the running kernel, and no headers of it: the probe cannot "
			  "name files",
			  "btf_error=\"%s\" headers=%s running=%s hint=\"a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF (every major distribution since 2020) provides "
			  "/sys/kernel/btf/vmlinux; else install the running kernel's headers "
			  "(linux-headers-%s)\"",
			  why, kh->version[0] ? kh->version : "none", kh->running, kh->running);
		return -ENOENT;
	}
	b = btfoff_for_headers();
	if (!b || btfoff_resolve(b, want, n, err, sizeof(err)) != 0) {
		btfoff_free(b);
		return -ENOMEM;
	}
	if (same)
		log_warn("struct offsets from the kernel headers (no BTF): paths are named only "
			 "within their mount, flagged truncated",
			 "headers=%s btf_error=\"%s\"", kh->version, why);
	else
		log_warn("struct offsets from the headers of ANOTHER kernel "
			 "(SENTINEL_HEADERS_ANY_VERSION=1): names are unreliable, a test mode only",
			 "headers=%s running=%s", kh->version[0] ? kh->version : "unknown",
			 kh->running);
	*out = b;
	return 0;
}

/*
 * The running kernel's struct offsets, as -D flags for the compile (owned by
 * *@out, freed with btfoff_free). The headers libbcc compiles against may
 * be another kernel's (here: 6.1 headers, a 6.18 kernel), and struct mount
 * is in no headers package at all: BTF first, headers only without it.
 */
static int offsets(const struct probe_opts *o, const struct kheaders_info *kh, struct btfoff **out)
{
	const char *path = o->btf_path ? o->btf_path : BTFOFF_VMLINUX;
	char err[1024];
	size_t n;
	const struct btfoff_want *want = btfoff_probe_wants(&n);
	struct btfoff *b = btfoff_load(path, err, sizeof(err));

	if (!b)
		return header_offsets(kh, err, out);
	if (btfoff_resolve(b, want, n, err, sizeof(err)) != 0) {
		log_error("the kernel's BTF lacks struct members the probe reads",
			  "btf=%s error=\"%s\"", path, err);
		btfoff_free(b);
		return -ENOENT;
	}
	log_info("struct offsets from BTF", "btf=%s members=%zu", path, n);
	*out = b;
	return 0;
}

/*
 * -DSE_CGROUP_SUBSYS (the v1 controller's slot in css_set.subsys, -1 for
 * the unified hierarchy) and -DSE_CGROUP_HIER into @subsys and @hier.
 * A controller this kernel's BTF does not know (built without it) leaves
 * the unified hierarchy's ids: containers are then named from /proc.
 */
static void cgroup_flags(const struct probe_opts *o, const struct btfoff *b, char *subsys,
			 size_t scap, char *hier, size_t hcap)
{
	long long slot = -1;

	if (o->cgroup_subsys && btfoff_is_headers(b)) {
		/* The enum's value is the compiler's, from the headers. */
		snprintf(subsys, scap, "-DSE_CGROUP_SUBSYS=%s", o->cgroup_subsys);
		snprintf(hier, hcap, "-DSE_CGROUP_HIER=%d", o->cgroup_hierarchy);
		return;
	}
	if (o->cgroup_subsys &&
	    btfoff_enum_value(b, "cgroup_subsys_id", o->cgroup_subsys, &slot) != 0) {
		log_warn("the kernel's BTF has no such cgroup controller: records carry unified "
			 "cgroup ids, containers are named from /proc",
			 "enum=%s", o->cgroup_subsys);
		slot = -1;
	}
	snprintf(subsys, scap, "-DSE_CGROUP_SUBSYS=%lld", slot);
	snprintf(hier, hcap, "-DSE_CGROUP_HIER=%d", slot < 0 ? 0 : o->cgroup_hierarchy);
}

/*
 * -DSE_URING_COMPLETE_ARGS: how many arguments io_uring_complete passes
 * (its signature changed between 6.1 and 6.18), 0 when BTF does not say;
 * the probe builds its io_uring programs only for a form it knows.
 */
static void uring_flags(const struct btfoff *b, char *out, size_t cap)
{
	int n = btfoff_tp_args(b, "io_uring_complete");

	snprintf(out, cap, "-DSE_URING_COMPLETE_ARGS=%d", n > 0 ? n : 0);
}

static int compile(struct probe *p, const struct probe_opts *o, const struct kheaders_info *kh)
{
	char d_rb[32], d_pages[48], d_files[48], d_subsys[48], d_hier[48], d_uring[48];
	const char *base[] = {d_rb, d_pages, d_files, d_subsys, d_hier, d_uring};
	const size_t n_base = sizeof(base) / sizeof(base[0]);
	const char *const *offs;
	const char **cflags;
	struct btfoff *b = NULL;
	size_t n_offs, n = 0;
	unsigned pages = o->ringbuf_kib / 4; /* 4 KiB pages */
	int saved, err;

	err = offsets(o, kh, &b);
	if (err)
		return err;
	offs = btfoff_cflags(b, &n_offs);
	cflags = calloc(n_base + n_offs, sizeof(*cflags));
	if (!cflags) {
		btfoff_free(b);
		return -ENOMEM;
	}
	snprintf(d_rb, sizeof(d_rb), "-DSE_RINGBUF=%d", p->transport == PROBE_RINGBUF);
	snprintf(d_pages, sizeof(d_pages), "-DSE_RINGBUF_PAGES=%u", pages ? pages : 1);
	snprintf(d_files, sizeof(d_files), "-DSE_FILE_ENTRIES=%u", o->file_entries);
	cgroup_flags(o, b, d_subsys, sizeof(d_subsys), d_hier, sizeof(d_hier));
	uring_flags(b, d_uring, sizeof(d_uring));
	for (size_t i = 0; i < n_base; i++)
		cflags[n++] = base[i];
	for (size_t i = 0; i < n_offs; i++)
		cflags[n++] = offs[i];
	/* libbcc prints some complaints (no kernel headers, modprobe) on
	 * stdout, which in stdout mode is the event stream: send them to
	 * stderr for the compile. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	p->mod =
		bpf_module_create_c_from_string(sentinel_probe_text, 0, cflags, (int)n, true, NULL);
	if (saved >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	free(cflags);
	btfoff_free(b);
	if (!p->mod) {
		log_error("compiling the BPF probe failed",
			  "hint=\"kernel headers are needed at /lib/modules/$(uname -r)/build; "
			  "run scripts/setup.sh or mount the node's /lib/modules and /usr/src\"");
		return -ENOEXEC;
	}
	return 0;
}

static int load_prog(struct probe *p, const struct prog_spec *s, int *out)
{
	void *start = bpf_function_start(p->mod, s->fn);
	size_t size = bpf_function_size(p->mod, s->fn);
	bool too_complex = false;
	char *vlog;
	int fd;

	if (!start) {
		log_error("BPF function missing from the probe", "function=%s", s->fn);
		return -ENOENT;
	}
	fd = bcc_func_load(p->mod, s->type, s->fn, start, (int)size, bpf_module_license(p->mod),
			   bpf_module_kern_version(p->mod), 0, NULL, 0, NULL, -1);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	/* Load again with the verifier log so the error says why. */
	vlog = malloc(LOAD_LOG_SIZE);
	if (vlog) {
		vlog[0] = '\0';
		bcc_func_load(p->mod, s->type, s->fn, start, (int)size, bpf_module_license(p->mod),
			      bpf_module_kern_version(p->mod), 1, vlog, LOAD_LOG_SIZE, NULL, -1);
		fprintf(stderr, "%s\n", vlog);
		/* "processed N insns (limit 1000000)" ends every log: not the cause */
		too_complex = strstr(vlog, "is too large") || strstr(vlog, "too complex");
		free(vlog);
	}
	log_error(
		"loading BPF program failed", "function=%s errno=%d hint=\"%s\"", s->fn, -fd,
		too_complex ? "the verifier's 1M-instruction limit: the path walk explored for "
			      "this kernel's layouts is too long (see the log above)"
		: -fd == EPERM
			? "needs CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN); run as root or privileged"
			: "see the verifier log above");
	return fd;
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;

	if (size >= sizeof(struct se_record))
		p->cb(p->cb_ctx, data, size);
	return 0;
}

static void perf_raw_cb(void *ctx, void *data, int size)
{
	struct probe *p = ctx;
	struct perf_batch *b = &p->batch;

	if (size < (int)sizeof(struct se_record) || b->oom)
		return;
	if (b->len + (size_t)size > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 20;
		char *n;

		while (cap < b->len + (size_t)size)
			cap *= 2;
		n = realloc(b->buf, cap);
		if (!n) {
			b->oom = 1;
			return;
		}
		b->buf = n;
		b->cap = cap;
	}
	if (b->n == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : 4096;
		struct perf_rec *n = realloc(b->recs, ncap * sizeof(*n));

		if (!n) {
			b->oom = 1;
			return;
		}
		b->recs = n;
		b->ncap = ncap;
	}
	memcpy(b->buf + b->len, data, (size_t)size);
	b->recs[b->n].off = b->len;
	b->recs[b->n++].size = (size_t)size;
	/* keep records 8-byte aligned for the u64 fields */
	b->len += ((size_t)size + 7) & ~(size_t)7;
}

static void perf_lost_cb(void *ctx, uint64_t lost)
{
	struct probe *p = ctx;

	p->perf_lost += lost;
}

static int open_ringbuf(struct probe *p)
{
	int fd = table_fd(p, "events");

	if (fd < 0)
		return -ENOENT;
	p->rb = bpf_new_ringbuf(fd, ringbuf_cb, p);
	if (!p->rb) {
		log_error("opening the BPF ring buffer failed", "errno=%d", errno);
		return -errno ? -errno : -EINVAL;
	}
	return 0;
}

static int open_perf(struct probe *p, const struct probe_opts *o)
{
	int ids[1024];
	int n = cpulist_read("/sys/devices/system/cpu/online", ids, 1024);
	int map_fd = table_fd(p, "events");

	if (n <= 0 || map_fd < 0)
		return -EINVAL;
	p->readers = calloc((size_t)n, sizeof(*p->readers));
	if (!p->readers)
		return -ENOMEM;
	for (int i = 0; i < n && i < 1024; i++) {
		/* Wake the reader only when a quarter of the buffer is used:
		 * the timer drains the rest. */
		struct bcc_perf_buffer_opts po = {
			.pid = -1,
			.cpu = ids[i],
			.wakeup_events = (int)(o->perf_pages * 4096 / 4 / sizeof(struct se_record)),
		};
		struct perf_reader *r = bpf_open_perf_buffer_opts(perf_raw_cb, perf_lost_cb, p,
								  (int)o->perf_pages, &po);
		int fd;

		if (!r) {
			log_error("opening a perf buffer failed", "cpu=%d errno=%d", ids[i], errno);
			return -EINVAL;
		}
		p->readers[p->nreaders++] = r;
		fd = perf_reader_fd(r);
		if (bpf_update_elem(map_fd, &ids[i], &fd, 0) != 0) {
			log_error("registering a perf buffer failed", "cpu=%d errno=%d", ids[i],
				  errno);
			return -errno;
		}
	}
	return 0;
}

/* The divisions the probe must not do, done once here. */
static void set_rate_limit(struct probe *p, const struct probe_rate_limit *rl)
{
	uint64_t burst = rl->burst ? rl->burst : rl->events_per_s;

	p->rl = *rl;
	p->rl_cost_ns = p->rl_tau_ns = 0;
	if (!rl->events_per_s)
		return;
	/* Rounded down: a rate that does not divide 1e9 gets slightly more
	 * than asked (3/s: 3.000000003/s), never a zero cost. */
	p->rl_cost_ns =
		1000000000ull / (rl->events_per_s > 1000000000u ? 1000000000u : rl->events_per_s);
	p->rl_tau_ns = (burst - 1) * p->rl_cost_ns;
}

/*
 * libbcc builds a tracepoint program's argument struct from the format file
 * in tracefs, while compiling: without tracefs the compile would fail with
 * an error that names neither. Ask first, and say what to mount.
 */
static int tracepoints_present(void)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[256];

	for (unsigned i = 0; i < N_PROGS; i++) {
		const struct prog_spec *s = &progs[i];
		bool found = false;

		if (!s->cat)
			continue; /* raw tracepoints need no tracefs */
		for (unsigned r = 0; r < 2 && !found; r++) {
			snprintf(path, sizeof(path), "%s/events/%s/%s/format", roots[r], s->cat,
				 s->name);
			found = access(path, R_OK) == 0;
		}
		if (!found) {
			log_error("tracepoint not found in tracefs",
				  "tracepoint=%s:%s hint=\"is tracefs mounted at "
				  "/sys/kernel/tracing? "
				  "(scripts/setup.sh)\"",
				  s->cat, s->name);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * The host's mount namespace, for the path walk's second name (a file
 * written through a bind mount is named where its filesystem is mounted in
 * it): init's, /proc/1/ns/mnt, which is the host's when the agent sees the
 * host's processes (hostPID). Where init's cannot be read (a sandbox that
 * hides pid 1, EACCES) the agent's own: right when it runs on the host, as
 * it then does. 0 when neither can be read: bind-mounted files are then
 * named at an origin in their own namespace only, if any.
 */
static uint32_t host_mntns(void)
{
	static const char *const paths[] = {"/proc/1/ns/mnt", "/proc/self/ns/mnt"};
	struct stat st;
	int err = 0;

	for (unsigned i = 0; i < 2; i++) {
		if (stat(paths[i], &st) == 0) {
			log_info("host mount namespace", "inum=%llu from=%s",
				 (unsigned long long)st.st_ino, paths[i]);
			return (uint32_t)st.st_ino;
		}
		err = errno;
		if (i == 0)
			log_info("init's mount namespace cannot be read: taking the agent's as "
				 "the host's",
				 "path=%s error=\"%s\"", paths[i], strerror(err));
	}
	log_warn("no mount namespace readable: files written through bind mounts are "
		 "named at an origin in their own namespace only",
		 "error=\"%s\"", strerror(err));
	return 0;
}

/*
 * Every program of the table into p->prog_fd. The io_uring ones exist only
 * where the probe could be built with them (SE_URING: BTF gives the
 * request's layout and io_uring_complete's form); else requests made
 * through io_uring go unseen, and the log says so once.
 */
static int load_progs(struct probe *p)
{
	bool uring = true;

	for (unsigned i = 0; i < N_PROGS; i++) {
		int err;

		if (progs[i].uring && !bpf_function_start(p->mod, progs[i].fn)) {
			uring = false;
			continue;
		}
		err = load_prog(p, &progs[i], &p->prog_fd[i]);
		if (err)
			return err;
		p->nprogs++;
	}
	if (!uring)
		log_warn("io_uring requests are NOT seen: this kernel's BTF lacks the layout of "
			 "its requests (or there is no BTF, or no io_uring)",
			 "hint=\"reads and writes made through io_uring go unreported\"");
	return 0;
}

/* The programs sys_enter and sys_exit tail-call, into their slots of the
 * movers array, before attaching: until then their calls would go
 * unreported. */
static int tail_targets(struct probe *p)
{
	int fd = table_fd(p, "movers");

	for (unsigned i = 0; i < N_PROGS; i++) {
		int key = progs[i].tail;

		if (key < 0 || (progs[i].uring && p->prog_fd[i] < 0))
			continue; /* no io_uring programs: none calls it */
		if (fd < 0 || bpf_update_elem(fd, &key, &p->prog_fd[i], BPF_ANY) != 0) {
			log_error("a tail-called program cannot be put in its array",
				  "function=%s slot=%d errno=%d", progs[i].fn, key, errno);
			return -EIO;
		}
	}
	return 0;
}

int probe_open(struct probe **out, const struct probe_opts *o, probe_record_fn cb, void *ctx)
{
	struct probe *p = calloc(1, sizeof(*p));
	struct kheaders_info kh;
	int err, headers;

	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->cb_ctx = ctx;
	set_rate_limit(p, &o->rate_limit);
	p->host_mntns = host_mntns();
	for (unsigned i = 0; i < MAX_PROGS; i++)
		p->prog_fd[i] = p->link_fd[i] = -1;
	p->ncpus_possible = cpulist_read("/sys/devices/system/cpu/possible", NULL, 0);
	if (p->ncpus_possible <= 0) {
		err = -EINVAL;
		goto fail;
	}

	err = bpf_access();
	if (err < 0)
		goto fail;
	p->transport = o->transport ? o->transport : (err ? PROBE_RINGBUF : PROBE_PERF);
	if (p->transport == PROBE_RINGBUF && !o->transport) {
		log_debug("BPF ring buffer available");
	} else if (p->transport == PROBE_PERF && !o->transport) {
		log_warn("kernel has no BPF ring buffer (needs 5.8+): using perf buffers");
	}
	err = tracepoints_present();
	if (err)
		goto fail;
	/* Name the headers libbcc will use (or say what to mount) first. */
	headers = kheaders_report(&kh);
	err = compile(p, o, &kh);
	if (err) {
		if (headers != 0)
			kheaders_report_compile_failure(&kh);
		goto fail;
	}
	err = load_progs(p);
	if (err)
		goto fail;
	err = tail_targets(p);
	if (err)
		goto fail;
	p->config_fd = table_fd(p, "config");
	p->files_fd = table_fd(p, "files");
	p->epoch_fd = table_fd(p, "epoch");
	p->verdicts_fd = table_fd(p, "verdicts");
	p->comms_fd = table_fd(p, "comm_masks");
	p->counters_fd = table_fd(p, "counters");
	p->rl_fd = table_fd(p, "rl_suppressed");
	if (p->config_fd < 0 || p->files_fd < 0 || p->epoch_fd < 0 || p->verdicts_fd < 0 ||
	    p->comms_fd < 0 || p->counters_fd < 0 || p->rl_fd < 0) {
		err = -ENOENT;
		goto fail;
	}
	err = p->transport == PROBE_RINGBUF ? open_ringbuf(p) : open_perf(p, o);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	probe_close(p);
	return err;
}

int probe_set_filter(struct probe *p, const struct se_config *cfg, const struct se_comm_key *comms,
		     const uint64_t *comm_masks, size_t n_comms)
{
	struct se_config c = *cfg;
	int zero = 0;
	struct se_comm_key key, next;
	int more;

	/* Comms first: the config's masks refer to them. Stale comms that no
	 * rule lists any more are removed after. */
	for (size_t i = 0; i < n_comms; i++) {
		if (bpf_update_elem(p->comms_fd, (void *)&comms[i], (void *)&comm_masks[i], 0) !=
		    0) {
			log_error("updating comm filter failed", "errno=%d", errno);
			return -errno;
		}
	}
	more = bpf_get_first_key(p->comms_fd, &key, sizeof(key)) == 0;
	while (more) {
		size_t i;

		more = bpf_get_next_key(p->comms_fd, &key, &next) == 0;
		for (i = 0; i < n_comms; i++)
			if (memcmp(&comms[i], &key, sizeof(key)) == 0)
				break;
		if (i == n_comms)
			bpf_delete_elem(p->comms_fd, &key);
		key = next;
	}
	c.rl_cost_ns = p->rl_cost_ns;
	c.rl_tau_ns = p->rl_tau_ns;
	c.host_mntns = p->host_mntns;
	if (bpf_update_elem(p->config_fd, &zero, &c, 0) != 0) {
		log_error("updating probe config failed", "errno=%d", errno);
		return -errno;
	}
	return 0;
}

/* Attaches progs[i]: 0, or a negative error. */
static int attach_one(struct probe *p, unsigned i)
{
	const struct prog_spec *s = &progs[i];
	int fd = s->cat ? bpf_attach_tracepoint(p->prog_fd[i], s->cat, s->name)
			: bpf_attach_raw_tracepoint(p->prog_fd[i], s->name);

	if (fd < 0)
		return fd;
	p->link_fd[i] = fd;
	return 0;
}

/*
 * The io_uring programs, all or none: one attached without the others
 * would keep requests it never sees end. A kernel whose tracepoints do not
 * take what BTF said (a BTF file of another kernel) leaves io_uring unseen,
 * said loudly; the rest of the probe still runs.
 */
static void attach_uring(struct probe *p)
{
	for (unsigned i = 0; i < N_PROGS; i++) {
		int err;

		if (!progs[i].uring || !progs[i].name || p->prog_fd[i] < 0)
			continue;
		err = attach_one(p, i);
		if (!err)
			continue;
		log_warn("io_uring requests are NOT seen: attaching failed",
			 "raw_tracepoint=%s errno=%d", progs[i].name, errno);
		for (unsigned j = 0; j < N_PROGS; j++) {
			if (progs[j].uring && p->link_fd[j] >= 0) {
				close(p->link_fd[j]);
				p->link_fd[j] = -1;
			}
		}
		return;
	}
	log_info("io_uring requests are followed",
		 "tracepoints=io_uring_submit_req,io_uring_file_get,io_uring_complete");
}

int probe_attach(struct probe *p)
{
	for (unsigned i = 0; i < N_PROGS; i++) {
		const struct prog_spec *s = &progs[i];
		int err;

		if (!s->name || s->uring || p->prog_fd[i] < 0)
			continue; /* tail-call target, io_uring (below), or not built */
		err = attach_one(p, i);
		if (err && s->unseen) {
			log_warn("a tracepoint cannot be attached: what it reports is NOT seen",
				 "raw_tracepoint=%s errno=%d unseen=\"%s\"", s->name, errno,
				 s->unseen);
			continue;
		}
		if (err) {
			log_error("attaching to tracepoint failed",
				  "tracepoint=%s:%s errno=%d hint=%s", s->cat ? s->cat : "raw",
				  s->name, errno,
				  "\"is tracefs mounted at /sys/kernel/tracing? "
				  "(scripts/setup.sh)\"");
			return err;
		}
	}
	attach_uring(p);
	return 0;
}

static int cmp_ts(const void *a, const void *b, void *ctx)
{
	const char *buf = ctx;
	const struct se_record *ra = (const void *)(buf + ((const struct perf_rec *)a)->off);
	const struct se_record *rb = (const void *)(buf + ((const struct perf_rec *)b)->off);

	return (ra->ts_ns > rb->ts_ns) - (ra->ts_ns < rb->ts_ns);
}

static int drain_perf(struct probe *p, int timeout_ms)
{
	struct perf_batch *b = &p->batch;
	size_t n;

	perf_reader_poll(p->nreaders, p->readers, timeout_ms);
	/* poll() only drains buffers that signalled; with wake-ups rare,
	 * consume every buffer explicitly. */
	perf_reader_consume(p->nreaders, p->readers);
	if (b->oom) {
		log_error("out of memory buffering perf records; some were lost");
		b->oom = 0;
	}
	/* Per-CPU buffers lose the order between CPUs; an open must be seen
	 * before the write that uses its fd. */
	if (b->n == 0)
		return 0;
	qsort_r(b->recs, b->n, sizeof(*b->recs), cmp_ts, b->buf);
	for (size_t i = 0; i < b->n; i++)
		p->cb(p->cb_ctx, (const void *)(b->buf + b->recs[i].off), b->recs[i].size);
	n = b->n;
	b->n = 0;
	b->len = 0;
	return (int)n;
}

int probe_drain(struct probe *p, int timeout_ms)
{
	int n;

	if (p->transport == PROBE_PERF)
		return drain_perf(p, timeout_ms);
	/* Records come without wake-ups, so the poll usually times out;
	 * then consume everything that is there. */
	n = bpf_poll_ringbuf(p->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	n = bpf_consume_ringbuf(p->rb);
	return n;
}

int probe_post_verdict(struct probe *p, uint64_t seq, uint64_t mask, uint32_t gen)
{
	struct se_verdict v = {.mask = mask, .gen = gen};

	if (bpf_update_elem(p->verdicts_fd, &seq, &v, 0) != 0)
		return -errno;
	return 0;
}

int probe_forget_file(struct probe *p, uint64_t file)
{
	int zero = 0, err = 0;
	uint32_t ep;

	if (bpf_delete_elem(p->files_fd, &file) != 0 && errno != ENOENT)
		err = -errno;
	/* Each CPU may hold the file's verdict in its last_file cache: a new
	 * epoch makes every cached state stale (the kernel's own bumps race
	 * with this one harmlessly: any change invalidates). */
	if (bpf_lookup_elem(p->epoch_fd, &zero, &ep) == 0) {
		ep++;
		if (bpf_update_elem(p->epoch_fd, &zero, &ep, 0) != 0)
			err = -errno;
	}
	return err;
}

static int read_counter(struct probe *p, int idx, uint64_t *out)
{
	uint64_t vals[p->ncpus_possible];

	*out = 0;
	/* per-CPU lookups return one value per possible CPU */
	if (bpf_lookup_elem(p->counters_fd, &idx, vals) != 0)
		return -errno;
	for (int c = 0; c < p->ncpus_possible; c++)
		*out += vals[c];
	return 0;
}

int probe_read_counters(struct probe *p, uint64_t out[SE_CTR_MAX])
{
	for (int i = 0; i < SE_CTR_MAX; i++) {
		int err = read_counter(p, i, &out[i]);

		if (err)
			return err;
	}
	return 0;
}

const struct probe_loss_class probe_loss_classes[] = {
	{SE_CTR_DROP_READ_MATCHED, "buffer_full", EV_FILE_READ, "matched", "dropped_read_matched"},
	{SE_CTR_DROP_READ_PENDING, "buffer_full", EV_FILE_READ, "pending", "dropped_read_pending"},
	{SE_CTR_DROP_WRITE_MATCHED, "buffer_full", EV_FILE_WRITE, "matched",
	 "dropped_write_matched"},
	{SE_CTR_DROP_WRITE_PENDING, "buffer_full", EV_FILE_WRITE, "pending",
	 "dropped_write_pending"},
	{SE_CTR_DROP_TRUNCATE_MATCHED, "buffer_full", EV_FILE_TRUNCATE, "matched",
	 "dropped_truncate_matched"},
	{SE_CTR_DROP_TRUNCATE_PENDING, "buffer_full", EV_FILE_TRUNCATE, "pending",
	 "dropped_truncate_pending"},
	{SE_CTR_DROP_MMAP_MATCHED, "buffer_full", EV_FILE_MMAP, "matched", "dropped_mmap_matched"},
	{SE_CTR_DROP_MMAP_PENDING, "buffer_full", EV_FILE_MMAP, "pending", "dropped_mmap_pending"},
	/* Renames and links are always pending (user space resolves their
	 * names): their MATCHED counters stay 0 and are not listed. */
	{SE_CTR_DROP_RENAME_PENDING, "buffer_full", EV_FILE_RENAME, "pending",
	 "dropped_rename_pending"},
	{SE_CTR_DROP_LINK_PENDING, "buffer_full", EV_FILE_LINK, "pending", "dropped_link_pending"},
	{SE_CTR_DROP_INTERNAL, "buffer_full", EV_INTERNAL, "none", "dropped_internal"},
	{SE_CTR_RATE_LIMITED_READ, "rate_limited", EV_FILE_READ, "matched", "rate_limited_read"},
	{SE_CTR_RATE_LIMITED_WRITE, "rate_limited", EV_FILE_WRITE, "matched", "rate_limited_write"},
	{SE_CTR_RATE_LIMITED_TRUNCATE, "rate_limited", EV_FILE_TRUNCATE, "matched",
	 "rate_limited_truncate"},
	{SE_CTR_RATE_LIMITED_MMAP, "rate_limited", EV_FILE_MMAP, "matched", "rate_limited_mmap"},
	{SE_CTR_RATE_LIMITED_RENAME, "rate_limited", EV_FILE_RENAME, "pending",
	 "rate_limited_rename"},
	{SE_CTR_RATE_LIMITED_LINK, "rate_limited", EV_FILE_LINK, "pending", "rate_limited_link"},
	/* iocbs of an io_submit past those its entry decided (the tail-call
	 * budget): reads, writes or neither, of files watched or not */
	{SE_CTR_AIO_UNINSPECTED, "uninspected", EV_INTERNAL, "none", "aio_uninspected"},
};
const unsigned probe_n_loss_classes = sizeof(probe_loss_classes) / sizeof(probe_loss_classes[0]);

static uint64_t loss_sum(const uint64_t k[SE_CTR_MAX], const char *reason)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < probe_n_loss_classes; i++)
		if (strcmp(probe_loss_classes[i].reason, reason) == 0)
			n += k[probe_loss_classes[i].ctr];
	return n;
}

uint64_t probe_buffer_drops(const uint64_t k[SE_CTR_MAX])
{
	return loss_sum(k, "buffer_full");
}

uint64_t probe_rate_limited(const uint64_t k[SE_CTR_MAX])
{
	return loss_sum(k, "rate_limited");
}

const struct probe_rate_limit *probe_rate_limit(const struct probe *p)
{
	return &p->rl;
}

static void rl_entry(struct probe_rl_entry *e, uint32_t tgid, const struct se_rl_stat *v)
{
	e->tgid = tgid;
	e->suppressed = v->suppressed;
	memcpy(e->comm, v->comm, SE_COMM_LEN);
	e->comm[SE_COMM_LEN] = '\0';
}

int probe_rate_limited_each(struct probe *p, probe_rl_fn fn, void *ctx)
{
	struct probe_rl_entry e;
	struct se_rl_stat v;
	uint32_t key, next = 0;
	int n = 0, more;

	more = bpf_get_first_key(p->rl_fd, &key, sizeof(key)) == 0;
	while (more) {
		/* The next key first: the callback may delete this one, and a
		 * hash map's next key after a missing one is its first. The
		 * kernel adds entries meanwhile: one may be missed this time
		 * or seen twice, which the caller's deltas absorb. */
		more = bpf_get_next_key(p->rl_fd, &key, &next) == 0;
		if (bpf_lookup_elem(p->rl_fd, &key, &v) == 0) {
			rl_entry(&e, key, &v);
			fn(ctx, &e);
			n++;
		}
		key = next;
	}
	return n;
}

int probe_rate_limited_take(struct probe *p, uint32_t tgid, struct probe_rl_entry *out)
{
	struct se_rl_stat v;

	if (bpf_lookup_elem(p->rl_fd, &tgid, &v) != 0)
		return -errno;
	rl_entry(out, tgid, &v);
	if (bpf_delete_elem(p->rl_fd, &tgid) != 0)
		return -errno;
	return 0;
}

uint64_t probe_perf_lost(const struct probe *p)
{
	return p->perf_lost;
}

const char *probe_transport_name(const struct probe *p)
{
	return p->transport == PROBE_RINGBUF ? "ringbuf" : "perf";
}

unsigned probe_program_count(const struct probe *p)
{
	return p->nprogs;
}

void probe_detach(struct probe *p)
{
	/* Closing the attachment fd detaches: bpf_detach_tracepoint does
	 * nothing for perf-event attachments. */
	for (unsigned i = 0; i < MAX_PROGS; i++) {
		if (p->link_fd[i] >= 0)
			close(p->link_fd[i]);
		p->link_fd[i] = -1;
	}
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	probe_detach(p);
	for (unsigned i = 0; i < MAX_PROGS; i++)
		if (p->prog_fd[i] >= 0)
			close(p->prog_fd[i]);
	if (p->rb)
		bpf_free_ringbuf(p->rb);
	for (int i = 0; i < p->nreaders; i++)
		perf_reader_free(p->readers[i]);
	free(p->readers);
	free(p->batch.buf);
	free(p->batch.recs);
	if (p->mod)
		bpf_module_destroy(p->mod);
	free(p);
}
