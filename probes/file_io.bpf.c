/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sentinel-ebpf kernel side: file reads and writes with the path verdict
 * kept per (tgid, fd), compiled by libbcc when the agent starts.
 *
 * One raw tracepoint on raw_syscalls:sys_exit sees every syscall's number,
 * arguments (from the saved user registers) and return value in one place,
 * so a read or write costs one program run and no per-thread map: the
 * syscalls:sys_exit_write tracepoint would give the return value but not the
 * fd, and pairing enter with exit costs a hash update, lookup and delete per
 * call. Only pt_regs is read, whose layout is the syscall ABI.
 *
 * Filtering: the agent computes, per rule, whether a file's path matches,
 * and posts it as a verdict the probe keeps with the fd. Event type and comm
 * are checked here on every event. An event no enabled rule can match is
 * counted and never copied out. Until the verdict for an fd is known the
 * event is forwarded with SE_F_PENDING and decided in user space, so nothing
 * is lost between an open and its verdict. A rules reload bumps config.gen:
 * verdicts of an older gen are stale, so each open fd's next event is
 * pending again and user space posts a verdict for the new rules under the
 * fd's existing seq; the events after it are filtered here again.
 *
 * Rate limit (config.rl_cost_ns != 0): an event the kernel decided matches
 * spends from its process's bucket (per tgid, so one process's flood never
 * costs another process its events); with the bucket empty it is counted,
 * per CPU and per tgid, instead of emitted. Filtered events cost nothing
 * more, and pending ones are left to user space (see on_io); opens, closes,
 * dups, exec and exit are never limited: the fd table needs every one.
 *
 * Build-time macros set by the agent: SE_RINGBUF (1: BPF ring buffer, 0: perf
 * buffer), SE_RINGBUF_PAGES, SE_FD_ENTRIES.
 */
#include <uapi/linux/ptrace.h>
#ifndef SENTINEL_EVENT_H
#include "event.h"
#endif

#if !defined(bpf_target_x86)
#error "sentinel-ebpf reads syscall arguments from x86_64 pt_regs; other arches are not supported yet"
#endif

/* x86_64 syscall numbers (ABI, never renumbered). <asm/unistd.h> would pick
 * the 32-bit table when compiling for the BPF target. */
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_dup 32
#define NR_dup2 33
#define NR_fcntl 72
#define NR_chdir 80
#define NR_fchdir 81
#define NR_creat 85
#define NR_openat 257
#define NR_dup3 292
#define NR_preadv 295
#define NR_pwritev 296
#define NR_preadv2 327
#define NR_pwritev2 328
#define NR_close_range 436
#define NR_openat2 437

#define USER_CS_64 0x33 /* __USER_CS: a 64-bit task; ia32 syscalls use other numbers */
#define AT_FDCWD_ -100
#define O_CLOEXEC_ 02000000
#define F_DUPFD_ 0
#define F_SETFD_ 2
#define F_DUPFD_CLOEXEC_ 1030
#define FD_CLOEXEC_ 1
#define CLOSE_RANGE_CLOEXEC_ (1U << 2)
#define CLONE_THREAD_ 0x00010000

BPF_ARRAY(config, struct se_config, 1);
BPF_HASH(fds, struct se_fd_key, struct se_fd_state, SE_FD_ENTRIES);
/* LRU: a verdict posted for an fd that closed before the probe read it is
 * never looked up again; eviction reclaims it. */
BPF_TABLE("lru_hash", __u64, struct se_verdict, verdicts, 65536);
BPF_HASH(comm_masks, struct se_comm_key, __u64, 2 * SE_MAX_COMMS);
BPF_PERCPU_ARRAY(counters, __u64, SE_CTR_MAX);
/* Rate limit: tgid -> the GCRA "theoretical arrival time" of its next event.
 * LRU: a process that stopped emitting is evicted; if it comes back it starts
 * with a full burst, as a new process would. The entry of an exited process
 * is left to the LRU: a reused tgid inherits at most burst * cost of debt. */
BPF_TABLE("lru_hash", __u32, __u64, rl_tat, SE_RL_ENTRIES);
/* Suppressed events per tgid, read and pruned by the agent's report. LRU:
 * beyond SE_RL_SUPPRESSED_ENTRIES flooding processes between two reports the
 * oldest entries go; SE_CTR_RATE_LIMITED still counts every event. */
BPF_TABLE("lru_hash", __u32, struct se_rl_stat, rl_suppressed, SE_RL_SUPPRESSED_ENTRIES);
BPF_PERCPU_ARRAY(seqs, __u64, 1);
/* Young processes: tgid -> fork time (see SE_YOUNG_NS). A plain hash, not
 * LRU: an eviction would silently hide a young process's changes, a full
 * map is told to the agent on the fork record. Entries go at exit, or when
 * found expired. */
BPF_HASH(young, __u32, __u64, SE_YOUNG_ENTRIES);
/* The path record is 4 KiB, beyond the 512-byte BPF stack. */
BPF_PERCPU_ARRAY(scratch, struct se_path_record, 1);

#if SE_RINGBUF
BPF_RINGBUF_OUTPUT(events, SE_RINGBUF_PAGES);
#else
BPF_PERF_OUTPUT(events);
#endif

/* bcc rewrites map calls only outside macros, hence a function. */
static __always_inline int emit(void *ctx, void *data, __u32 size)
{
#if SE_RINGBUF
	/* No wake-up per record: the agent drains on a short timer. Waking
	 * the reader on every event is what costs, not the copy. */
	return events.ringbuf_output(data, size, BPF_RB_NO_WAKEUP);
#else
	return events.perf_submit(ctx, data, size);
#endif
}

static __always_inline void count(int idx)
{
	__u64 *v = counters.lookup(&idx);

	if (v)
		(*v)++;
}

/* A number unique to this open: per-CPU counter, CPU id in the top bits. */
static __always_inline __u64 next_seq(void)
{
	int zero = 0;
	__u64 *v = seqs.lookup(&zero);

	if (!v)
		return 0;
	(*v)++;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (*v & 0xffffffffffffULL);
}

/* Within SE_YOUNG_NS of its fork: its untracked fd changes are recorded. */
static __always_inline int is_young(__u32 tgid)
{
	__u64 *born = young.lookup(&tgid);

	if (!born)
		return 0;
	if (bpf_ktime_get_ns() - *born < SE_YOUNG_NS)
		return 1;
	young.delete(&tgid);
	return 0;
}

static __always_inline void fill(struct se_record *r, __u16 kind, __s32 fd, __u64 arg)
{
	__u64 id = bpf_get_current_pid_tgid();

	r->ts_ns = bpf_ktime_get_ns();
	r->arg = arg;
	r->verdict = 0;
	r->tgid = id >> 32;
	r->tid = (__u32)id;
	r->fd = fd;
	r->kind = kind;
	r->flags = 0;
	bpf_get_current_comm(&r->comm, sizeof(r->comm));
}

/* A record that is not an event: its loss is counted apart from events'. */
static __always_inline void emit_record(void *ctx, struct se_record *r)
{
	if (emit(ctx, r, sizeof(*r)) != 0)
		count(SE_CTR_DROP_INTERNAL);
}

/* A read or write event: a lost one is counted by its type and by whether
 * its file was already decided (the counters' layout in event.h). */
static __always_inline void emit_io(void *ctx, struct se_record *r, __u16 kind, int pending)
{
	if (emit(ctx, r, sizeof(*r)) != 0)
		count(SE_CTR_DROP_READ_MATCHED + (kind == SE_WRITE ? 2 : 0) + (pending ? 1 : 0));
}

/* Rules that list this comm, in the config's generation slot. */
static __always_inline __u64 comm_lookup(struct se_config *cfg, char *comm)
{
	struct se_comm_key k = {};
	__u64 *cm;

	__builtin_memcpy(k.comm, comm, SE_COMM_LEN);
	k.slot = cfg->gen & 1;
	cm = comm_masks.lookup(&k);
	return cm ? *cm : 0;
}

/* Rules that can match this process's events of @type, ignoring paths. */
static __always_inline __u64 comm_type_mask(struct se_config *cfg, int type, char *comm)
{
	__u64 m = cfg->type_mask[type & 1];
	__u64 any = m & cfg->anycomm_mask;

	if (m & cfg->comm_rules)
		any |= m & comm_lookup(cfg, comm);
	return any;
}

/* Could this process produce an event any rule wants? Used to skip tracking
 * opens of processes no rule can match. */
static __always_inline int process_wanted(struct se_config *cfg, char *comm)
{
	return (comm_type_mask(cfg, 0, comm) | comm_type_mask(cfg, 1, comm)) != 0;
}

static __always_inline void track_fd(struct se_record *r, struct se_config *cfg, __u32 tgid,
				     __s32 fd)
{
	struct se_fd_key key = {.tgid = tgid, .fd = fd};
	struct se_fd_state st = {.gen = cfg->gen, .flags = SE_FD_PENDING};

	st.seq = next_seq();
	r->verdict = st.seq;
	r->flags |= SE_F_PENDING;
	if (fds.update(&key, &st) != 0) {
		count(SE_CTR_DROP_FDMAP);
		r->flags = (r->flags & ~SE_F_PENDING) | SE_F_UNTRACKED;
	}
}

/*
 * May @tgid emit one more event at @now? GCRA: the bucket is the time its
 * next event is due (tat); an event is allowed while tat is at most tau
 * ahead of now, and pushes tat one cost further. Comparisons and one add:
 * no division, no loop. Threads of one process on several CPUs race on the
 * read-modify-write of tat (no atomic fetch-add before BPF v3 atomics): two
 * racing events may be charged once, so a multi-threaded flood gets a bit
 * more than its rate (measured: under 1 % with 4 threads on 2 CPUs), never
 * unlimited. Every event is still either emitted or counted as suppressed.
 */
static __always_inline int rate_ok(struct se_config *cfg, __u32 tgid, __u64 now)
{
	__u64 cost = cfg->rl_cost_ns, *tat, t;

	if (!cost)
		return 1;
	tat = rl_tat.lookup(&tgid);
	if (!tat) {
		t = now + cost;
		/* LRU full: the least recently used bucket gives way. */
		rl_tat.update(&tgid, &t);
		return 1;
	}
	t = *tat;
	if (t < now)
		t = now; /* idle: the bucket refilled (up to tau, not beyond) */
	if (t - now > cfg->rl_tau_ns)
		return 0;
	*tat = t + cost;
	return 1;
}

static __always_inline void rate_suppressed(__u32 tgid, __u16 kind)
{
	struct se_rl_stat *s, n = {.suppressed = 1};

	count(kind == SE_WRITE ? SE_CTR_RATE_LIMITED_WRITE : SE_CTR_RATE_LIMITED_READ);
	s = rl_suppressed.lookup(&tgid);
	if (s) {
		/* Other threads of the process may add on other CPUs. */
		__sync_fetch_and_add(&s->suppressed, 1);
		return;
	}
	/* The process's first (or the first since the report forgot it):
	 * name it once, not on every suppressed event. */
	bpf_get_current_comm(&n.comm, sizeof(n.comm));
	if (rl_suppressed.insert(&tgid, &n) == 0)
		return;
	/* Another thread of the process made the entry first. */
	s = rl_suppressed.lookup(&tgid);
	if (s)
		__sync_fetch_and_add(&s->suppressed, 1);
}

/* The rest of an io record, once we know it leaves the kernel: filtered
 * events never pay for the timestamp and (without comm rules) the comm. */
static __always_inline void io_finish(struct se_record *r, __u64 id, __u16 kind, __s32 fd,
				      long ret, int have_comm, __u64 now)
{
	r->ts_ns = now;
	r->arg = ret;
	r->tgid = id >> 32;
	r->tid = (__u32)id;
	r->fd = fd;
	r->kind = kind;
	if (!have_comm)
		bpf_get_current_comm(&r->comm, sizeof(r->comm));
}

static __always_inline void on_io(void *ctx, struct se_config *cfg, __u16 kind, __s32 fd,
				  long ret)
{
	struct se_record r;
	struct se_fd_key key;
	struct se_fd_state *st;
	__u64 id = bpf_get_current_pid_tgid();
	__u64 type = cfg->type_mask[kind == SE_WRITE];
	__u64 m = type & cfg->anycomm_mask, now;
	int have_comm = 0, pending = 0;

	count(SE_CTR_SEEN);
	r.verdict = 0;
	r.flags = 0;
	if (type & cfg->comm_rules) {
		bpf_get_current_comm(&r.comm, sizeof(r.comm));
		have_comm = 1;
		m |= type & comm_lookup(cfg, r.comm);
	}
	if (!m)
		goto filtered;

	key.tgid = id >> 32;
	key.fd = fd;
	st = fds.lookup(&key);
	if (!st) {
		/* First sight (opened before we attached, or by a syscall we do
		 * not follow: pipe, socket, accept...). User space resolves it. */
		track_fd(&r, cfg, key.tgid, fd);
		goto pending;
	}
	if ((st->flags & SE_FD_PENDING) || st->gen != cfg->gen) {
		__u64 seq = st->seq;
		struct se_verdict *v = verdicts.lookup(&seq);

		if (!v || v->gen != cfg->gen) {
			r.verdict = seq;
			r.flags |= SE_F_PENDING;
			goto pending;
		}
		/* Racing CPUs may both copy the same verdict: harmless. */
		st->mask = v->mask;
		st->gen = v->gen;
		st->flags &= ~SE_FD_PENDING;
		verdicts.delete(&seq);
	}
	m &= st->mask;
	if (!m)
		goto filtered;
	r.verdict = m;
	goto out;
pending:
	pending = 1;
out:
	now = bpf_ktime_get_ns();
	/*
	 * An event awaiting its fd's verdict is not limited and spends
	 * nothing: user space decides it and drops most (other files' noise,
	 * which must neither use up the process's budget nor be reported as
	 * suppressed), and only until it posts the verdict, about one drain
	 * after the open. Getting around the limit this way takes a new fd
	 * per burst, whose open and close records are never limited anyway.
	 * An fd the map had no room for never gets a verdict: it is limited.
	 */
	if (!(r.flags & SE_F_PENDING) && !rate_ok(cfg, key.tgid, now)) {
		rate_suppressed(key.tgid, kind);
		return;
	}
	if (pending)
		count(SE_CTR_PENDING);
	io_finish(&r, id, kind, fd, ret, have_comm, now);
	emit_io(ctx, &r, kind, pending);
	return;
filtered:
	count(SE_CTR_FILTERED);
}

static __always_inline void on_path(void *ctx, struct se_config *cfg, __u16 kind, __s32 fd,
				    __s32 dirfd, __u64 uptr, __u64 oflags)
{
	int zero = 0;
	struct se_path_record *p = scratch.lookup(&zero);
	long len;
	__u32 size;

	if (!p)
		return;
	fill(&p->r, kind, fd, oflags);
	if (kind == SE_OPEN) {
		if (!process_wanted(cfg, p->r.comm))
			return;
		if (oflags & O_CLOEXEC_)
			p->r.flags |= SE_F_CLOEXEC;
		track_fd(&p->r, cfg, p->r.tgid, fd);
	}
	p->dirfd = dirfd;
	len = bpf_probe_read_user_str(p->path, sizeof(p->path), (void *)uptr);
	if (len <= 0) {
		p->r.flags |= SE_F_PATH_FAULT;
		p->path[0] = 0;
		len = 1;
	}
	p->path_len = len;
	/* The verifier needs the size bounded by the scratch value. */
	size = SE_PATH_RECORD_HDR + (len & (SE_PATH_MAX - 1));
	if (len >= SE_PATH_MAX)
		size = sizeof(*p);
	if (emit(ctx, p, size) != 0)
		count(SE_CTR_DROP_INTERNAL);
}

static __always_inline void on_dup(void *ctx, struct se_config *cfg, __s32 oldfd, __s32 newfd,
				   int cloexec)
{
	struct se_record r;
	struct se_fd_key okey, nkey;
	struct se_fd_state *st, ns;

	fill(&r, SE_DUP, newfd, (__u32)oldfd);
	if (cloexec)
		r.flags |= SE_F_CLOEXEC;
	okey.tgid = nkey.tgid = r.tgid;
	okey.fd = oldfd;
	nkey.fd = newfd;
	st = fds.lookup(&okey);
	if (!st && is_young(r.tgid)) {
		/* The old fd may be one the agent can name from the parent
		 * (a shell's `cmd >&3`): track the copy, as an open would. */
		fds.delete(&nkey);
		track_fd(&r, cfg, r.tgid, newfd);
		emit_record(ctx, &r);
		return;
	}
	if (!st) {
		/* dup2 onto a tracked fd replaced it with one we never saw. */
		if (fds.delete(&nkey) == 0)
			emit_record(ctx, &r);
		return;
	}
	ns = *st;
	if (ns.flags & SE_FD_PENDING) {
		/* A verdict is consumed by one fd: the copy needs its own. */
		ns.seq = next_seq();
		r.flags |= SE_F_PENDING;
		r.verdict = ns.seq;
	}
	if (fds.update(&nkey, &ns) != 0) {
		count(SE_CTR_DROP_FDMAP);
		r.flags = (r.flags & ~SE_F_PENDING) | SE_F_UNTRACKED;
	}
	emit_record(ctx, &r);
}

static __always_inline void on_close(void *ctx, __s32 fd)
{
	struct se_fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};
	struct se_record r;

	/* Only fds the probe tracks have state in user space too; a
	 * young process's every close matters to its lineage. */
	if (fds.delete(&key) != 0 && !is_young(key.tgid))
		return;
	fill(&r, SE_CLOSE, fd, 0);
	emit_record(ctx, &r);
}

static __always_inline void on_fd_event(void *ctx, __u16 kind, __s32 fd, __u64 arg)
{
	struct se_record r;

	fill(&r, kind, fd, arg);
	emit_record(ctx, &r);
}

static __always_inline __u64 reg(void *addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = (long)ctx->args[1];
	int zero = 0;
	struct se_config *cfg;
	__u64 nr, a0;

	/* Failed calls are not events and change no fd. */
	if (ret < 0)
		return 0;
	nr = reg(&regs->orig_ax);
	switch (nr) {
	case NR_read: case NR_write: case NR_pread64: case NR_pwrite64:
	case NR_readv: case NR_writev: case NR_preadv: case NR_pwritev:
	case NR_preadv2: case NR_pwritev2:
	case NR_open: case NR_openat: case NR_openat2: case NR_creat:
	case NR_close: case NR_close_range: case NR_dup: case NR_dup2: case NR_dup3:
	case NR_fcntl: case NR_chdir: case NR_fchdir:
		break;
	default:
		return 0;
	}
	if (reg(&regs->cs) != USER_CS_64)
		return 0;
	cfg = config.lookup(&zero);
	if (!cfg || (bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid)
		return 0;

	a0 = reg(&PT_REGS_PARM1_SYSCALL(regs));
	switch (nr) {
	case NR_read: case NR_pread64: case NR_readv: case NR_preadv: case NR_preadv2:
		if (ret > 0)
			on_io(ctx, cfg, SE_READ, (__s32)a0, ret);
		break;
	case NR_write: case NR_pwrite64: case NR_writev: case NR_pwritev:
	case NR_pwritev2:
		if (ret > 0)
			on_io(ctx, cfg, SE_WRITE, (__s32)a0, ret);
		break;
	case NR_open:
		on_path(ctx, cfg, SE_OPEN, ret, AT_FDCWD_, a0, reg(&PT_REGS_PARM2_SYSCALL(regs)));
		break;
	case NR_creat:
		/* creat(p, m) is open(p, O_CREAT|O_WRONLY|O_TRUNC, m) */
		on_path(ctx, cfg, SE_OPEN, ret, AT_FDCWD_, a0, 01101);
		break;
	case NR_openat:
		on_path(ctx, cfg, SE_OPEN, ret, (__s32)a0, reg(&PT_REGS_PARM2_SYSCALL(regs)),
			reg(&PT_REGS_PARM3_SYSCALL(regs)));
		break;
	case NR_openat2: {
		/* struct open_how starts with the u64 flags */
		__u64 how = reg(&PT_REGS_PARM3_SYSCALL(regs)), oflags = 0;

		bpf_probe_read_user(&oflags, sizeof(oflags), (void *)how);
		on_path(ctx, cfg, SE_OPEN, ret, (__s32)a0, reg(&PT_REGS_PARM2_SYSCALL(regs)),
			oflags);
		break;
	}
	case NR_close:
		on_close(ctx, (__s32)a0);
		break;
	case NR_close_range: {
		__u64 last = reg(&PT_REGS_PARM2_SYSCALL(regs)) & 0xffffffffULL;
		__u64 fl = reg(&PT_REGS_PARM3_SYSCALL(regs)) & 0xffffffffULL;

		/* The probe cannot walk the range; user space knows which of
		 * its fds fall in it and deletes their state. */
		on_fd_event(ctx, SE_CLOSE_RANGE, (__s32)a0, last | (fl << 32));
		break;
	}
	case NR_dup:
		on_dup(ctx, cfg, (__s32)a0, ret, 0);
		break;
	case NR_dup2:
		if ((__s32)a0 != (__s32)ret)
			on_dup(ctx, cfg, (__s32)a0, ret, 0);
		break;
	case NR_dup3:
		on_dup(ctx, cfg, (__s32)a0, ret, reg(&PT_REGS_PARM3_SYSCALL(regs)) & O_CLOEXEC_);
		break;
	case NR_fcntl: {
		__u64 cmd = reg(&PT_REGS_PARM2_SYSCALL(regs));

		if (cmd == F_DUPFD_ || cmd == F_DUPFD_CLOEXEC_) {
			on_dup(ctx, cfg, (__s32)a0, ret, cmd == F_DUPFD_CLOEXEC_);
		} else if (cmd == F_SETFD_) {
			struct se_fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32,
						.fd = (__s32)a0};

			if (fds.lookup(&key) || is_young(key.tgid))
				on_fd_event(ctx, SE_SETFD, (__s32)a0,
					    reg(&PT_REGS_PARM3_SYSCALL(regs)) & FD_CLOEXEC_);
		}
		break;
	}
	case NR_chdir:
		on_path(ctx, cfg, SE_CHDIR, -1, AT_FDCWD_, a0, 0);
		break;
	case NR_fchdir:
		on_fd_event(ctx, SE_FCHDIR, (__s32)a0, 0);
		break;
	}
	return 0;
}

/* exec closes close-on-exec fds without a close syscall. */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	int zero = 0;
	struct se_config *cfg = config.lookup(&zero);
	struct se_record r;

	if (!cfg || (bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid)
		return 0;
	fill(&r, SE_EXEC, -1, 0);
	emit_record(args, &r);
	return 0;
}

/* Runs in the exiting task; only the leader's exit ends the fd table. */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid;
	int zero = 0;
	struct se_config *cfg = config.lookup(&zero);
	struct se_record r;

	if (!cfg || (id >> 32) != (__u32)id || (id >> 32) == cfg->self_tgid)
		return 0;
	tgid = id >> 32;
	young.delete(&tgid);
	fill(&r, SE_EXIT, -1, 0);
	emit_record(args, &r);
	return 0;
}

/*
 * A new process, in the parent (current) before the child can run: the
 * child's first record always comes after this one. It lets the agent name
 * an fd the child inherited from its parent's table when the child is gone
 * before /proc can be asked. Threads share the fd table: not recorded.
 */
TRACEPOINT_PROBE(task, task_newtask)
{
	__u32 child;
	int zero = 0;
	struct se_config *cfg = config.lookup(&zero);
	struct se_record r;

	if (!cfg || (args->clone_flags & CLONE_THREAD_) ||
	    (bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid)
		return 0;
	fill(&r, SE_FORK, args->pid, args->clone_flags);
	child = args->pid;
	if (young.update(&child, &r.ts_ns) != 0)
		r.flags |= SE_F_UNTRACKED;
	emit_record(args, &r);
	return 0;
}
