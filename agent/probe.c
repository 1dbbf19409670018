/* SPDX-License-Identifier: Apache-2.0 */
#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpulist.h"
#include "handoff.h"
#include "log.h"
#include "probe_progs.h"
#include "probe_spawn.h"

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
	struct handoff h; /* the loaded programs and kept maps, from the helper */
	int transport;
	int link_fd[PROBE_MAX_PROGS];
	unsigned nprogs; /* loaded */
	int config_fd, files_fd, verdicts_fd, comms_fd, counters_fd, rl_fd, epoch_fd;
	struct probe_rate_limit rl;
	uint64_t rl_cost_ns, rl_tau_ns; /* se_config's, from rl */
	uint32_t host_mntns;		/* se_config's, see host_mntns() */
	int ncpus_possible;
	struct probe_spawn_stats build; /* what the compile helper cost */
	probe_record_fn cb;
	void *cb_ctx;
	/* ring buffer */
	struct ring_buffer *rb;
	/* perf buffer */
	struct perf_buffer *pb;
	uint64_t perf_lost;
	struct perf_batch batch;
};

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;

	if (size >= sizeof(struct se_record))
		p->cb(p->cb_ctx, data, size);
	return 0;
}

/* One perf record into the batch (drain_perf sorts and hands them on). */
static void perf_add(struct probe *p, const void *data, size_t size)
{
	struct perf_batch *b = &p->batch;

	if (size < sizeof(struct se_record) || b->oom)
		return;
	if (b->len + size > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 20;
		char *n;

		while (cap < b->len + size)
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
	memcpy(b->buf + b->len, data, size);
	b->recs[b->n].off = b->len;
	b->recs[b->n++].size = size;
	/* keep records 8-byte aligned for the u64 fields */
	b->len += (size + 7) & ~(size_t)7;
}

/* A perf ring's record: a sample (the BPF program's bytes) or a count of
 * records the kernel could not write. */
static enum bpf_perf_event_ret perf_event_cb(void *ctx, int cpu, struct perf_event_header *e)
{
	struct probe *p = ctx;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE) {
		const struct {
			struct perf_event_header h;
			uint32_t size;
			char data[];
		} *s = (const void *)e;

		perf_add(p, s->data, s->size);
	} else if (e->type == PERF_RECORD_LOST) {
		const struct {
			struct perf_event_header h;
			uint64_t id;
			uint64_t lost;
		} *l = (const void *)e;

		p->perf_lost += l->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static int open_ringbuf(struct probe *p)
{
	p->rb = ring_buffer__new(p->h.map_fd[PROBE_MAP_EVENTS], ringbuf_cb, p, NULL);
	if (!p->rb) {
		int err = errno ? -errno : -EINVAL;

		log_error("opening the BPF ring buffer failed", "errno=%d", -err);
		return err;
	}
	return 0;
}

/* A perf ring per online CPU, each its CPU's slot of the events array. */
static int open_perf(struct probe *p, const struct probe_opts *o)
{
	int ids[1024];
	int n = cpulist_read("/sys/devices/system/cpu/online", ids, 1024);
	/* Wake the reader only when a quarter of the buffer is used: the
	 * timer drains the rest. */
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = (uint32_t)(o->perf_pages * 4096 / 4 / sizeof(struct se_record)),
	};
	LIBBPF_OPTS(perf_buffer_raw_opts, po);

	if (n <= 0)
		return -EINVAL;
	if (n > 1024)
		n = 1024;
	po.cpu_cnt = n;
	po.cpus = ids;
	po.map_keys = ids;
	p->pb = perf_buffer__new_raw(p->h.map_fd[PROBE_MAP_EVENTS], o->perf_pages, &attr,
				     perf_event_cb, p, &po);
	if (!p->pb) {
		int err = errno ? -errno : -EINVAL;

		log_error("opening the perf buffers failed", "cpus=%d errno=%d", n, -err);
		return err;
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
 * The probe, built by the compile helper (probe_spawn.h): its programs and
 * kept maps into @p. The helper logs why when it fails; here only what the
 * agent itself sees.
 */
static int build(struct probe *p, const struct probe_opts *o)
{
	struct probe_build_opts b = {
		.transport = o->transport,
		.ringbuf_kib = o->ringbuf_kib,
		.perf_pages = o->perf_pages,
		.file_entries = o->file_entries,
		.btf_path = o->btf_path,
		.cgroup_subsys = o->cgroup_subsys,
		.cgroup_hierarchy = o->cgroup_hierarchy,
		.log_level = (int)log_get_level(),
	};
	int err = probe_spawn_run(&b, &p->h, &p->build);

	if (err)
		return err;
	p->transport = p->h.transport;
	if (p->transport != PROBE_RINGBUF && p->transport != PROBE_PERF) {
		log_error("the compile helper named no transport", "transport=%d", p->transport);
		return -EPROTO;
	}
	for (unsigned i = 0; i < probe_n_progs; i++) {
		/* The helper loads every program but io_uring's, or fails: a gap
		 * means a helper from another build (the table's order is the
		 * wire's). */
		if (p->h.prog_fd[i] < 0 && !probe_progs[i].uring) {
			log_error("the compile helper sent no program for a function it must load",
				  "function=%s hint=\"sentinel-probe-build and sentinel-agent must "
				  "come from one build\"",
				  probe_progs[i].fn);
			return -EPROTO;
		}
		p->nprogs += p->h.prog_fd[i] >= 0;
	}
	for (unsigned m = 0; m < PROBE_MAP_N; m++) {
		if (p->h.map_fd[m] < 0) {
			log_error("BPF map missing from the probe", "map=%s", probe_map_name(m));
			return -ENOENT;
		}
	}
	p->config_fd = p->h.map_fd[PROBE_MAP_CONFIG];
	p->files_fd = p->h.map_fd[PROBE_MAP_FILES];
	p->epoch_fd = p->h.map_fd[PROBE_MAP_EPOCH];
	p->verdicts_fd = p->h.map_fd[PROBE_MAP_VERDICTS];
	p->comms_fd = p->h.map_fd[PROBE_MAP_COMMS];
	p->counters_fd = p->h.map_fd[PROBE_MAP_COUNTERS];
	p->rl_fd = p->h.map_fd[PROBE_MAP_RL];
	log_info("probe built", "helper_ms=%llu helper_peak_rss_kib=%llu programs=%u",
		 (unsigned long long)p->build.wall_ms, (unsigned long long)p->build.peak_rss_kib,
		 p->nprogs);
	return 0;
}

int probe_open(struct probe **out, const struct probe_opts *o, probe_record_fn cb, void *ctx)
{
	struct probe *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	handoff_init(&p->h);
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++)
		p->link_fd[i] = -1;
	p->cb = cb;
	p->cb_ctx = ctx;
	set_rate_limit(p, &o->rate_limit);
	p->host_mntns = host_mntns();
	p->ncpus_possible = cpulist_read("/sys/devices/system/cpu/possible", NULL, 0);
	if (p->ncpus_possible <= 0) {
		err = -EINVAL;
		goto fail;
	}
	err = build(p, o);
	if (err)
		goto fail;
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
		if (bpf_map_update_elem(p->comms_fd, (void *)&comms[i], (void *)&comm_masks[i],
					0) != 0) {
			log_error("updating comm filter failed", "errno=%d", errno);
			return -errno;
		}
	}
	more = bpf_map_get_next_key(p->comms_fd, NULL, &key) == 0;
	while (more) {
		size_t i;

		more = bpf_map_get_next_key(p->comms_fd, &key, &next) == 0;
		for (i = 0; i < n_comms; i++)
			if (memcmp(&comms[i], &key, sizeof(key)) == 0)
				break;
		if (i == n_comms)
			bpf_map_delete_elem(p->comms_fd, &key);
		key = next;
	}
	c.rl_cost_ns = p->rl_cost_ns;
	c.rl_tau_ns = p->rl_tau_ns;
	c.host_mntns = p->host_mntns;
	if (bpf_map_update_elem(p->config_fd, &zero, &c, 0) != 0) {
		log_error("updating probe config failed", "errno=%d", errno);
		return -errno;
	}
	return 0;
}

/* Attaches probe_progs[i] to its raw tracepoint: 0, or a negative error. */
static int attach_one(struct probe *p, unsigned i)
{
	int fd = bpf_raw_tracepoint_open(probe_progs[i].name, p->h.prog_fd[i]);

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
	for (unsigned i = 0; i < probe_n_progs; i++) {
		int err;

		if (!probe_progs[i].uring || !probe_progs[i].name || p->h.prog_fd[i] < 0)
			continue;
		err = attach_one(p, i);
		if (!err)
			continue;
		log_warn("io_uring requests are NOT seen: attaching failed",
			 "raw_tracepoint=%s errno=%d", probe_progs[i].name, errno);
		for (unsigned j = 0; j < probe_n_progs; j++) {
			if (probe_progs[j].uring && p->link_fd[j] >= 0) {
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
	for (unsigned i = 0; i < probe_n_progs; i++) {
		const struct probe_prog *s = &probe_progs[i];
		int err;

		if (!s->name || s->uring || p->h.prog_fd[i] < 0)
			continue; /* tail-call target, io_uring (below), or not built */
		err = attach_one(p, i);
		if (err && s->unseen) {
			log_warn("a tracepoint cannot be attached: what it reports is NOT seen",
				 "raw_tracepoint=%s errno=%d unseen=\"%s\"", s->name, errno,
				 s->unseen);
			continue;
		}
		if (err) {
			log_error("attaching to a raw tracepoint failed",
				  "raw_tracepoint=%s errno=%d hint=\"%s\"", s->name, -err,
				  err == -ENOENT  ? "this kernel has no such tracepoint"
				  : err == -EPERM ? "needs CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN)"
						  : "see errno");
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

	perf_buffer__poll(p->pb, timeout_ms);
	/* poll() only drains buffers that signalled; with wake-ups rare,
	 * consume every buffer explicitly. */
	perf_buffer__consume(p->pb);
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
	int n, more;

	if (p->transport == PROBE_PERF)
		return drain_perf(p, timeout_ms);
	/* Records come without wake-ups, so the poll usually times out;
	 * then consume everything that is there. */
	n = ring_buffer__poll(p->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	more = ring_buffer__consume(p->rb);
	if (more < 0)
		return more;
	return (n > 0 ? n : 0) + more;
}

int probe_post_verdict(struct probe *p, uint64_t seq, uint64_t mask, uint32_t gen)
{
	struct se_verdict v = {.mask = mask, .gen = gen};

	if (bpf_map_update_elem(p->verdicts_fd, &seq, &v, 0) != 0)
		return -errno;
	return 0;
}

int probe_forget_file(struct probe *p, uint64_t file)
{
	int zero = 0, err = 0;
	uint32_t ep;

	if (bpf_map_delete_elem(p->files_fd, &file) != 0 && errno != ENOENT)
		err = -errno;
	/* Each CPU may hold the file's verdict in its last_file cache: a new
	 * epoch makes every cached state stale (the kernel's own bumps race
	 * with this one harmlessly: any change invalidates). */
	if (bpf_map_lookup_elem(p->epoch_fd, &zero, &ep) == 0) {
		ep++;
		if (bpf_map_update_elem(p->epoch_fd, &zero, &ep, 0) != 0)
			err = -errno;
	}
	return err;
}

static int read_counter(struct probe *p, int idx, uint64_t *out)
{
	uint64_t vals[p->ncpus_possible];

	*out = 0;
	/* per-CPU lookups return one value per possible CPU */
	if (bpf_map_lookup_elem(p->counters_fd, &idx, vals) != 0)
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

	more = bpf_map_get_next_key(p->rl_fd, NULL, &key) == 0;
	while (more) {
		/* The next key first: the callback may delete this one, and a
		 * hash map's next key after a missing one is its first. The
		 * kernel adds entries meanwhile: one may be missed this time
		 * or seen twice, which the caller's deltas absorb. */
		more = bpf_map_get_next_key(p->rl_fd, &key, &next) == 0;
		if (bpf_map_lookup_elem(p->rl_fd, &key, &v) == 0) {
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

	if (bpf_map_lookup_elem(p->rl_fd, &tgid, &v) != 0)
		return -errno;
	rl_entry(out, tgid, &v);
	if (bpf_map_delete_elem(p->rl_fd, &tgid) != 0)
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
	/* Closing a raw tracepoint's fd detaches its program. */
	for (unsigned i = 0; i < PROBE_MAX_PROGS; i++) {
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
	ring_buffer__free(p->rb);
	perf_buffer__free(p->pb);
	handoff_close(&p->h);
	free(p->batch.buf);
	free(p->batch.recs);
	free(p);
}
