/* SPDX-License-Identifier: Apache-2.0 */
#include "probe_build.h"

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btfoff.h"
#include "clock.h"
#include "kheaders.h"
#include "log.h"
#include "probe.h"

extern const char sentinel_probe_text[];

#define LOAD_LOG_SIZE (1 << 20)

/* One build: the module libbcc compiled, and what is handed off. */
struct build {
	void *mod;
	struct handoff *h; /* its transport: the one chosen */
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
static int offsets(const struct probe_build_opts *o, const struct kheaders_info *kh,
		   struct btfoff **out)
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
static void cgroup_flags(const struct probe_build_opts *o, const struct btfoff *b, char *subsys,
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

static int compile(struct build *p, const struct probe_build_opts *o,
		   const struct kheaders_info *kh)
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
	snprintf(d_rb, sizeof(d_rb), "-DSE_RINGBUF=%d", p->h->transport == PROBE_RINGBUF);
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

static int load_prog(struct build *p, const struct probe_prog *s, int *out)
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
	fd = bcc_func_load(p->mod, BPF_PROG_TYPE_RAW_TRACEPOINT, s->fn, start, (int)size,
			   bpf_module_license(p->mod), bpf_module_kern_version(p->mod), 0, NULL, 0,
			   NULL, -1);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	/* Load again with the verifier log so the error says why. */
	vlog = malloc(LOAD_LOG_SIZE);
	if (vlog) {
		vlog[0] = '\0';
		bcc_func_load(p->mod, BPF_PROG_TYPE_RAW_TRACEPOINT, s->fn, start, (int)size,
			      bpf_module_license(p->mod), bpf_module_kern_version(p->mod), 1, vlog,
			      LOAD_LOG_SIZE, NULL, -1);
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

/*
 * Every program of the table into p->prog_fd. The io_uring ones exist only
 * where the probe could be built with them (SE_URING: BTF gives the
 * request's layout and io_uring_complete's form); else requests made
 * through io_uring go unseen, and the log says so once.
 */
static int load_progs(struct build *p)
{
	bool uring = true;

	for (unsigned i = 0; i < probe_n_progs; i++) {
		int err;

		if (probe_progs[i].uring && !bpf_function_start(p->mod, probe_progs[i].fn)) {
			uring = false;
			continue;
		}
		err = load_prog(p, &probe_progs[i], &p->h->prog_fd[i]);
		if (err)
			return err;
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
static int tail_targets(struct build *p)
{
	int fd = p->h->map_fd[PROBE_MAP_MOVERS];

	for (unsigned i = 0; i < probe_n_progs; i++) {
		int key = probe_progs[i].tail;

		if (key < 0 || (probe_progs[i].uring && p->h->prog_fd[i] < 0))
			continue; /* no io_uring programs: none calls it */
		if (bpf_update_elem(fd, &key, &p->h->prog_fd[i], BPF_ANY) != 0) {
			log_error("a tail-called program cannot be put in its array",
				  "function=%s slot=%d errno=%d", probe_progs[i].fn, key, errno);
			return -EIO;
		}
	}
	return 0;
}

/* The maps the agent keeps (probe_progs.h), into the hand-off: owned by
 * the module, sent as copies. */
static int maps(struct build *p)
{
	for (unsigned m = 0; m < PROBE_MAP_N; m++) {
		int fd = bpf_table_fd(p->mod, probe_map_name(m));

		if (fd < 0) {
			log_error("BPF map missing from the probe", "map=%s", probe_map_name(m));
			return -ENOENT;
		}
		p->h->map_fd[m] = fd;
	}
	return 0;
}

/* Every fd of @h that is a program's (the maps' are the module's). */
static void close_progs(struct handoff *h)
{
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++) {
		if (h->prog_fd[i] >= 0)
			close(h->prog_fd[i]);
		h->prog_fd[i] = -1;
	}
}

int probe_build(const struct probe_build_opts *o, struct handoff *h, void **mod)
{
	struct build p = {.h = h};
	struct kheaders_info kh;
	uint64_t t0, t1;
	int err, headers;

	handoff_init(h);
	*mod = NULL;
	err = bpf_access();
	if (err < 0)
		return err;
	h->transport = o->transport ? o->transport : (err ? PROBE_RINGBUF : PROBE_PERF);
	if (h->transport == PROBE_PERF && !o->transport)
		log_warn("kernel has no BPF ring buffer (needs 5.8+): using perf buffers");
	/* Name the headers libbcc will use (or say what to mount) first. */
	headers = kheaders_report(&kh);
	t0 = clock_mono_ns();
	err = compile(&p, o, &kh);
	t1 = clock_mono_ns();
	if (err) {
		if (headers != 0)
			kheaders_report_compile_failure(&kh);
		return err;
	}
	*mod = p.mod;
	err = maps(&p);
	if (!err)
		err = load_progs(&p);
	if (!err)
		err = tail_targets(&p);
	if (err) {
		close_progs(h);
		return err;
	}
	/* Where start-up time goes: clang (compile) or the verifier (load). */
	log_info("probe compiled and loaded", "compile_ms=%llu load_ms=%llu",
		 (unsigned long long)((t1 - t0) / 1000000),
		 (unsigned long long)((clock_mono_ns() - t1) / 1000000));
	return 0;
}

void probe_build_free(struct handoff *h, void *mod)
{
	close_progs(h);
	if (mod)
		bpf_module_destroy(mod);
}
