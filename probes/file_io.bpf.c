/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sentinel-ebpf kernel side: file reads and writes, named by the kernel's
 * own objects and filtered with a verdict kept per open file, compiled by
 * libbcc when the agent starts.
 *
 * Two raw tracepoints. At raw_syscalls:sys_enter a read or write takes its
 * struct file from current->files->fdt->fd[fd]: at entry, because while the
 * call blocks a thread sharing the fd table may close or dup2 over the fd,
 * and fd[n] read at exit would then name another file (a FUSE- or
 * userfaultfd-backed buffer holds the call as long as an attacker likes).
 * The syscall holds its own reference to the file it looked up, so the file
 * taken at entry is the one the bytes go to. At raw_syscalls:sys_exit the
 * return value gives the bytes; an event the entry decided to report waits
 * in the inflight map (per thread) in between.
 *
 * Names: the first read or write of a file walks its dentry and mount chain
 * (probes/pathwalk.h, offsets from BTF) and sends the path once, as an
 * SE_NAME record under a new seq; the file's events carry that seq. No open,
 * close, dup, exec or fork needs to be followed: whatever made the fd, the
 * file behind it at the call is named.
 *
 * Verdicts: the agent computes, per rule, whether the path matches and
 * posts it under the seq; the probe keeps it in the files map, keyed by the
 * struct file's address. That address is reused once a file is freed, so an
 * entry is trusted only while the file still points at the dentry, mount
 * and inode the name was computed from, and no rename or mount change
 * happened since (the epoch): see file_state(). Event type and comm are
 * checked per event. An event no enabled rule can match is counted and
 * never copied out; one whose file awaits its verdict is forwarded with
 * SE_F_PENDING and decided in user space, so nothing is lost in between. A
 * rules reload bumps config.gen: each file's next event names it again, so
 * user space never needs a name from before the reload.
 *
 * Rate limit (config.rl_cost_ns != 0): an event the kernel decided matches
 * spends from its process's bucket (per tgid); with the bucket empty it is
 * counted, per CPU and per tgid, instead of emitted. Pending events are not
 * limited (see on_exit_io).
 *
 * Changes that are not writes (SE_TRUNCATE: ftruncate, fallocate, O_TRUNC
 * opens; SE_MMAP: writable shared mappings) are decided like writes, by
 * tail-called programs (change_enter, trunc_open); stores through a shared
 * mapping come from writeback_dirty_folio as writes. See "Changes that are
 * not writes" below.
 *
 * Build-time macros set by the agent: SE_RINGBUF (1: BPF ring buffer, 0: perf
 * buffer), SE_RINGBUF_PAGES, SE_FILE_ENTRIES, SE_CGROUP_SUBSYS and
 * SE_CGROUP_HIER (agent/cgroups.h), and the SE_OFF_* struct offsets from the
 * running kernel's BTF (agent/btfoff.c); on a kernel without BTF, SE_HEADERS
 * and offsets the compiler takes from the running kernel's headers.
 */
#include <uapi/linux/ptrace.h>
#ifndef SENTINEL_EVENT_H
#include "event.h"
#endif
#ifndef SENTINEL_SYSCALLS_H
#include "syscalls.h"
#endif

#if !defined(bpf_target_x86)
#error "sentinel-ebpf reads syscall arguments from x86_64 pt_regs; other arches are not supported yet"
#endif

/* thread_info.status: the syscall being run is an ia32 one (x86's TS_COMPAT,
 * set at the ia32 entries: a 32-bit task's, and int $0x80 from a 64-bit
 * one, whose code segment is still the 64-bit one). */
#define SE_TS_COMPAT 0x0002

/* Whether the current syscall is an ia32 one (one kernel read): 1 or 0,
 * compared with a decoding's compat (before, the flag's own value 2 made
 * every ia32 rename, link and truncate(2) look like a 64-bit call's
 * mismatch, and go unreported: IA-32 emulation is off where this is
 * tested). */
static __always_inline int ia32_call(void)
{
	return (se_kp_u32(bpf_get_current_task() + SE_OFF_TASK_STRUCT_THREAD_INFO_STATUS) &
		SE_TS_COMPAT) != 0;
}

BPF_ARRAY(config, struct se_config, 1);
/* LRU: a file that is closed is never looked up again; eviction reclaims
 * its entry, and a live file evicted is only walked again. */
BPF_TABLE("lru_hash", __u64, struct se_file_state, files, SE_FILE_ENTRIES);
/* LRU: a verdict posted for a file that was closed before the probe read it
 * is never looked up again; eviction reclaims it. */
BPF_TABLE("lru_hash", __u64, struct se_verdict, verdicts, 65536);
/* LRU: an entry whose exit never ran (the thread was killed inside the
 * call) goes with eviction; a thread's next call overwrites its own. */
BPF_TABLE("lru_hash", __u32, struct se_inflight, inflight, SE_INFLIGHT_ENTRIES);
BPF_HASH(comm_masks, struct se_comm_key, __u64, 2 * SE_MAX_COMMS);
/*
 * A byte mover's entry, as tail calls from sys_enter (the agent fills the
 * array): [0] move_src decides its source, [1] move_dst its destination.
 * One program per side because the verifier explores each inlined copy of
 * the path walk: two (or three, with a read's) in one program took 6.1's
 * layouts past its 1M-instruction limit. The call in between is kept per
 * CPU (a program and its tail calls run on one CPU, not preempted).
 */
BPF_PROG_ARRAY(movers, SE_TAILS); /* by enum se_tail (event.h) */
BPF_PERCPU_ARRAY(move_scratch, struct se_inflight, 1);
/*
 * Tail-call slots as values the verifier does not know (a zero read from
 * map memory, plus the slot): with a constant key the kernel patches the
 * call into a direct jump into its target (a "poke"), and on 6.18 a movers
 * map whose programs were so patched outlived a SIGKILLed agent for good
 * now and then (test_faults t_sigkill; every run once aio_iocb patched a
 * call into itself).
 */
BPF_ARRAY(tail_base, __u32, 1);
static __always_inline __u32 tail_slot(__u32 slot)
{
	int zero = 0;
	__u32 *b = tail_base.lookup(&zero);

	return (b ? *b : 0) + slot;
}
/* A read or write between its decoding and the inflight map (on_enter_io). */
BPF_PERCPU_ARRAY(enter_scratch, struct se_inflight, 1);
BPF_PERCPU_ARRAY(counters, __u64, SE_CTR_MAX);
/* Rate limit: tgid -> the GCRA "theoretical arrival time" of its next event.
 * LRU: a process that stopped emitting is evicted; if it comes back it starts
 * with a full burst, as a new process would. The entry of an exited process
 * is left to the LRU: a reused tgid inherits at most burst * cost of debt. */
BPF_TABLE("lru_hash", __u32, __u64, rl_tat, SE_RL_ENTRIES);
/* Suppressed events per tgid, read and pruned by the agent's report. LRU:
 * beyond SE_RL_SUPPRESSED_ENTRIES flooding processes between two reports the
 * oldest entries go; the per-CPU counters still count every event. */
BPF_TABLE("lru_hash", __u32, struct se_rl_stat, rl_suppressed, SE_RL_SUPPRESSED_ENTRIES);
BPF_PERCPU_ARRAY(seqs, __u64, 1);
/* Bumped by every rename and mount change: a name computed before may be
 * stale. One entry; a read per decided event. */
BPF_ARRAY(epoch, __u32, 1);
/*
 * The last decided file each CPU saw, with what its verdict was computed
 * from: a run of reads or writes to one file (the common case, and a
 * flood's) skips the files map's hash lookup, about 40 % of a decided
 * event's cost here. Trusted only while the file's dentry, mount and inode,
 * the epoch and the rules generation still match, as the map entry is.
 */
struct se_last_file {
	__u64 file;
	struct se_file_state st;
};
BPF_PERCPU_ARRAY(last_file, struct se_last_file, 1);
/* The name record is 4.4 KiB, beyond the 512-byte BPF stack. */
BPF_PERCPU_ARRAY(scratch, struct se_name_record, 1);
/* Likewise a cgroup's path (1 KiB). */
BPF_PERCPU_ARRAY(cg_scratch, struct se_cgroup_record, 1);

#if SE_RINGBUF
BPF_RINGBUF_OUTPUT(events, SE_RINGBUF_PAGES);
#else
BPF_PERF_OUTPUT(events);
#endif

/*
 * bcc rewrites map calls only outside macros, hence a function. Events
 * (@wake 0) wake nobody: the agent drains on a short timer, and waking the
 * reader per event is what costs, not the copy. A file name (@wake 1)
 * wakes it, so the verdict comes back in microseconds instead of a drain
 * interval: until it does, every read and write of the new file goes up
 * pending, and a process reading a new file in small chunks (a compiler,
 * pahole on vmlinux) would fill a small ring with events user space only
 * filters. One wake-up per new file, not per event. The perf transport
 * wakes on its own watermark.
 */
static __always_inline int emit(void *ctx, void *data, __u32 size, int wake)
{
#if SE_RINGBUF
	return events.ringbuf_output(data, size, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
#else
	return events.perf_submit(ctx, data, size);
#endif
}

/* The event type of @kind as an index the verifier sees bounded (@kind may
 * come from map memory); 0 past the types, which no caller passes. */
static __always_inline __u32 type_of(__u16 kind)
{
	__u32 t = se_type(kind);

	return t < SE_TYPES ? t : 0;
}

static __always_inline void count_n(int idx, __u64 n)
{
	__u64 *v = counters.lookup(&idx);

	if (v)
		*v += n;
}

static __always_inline void count(int idx)
{
	count_n(idx, 1);
}

/* A saved user register (pt_regs: the syscall ABI). */
static __always_inline __u64 reg(void *addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

/* A number unique to this walk: per-CPU counter, CPU id in the top bits. */
static __always_inline __u64 next_seq(void)
{
	int zero = 0;
	__u64 *v = seqs.lookup(&zero);

	if (!v)
		return 0;
	(*v)++;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (*v & 0xffffffffffffULL);
}

static __always_inline __u32 epoch_now(void)
{
	int zero = 0;
	__u32 *e = epoch.lookup(&zero);

	return e ? *e : 0;
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

	count(SE_CTR_RATE_LIMITED_READ + type_of(kind));
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

/*
 * The current task's cgroup id in the hierarchy that names containers,
 * chosen by the agent at start (agent/cgroups.h). SE_CGROUP_SUBSYS < 0, a
 * cgroup v2 node: the unified hierarchy's id, bpf_get_current_cgroup_id().
 * On a v1 or hybrid node that helper still answers from the unified
 * hierarchy, where runtimes need not put containers at all (every task may
 * sit in its root): take the task's cgroup in one v1 controller's
 * hierarchy, task->cgroups->subsys[SE_CGROUP_SUBSYS]->cgroup->kn->id, the
 * id the cgroup_mkdir tracepoint reports and the directory's inode number.
 * Four reads, only for records that are sent (events and names), never for
 * a read or write filtered in the kernel. task->cgroups is RCU-protected;
 * a read racing a move to another cgroup gives the old or the new one.
 */
static __always_inline __u64 cgroup_id(void)
{
	/* A C test, not #if: in headers mode SE_CGROUP_SUBSYS is an enum
	 * constant (memory_cgrp_id), which only the compiler knows. */
	if (SE_CGROUP_SUBSYS >= 0) {
		__u64 task = bpf_get_current_task();
		__u64 cset = se_kp_ptr(task + SE_OFF_TASK_STRUCT_CGROUPS);
		__u64 css = cset ? se_kp_ptr(cset + SE_OFF_CSS_SET_SUBSYS +
					     8 * (__u64)SE_CGROUP_SUBSYS)
				 : 0;
		__u64 cg = css ? se_kp_ptr(css + SE_OFF_CGROUP_SUBSYS_STATE_CGROUP) : 0;
		__u64 kn = cg ? se_kp_ptr(cg + SE_OFF_CGROUP_KN) : 0;

		return kn ? se_kp_ptr(kn + SE_OFF_KERNFS_NODE_ID) : 0;
	}
	return bpf_get_current_cgroup_id();
}

static __always_inline void fill(struct se_record *r, __u16 kind, __s32 fd, __u64 file,
				 __u64 seq)
{
	__u64 id = bpf_get_current_pid_tgid();

	r->ts_ns = bpf_ktime_get_ns();
	r->arg = 0;
	r->mask = 0;
	r->seq = seq;
	r->file = file;
	r->cgroup = cgroup_id();
	r->tgid = id >> 32;
	r->tid = (__u32)id;
	r->fd = fd;
	r->kind = kind;
	r->flags = 0;
	bpf_get_current_comm(&r->comm, sizeof(r->comm));
}

/* Walk @file's path into the scratch record (NULL: no scratch). */
static __always_inline struct se_name_record *walk(struct se_config *cfg, __u64 file, __u64 inode,
						  __s32 fd)
{
	int zero = 0;
	struct se_name_record *n = scratch.lookup(&zero);

	if (!n)
		return NULL;
	fill(&n->r, SE_NAME, fd, file, 0);
	/* The mode names what a walk cannot: pipes and sockets. */
	n->r.arg = inode ? se_kp_u32(inode + SE_OFF_INODE_I_MODE) & 0xffff : 0;
	se_kpath_walk(&n->kp, file, cfg->host_mntns);
	count(SE_CTR_WALKS);
	return n;
}

/*
 * Send the walk in @n as an SE_NAME record under a new seq, returned; 0
 * when it could not be sent (no scratch, or the buffer full: counted as
 * internal). The caller then keeps no state for the file, so its next
 * event walks and sends the name again; this one reaches user space under
 * seq 0 and is counted as unresolved.
 */
static __always_inline __u64 send_name(void *ctx, struct se_name_record *n)
{
	__u64 seq = next_seq();

	if (!n)
		return 0;
	n->r.seq = seq;
	if (emit(ctx, n, sizeof(n->r) + se_kpath_size(&n->kp), 1) != 0) {
		count(SE_CTR_DROP_INTERNAL);
		return 0;
	}
	return seq;
}

/* Whether @st was computed for the file now at its address: the same
 * dentry, mount and inode (see struct se_file_state) and rules. */
static __always_inline int same_file(struct se_file_state *st, __u64 dentry, __u64 mnt,
				     __u64 inode, __u32 gen)
{
	return st->dentry == dentry && st->mnt == mnt && st->inode == inode && st->gen == gen;
}

/* @file's dentry, mount and inode, into @ns: what its state was computed
 * from (same_file). */
static __always_inline void file_ids(__u64 file, struct se_file_state *ns)
{
#if !defined(SE_HEADERS)
#if SE_OFF_FILE_F_INODE < SE_OFF_FILE_F_PATH && SE_OFF_FILE_F_PATH + 16 - SE_OFF_FILE_F_INODE <= 64
#define SE_FILE_ONE_READ 1
#endif
#endif
#ifdef SE_FILE_ONE_READ
	/* f_inode and f_path ({ mnt, dentry }) are close in struct file
	 * (6.18: 32 and 64): one read for the three pointers. */
	__u64 w[8] = {};

	bpf_probe_read_kernel(w, SE_OFF_FILE_F_PATH + 16 - SE_OFF_FILE_F_INODE,
			      (void *)(file + SE_OFF_FILE_F_INODE));
	ns->inode = w[0];
	ns->mnt = w[(SE_OFF_FILE_F_PATH - SE_OFF_FILE_F_INODE + SE_OFF_PATH_MNT) / 8];
	ns->dentry = w[(SE_OFF_FILE_F_PATH - SE_OFF_FILE_F_INODE + SE_OFF_PATH_DENTRY) / 8];
#else
	__u64 path[2] = {};

	ns->inode = se_kp_ptr(file + SE_OFF_FILE_F_INODE);
	/* f_path is { mnt, dentry }: one read for both. */
	bpf_probe_read_kernel(path, sizeof(path), (void *)(file + SE_OFF_FILE_F_PATH));
	ns->dentry = path[SE_OFF_PATH_DENTRY / 8];
	ns->mnt = path[SE_OFF_PATH_MNT / 8];
#endif
}

/* The state of @file (its ids in @ns, file_ids()) that needs no walk:
 * this CPU's last decided file, or the files map's entry, while still
 * computed for this file, rules and epoch @ep; else NULL. */
static __always_inline struct se_file_state *file_known(struct se_config *cfg,
							struct se_last_file *last, __u64 file,
							struct se_file_state *ns, __u32 ep)
{
	struct se_file_state *st;

	if (last && last->file == file && last->st.epoch == ep &&
	    same_file(&last->st, ns->dentry, ns->mnt, ns->inode, cfg->gen))
		return &last->st;
	st = files.lookup(&file);
	if (st && same_file(st, ns->dentry, ns->mnt, ns->inode, cfg->gen) && st->epoch == ep)
		return st;
	return NULL;
}

/*
 * The verdict state of @file, named anew when needed: never seen, or its
 * address now holds another file, or the rules changed (gen): a new name
 * (SE_NAME) and a pending state. After a rename or mount change anywhere
 * (epoch), the file is walked again, but named anew only if its path's
 * signature changed: a rename elsewhere on the node keeps its verdict.
 * A stale entry could only survive if a freed file's address, dentry and
 * inode were all reused by one new file at another name with no rename in
 * between; the dentry and inode are pinned by the file while it is open, so
 * all three must be freed and reallocated together.
 */
static __always_inline struct se_file_state *file_state(void *ctx, struct se_config *cfg,
							 struct se_last_file *last, __u64 file,
							 __s32 fd)
{
	struct se_file_state *st, ns = {};
	struct se_name_record *n;
	__u32 ep = epoch_now();
	__u64 inode;

	file_ids(file, &ns);
	inode = ns.inode;
	/* file_known(), spelt out: through it (one pointer of two maps
	 * returned, then tested), move_src went past the verifier's 1M
	 * instructions with 6.1's layouts. */
	if (last && last->file == file && last->st.epoch == ep &&
	    same_file(&last->st, ns.dentry, ns.mnt, inode, cfg->gen))
		return &last->st;
	st = files.lookup(&file);
	if (st && same_file(st, ns.dentry, ns.mnt, inode, cfg->gen) && st->epoch == ep)
		return st;
	/*
	 * One walk, reached with nothing live that differs between a file
	 * never seen and one whose name may be stale (st is looked up again
	 * after it): the walk is inlined, and each copy, or each state it is
	 * entered with, costs the verifier the whole walk again (the two
	 * call sites this replaces made it explore it twice). The second
	 * lookup happens only when a file is walked.
	 */
	n = walk(cfg, file, inode, fd);
	st = files.lookup(&file);
	if (st && same_file(st, ns.dentry, ns.mnt, inode, cfg->gen) && n && n->kp.sig == st->sig) {
		st->epoch = ep;
		return st;
	}
	ns.sig = n ? n->kp.sig : 0;
	ns.seq = send_name(ctx, n);
	if (!ns.seq) {
		/* A state without its name would leave every later event
		 * unnamed: keep none (an old one goes too). */
		files.delete(&file);
		return NULL;
	}
	ns.gen = cfg->gen;
	ns.epoch = ep;
	ns.flags = SE_FILE_PENDING;
	/* LRU: a full map evicts the least recently used file. */
	files.update(&file, &ns);
	return files.lookup(&file);
}

/* A decided state into this CPU's last_file (not a pending one: its
 * verdict is still to be copied from the verdicts map). */
static __always_inline void remember(struct se_last_file *last, __u64 file,
				     struct se_file_state *st)
{
	if (!last || &last->st == st)
		return;
	last->file = file;
	last->st = *st;
}

/*
 * The rules of event type @kind (SE_READ ... SE_MMAP) that may match a
 * call by a task named @comm (NULL: the current task's), before its file
 * is known: 0 when none can. candidates() counts the call seen, and
 * filtered when it is 0.
 */
static __always_inline __u64 rule_candidates(struct se_config *cfg, __u16 kind, char *comm)
{
	/* Masked: a bound the verifier sees when @kind comes from map memory. */
	__u64 type = cfg->type_mask[type_of(kind)];
	__u64 m = type & cfg->anycomm_mask;
	char cur[SE_COMM_LEN];

	if (type & cfg->comm_rules) {
		if (!comm) {
			bpf_get_current_comm(&cur, sizeof(cur));
			comm = cur;
		}
		m |= type & comm_lookup(cfg, comm);
	}
	return m;
}

static __always_inline __u64 candidates(struct se_config *cfg, __u16 kind, char *comm)
{
	__u64 m = rule_candidates(cfg, kind, comm);

	count(SE_CTR_SEEN);
	if (!m)
		count(SE_CTR_FILTERED);
	return m;
}

/* decide_file() once @file's state @st is known (NULL: it could not be
 * named, pending with seq 0). */
static __always_inline int decide_state(struct se_config *cfg, __u64 m, __u64 file,
					struct se_file_state *st, struct se_last_file *last,
					struct se_inflight_side *s)
{
	if (!st)
		goto pending; /* no name sent: seq 0, unresolved in user space */
	s->seq = st->seq;
	if (st->flags & SE_FILE_PENDING) {
		__u64 seq = st->seq;
		struct se_verdict *v = verdicts.lookup(&seq);

		if (!v || v->gen != cfg->gen)
			goto pending;
		/* Racing CPUs may both copy the same verdict: harmless. */
		st->mask = v->mask;
		st->flags &= ~SE_FILE_PENDING;
		verdicts.delete(&seq);
	}
	remember(last, file, st);
	m &= st->mask;
	if (!m) {
		count(SE_CTR_FILTERED);
		return 0;
	}
	s->mask = m;
	return 1;
pending:
	s->flags = SE_F_PENDING;
	return 1;
}

/* Side @s of a read or write (@kind) of @file through @fd, begun: this
 * CPU's last decided file. */
static __always_inline struct se_last_file *side_begin(struct se_inflight_side *s, __u16 kind,
						       __s32 fd, __u64 file)
{
	int zero = 0;

	s->fd = fd;
	s->kind = kind;
	s->file = file;
	return last_file.lookup(&zero);
}

/*
 * Whether a read or write (@kind) of @file, by a task some of rules @m may
 * match (candidates()), is an event, and if so into @s. 1 kept, 0 not an
 * event. @fd is what the record reports (-1: none, a registered file).
 */
static __always_inline int decide_file(void *ctx, struct se_config *cfg, __u64 m, __u16 kind,
				       __s32 fd, __u64 file, struct se_inflight_side *s)
{
	struct se_last_file *last = side_begin(s, kind, fd, file);

	return decide_state(cfg, m, file, file_state(ctx, cfg, last, file, fd), last, s);
}

/* decide_file() for a file whose state needs no walk (file_known()); -1
 * when it would: the caller walks it (decide_file) or leaves it. */
static __always_inline int decide_known(struct se_config *cfg, __u64 m, __u16 kind, __s32 fd,
					__u64 file, struct se_inflight_side *s)
{
	struct se_last_file *last = side_begin(s, kind, fd, file);
	struct se_file_state *st, ns = {};

	file_ids(file, &ns);
	st = file_known(cfg, last, file, &ns, epoch_now());
	return st ? decide_state(cfg, m, file, st, last, s) : -1;
}

/*
 * At sys_enter: whether a read (@kind SE_READ) or write of @fd is an event,
 * and if so, which file it goes to, into @s. 1 kept, 0 not an event.
 */
static __always_inline int decide(void *ctx, struct se_config *cfg, __u16 kind, __s32 fd,
				  struct se_inflight_side *s)
{
	__u64 m = candidates(cfg, kind, NULL), file;

	if (!m)
		return 0;
	file = se_fd_file(fd);
	if (!file)
		return 0; /* not an open fd: the call fails with EBADF */
	return decide_file(ctx, cfg, m, kind, fd, file, s);
}

/*
 * What the exit needs, into the inflight map. A 64-bit number in an ia32
 * call (a 32-bit task's, or int $0x80 from a 64-bit one) means another
 * call (ia32 295 is openat, our preadv): its decoding (@compat 0) is
 * checked only here, on what would be reported, because the check is a
 * kernel read and most calls end filtered, where a misread number costs
 * nothing. @compat 1: the entry already knew it is an ia32 call and
 * decoded the ia32 number.
 */
static __always_inline void keep(struct pt_regs *regs, struct se_inflight *in, int compat)
{
	__u32 tid;

	if (!compat && ia32_call())
		return;
	/* Only here: a helper call the filtered path need not pay. */
	tid = (__u32)bpf_get_current_pid_tgid();
	inflight.update(&tid, in);
}

/* Syscall argument @i (0-5) of a 64-bit or an ia32 call. */
static __always_inline __u64 sc_arg6(struct pt_regs *regs, int i, int compat)
{
	if (compat) {
		/* ia32: ebx, ecx, edx, esi, edi, ebp */
		void *a = i == 0 ? &regs->bx : i == 1 ? &regs->cx : i == 2 ? &regs->dx
			: i == 3 ? &regs->si : i == 4 ? &regs->di : &regs->bp;

		return (__u32)reg(a);
	}
	return reg(i == 0 ? &regs->di : i == 1 ? &regs->si : i == 2 ? &regs->dx
		   : i == 3 ? &regs->r10 : i == 4 ? &regs->r8 : &regs->r9);
}

/* Argument @i (0-2 only) as an int (an fd, a command). Not sc_arg6():
 * movers pass @i from map memory, and its six-way choice took move_src
 * from 214k to 254k verified instructions with 6.1's layouts. */
static __always_inline __s32 sc_arg(struct pt_regs *regs, __u8 i, int compat)
{
	if (compat)
		return (__s32)reg(i == 0 ? &regs->bx : i == 1 ? &regs->cx : &regs->dx);
	return (__s32)reg(i == 0 ? &regs->di : i == 1 ? &regs->si : &regs->dx);
}


/*
 * A read or write of @fd (@syscall: which of them). The call goes through
 * map memory (enter_scratch), not registers or the stack: there each
 * decoded number is a value the verifier knows, and a dozen calls, each
 * 64-bit or ia32, kept as many paths apart through the whole path walk
 * (sys_enter verified 595k instructions with 6.1's layouts, near the 1M
 * limit). Loaded back from the map they are unknown and the paths merge.
 */
static __always_inline void on_enter_io(void *ctx, struct se_config *cfg, struct pt_regs *regs,
					__u16 kind, __u8 syscall, __s32 fd, int compat)
{
	int zero = 0;
	struct se_inflight *in = enter_scratch.lookup(&zero);

	if (!in)
		return;
	in->side[0] = (struct se_inflight_side){.fd = fd, .kind = kind};
	in->sides = 1;
	in->syscall = syscall;
	in->compat = compat;
	if (decide(ctx, cfg, in->side[0].kind, in->side[0].fd, &in->side[0]))
		keep(regs, in, in->compat);
}

/*
 * A byte mover, sendfile(out, in, ...), splice(in, off, out, ...),
 * copy_file_range(in, off, out, ...) or a reflink ioctl(out, FICLONE, in),
 * reads its source and writes its destination: each side is decided on its
 * own (a splice's pipe side is named pipe:[ino] and filtered like any
 * pipe), by move_src and move_dst below.
 */

/* An event: a lost one is counted by its type and by whether its file was
 * already decided (the counters' layout in event.h). */
static __always_inline void emit_io(void *ctx, struct se_record *r, __u16 kind, int pending)
{
	/* DROP_<type>_MATCHED; its PENDING is the next */
	int drop = SE_CTR_DROP_READ_MATCHED + 2 * type_of(kind);

	if (emit(ctx, r, sizeof(*r), 0) != 0)
		count(drop + (pending ? 1 : 0));
}

/*
 * An event (@r, filled) of side @s, @bytes moved.
 *
 * An event awaiting its file's verdict is not limited and spends nothing:
 * user space decides it and drops most (other files' noise, which must
 * neither use up the process's budget nor be reported as suppressed), and
 * only until it posts the verdict, about one drain after the walk. Getting
 * around the limit this way takes a new file per burst, whose walk (an
 * SE_NAME record) is never limited anyway.
 */
static __always_inline void send_event(void *ctx, struct se_config *cfg, struct se_record *r,
				       struct se_inflight_side *s, __u8 syscall, __u64 bytes)
{
	int pending = s->flags & SE_F_PENDING;

	if (!pending && !rate_ok(cfg, r->tgid, r->ts_ns)) {
		rate_suppressed(r->tgid, s->kind);
		return;
	}
	if (pending)
		count(SE_CTR_PENDING);
	r->arg = bytes;
	r->mask = s->mask;
	r->flags |= s->flags;
	r->syscall = syscall;
	emit_io(ctx, r, s->kind, pending);
}

static __always_inline void exit_side(void *ctx, struct se_config *cfg, struct se_inflight_side *s,
				      __u8 syscall, long ret)
{
	struct se_record r;

	fill(&r, s->kind, s->fd, s->file, s->seq);
	send_event(ctx, cfg, &r, s, syscall, ret);
}

/*
 * Shared read-only mappings of files made through an fd open for writing,
 * which mprotect(PROT_WRITE) may make writable later: by process (its mm,
 * and tgid: an mm's address is reused once it is freed), the ranges mmap
 * returned. The probe cannot find the mapping at an address itself
 * (bpf_find_vma's callback is beyond libbcc 0.26). Up to SE_MAP_RANGES
 * per process, the oldest overwritten; munmap forgets a range it ends
 * whole, mremap moves one it moves from its start. The mapping holds a
 * reference to the file while it exists, so an entry's file is live until
 * the munmap that forgets it. What this misses: a range overwritten by 8
 * newer ones, a fork's child (another mm), a range mremap split.
 */
#define SE_MAP_RANGES 8
struct se_range_key {
	__u64 mm;
	__u32 tgid, pad;
};
struct se_range {
	__u64 start, end, file;
};
struct se_ranges {
	struct se_range r[SE_MAP_RANGES];
	__u32 next, pad;
};
BPF_TABLE("lru_hash", struct se_range_key, struct se_ranges, map_ranges, 1024);
BPF_PERCPU_ARRAY(ranges_scratch, struct se_ranges, 1);
/* 1 once a range was kept: until then munmap costs no lookup */
BPF_ARRAY(ranges_any, __u32, 1);

static __always_inline struct se_range_key range_key(void)
{
	struct se_range_key k = {};

	k.mm = se_kp_ptr(bpf_get_current_task() + SE_OFF_TASK_STRUCT_MM);
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	return k;
}

/* Remember that @file is mapped at [@start, @start + @len). */
static __always_inline void range_add(__u64 start, __u64 len, __u64 file)
{
	struct se_range_key k = range_key();
	struct se_ranges *rs = map_ranges.lookup(&k), *z;
	int zero = 0;
	__u32 one = 1, i;

	if (!rs) {
		z = ranges_scratch.lookup(&zero);
		if (!z)
			return;
		__builtin_memset(z, 0, sizeof(*z));
		map_ranges.update(&k, z);
		rs = map_ranges.lookup(&k);
		if (!rs)
			return;
		ranges_any.update(&zero, &one);
	}
	i = rs->next & (SE_MAP_RANGES - 1);
	rs->r[i].start = start;
	rs->r[i].end = start + len;
	rs->r[i].file = file;
	rs->next = i + 1;
}

/* Whether an mprotect (its saved registers) may make a remembered range
 * writable: it adds PROT_WRITE, and some range was ever kept. */
static __always_inline int mprotect_matters(struct pt_regs *regs, int compat)
{
	int zero = 0;
	__u32 *any = ranges_any.lookup(&zero);

	/* The array lookup first: it is inlined (a few instructions), the
	 * register a probe read (~15 ns here), and a node that never mapped
	 * a file so (most) pays only the lookup (LOAD_MODE=mprotect bash
	 * test/bench/bpf_stats.sh; figures in the README). */
	if (!any || !*any)
		return 0;
	return (sc_arg6(regs, 2, compat) & SE_PROT_WRITE) != 0;
}

/* The file mapped at @addr by this process, as remembered; 0: none. */
static __always_inline __u64 range_file(__u64 addr)
{
	struct se_range_key k = range_key();
	struct se_ranges *rs = map_ranges.lookup(&k);

	if (!rs)
		return 0;
#pragma unroll
	for (int i = 0; i < SE_MAP_RANGES; i++)
		if (rs->r[i].file && addr >= rs->r[i].start && addr < rs->r[i].end)
			return rs->r[i].file;
	return 0;
}

/*
 * After a successful munmap (@how 1) of [@a, @a + @b), or mremap (@how 2)
 * of the range at @a to @ret, @c bytes long.
 */
static __always_inline void range_unmap(int how, __u64 a, __u64 b, __u64 c, long ret)
{
	struct se_range_key k = range_key();
	struct se_ranges *rs = map_ranges.lookup(&k);

	if (!rs)
		return;
#pragma unroll
	for (int i = 0; i < SE_MAP_RANGES; i++) {
		if (!rs->r[i].file)
			continue;
		if (how == 1 && a <= rs->r[i].start && a + b >= rs->r[i].end) {
			rs->r[i].file = 0;
		} else if (how == 2 && a == rs->r[i].start) {
			rs->r[i].start = ret;
			rs->r[i].end = ret + c;
		}
	}
}

/*
 * At sys_exit of a call the entry kept: the bytes moved. Failed calls (and
 * reads at end of file) are not events.
 */
static __always_inline void on_exit_io(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct se_inflight *p = inflight.lookup(&tid), in;
	struct se_config *cfg;
	int zero = 0;

	if (!p)
		return;
	in = *p;
	inflight.delete(&tid);
	cfg = config.lookup(&zero);
	if (!cfg)
		return;
	if (in.at_entry) {
		/* 0 from a truncation, an address from mmap: done; -errno
		 * (the last page of the address space) failed. */
		if ((unsigned long)ret >= (unsigned long)-4095)
			return;
		if (in.track) {
			range_add(ret, in.arg, in.side[0].file);
			return;
		}
		ret = in.arg;
	} else if (ret <= 0) {
		return;
	}
	if (in.sides & 1)
		exit_side(ctx, cfg, &in.side[0], in.syscall, ret);
	if (in.sides & 2)
		exit_side(ctx, cfg, &in.side[1], in.syscall, ret);
}

/* The config, unless the current task is the agent itself. */
static __always_inline struct se_config *traced(void)
{
	int zero = 0;
	struct se_config *cfg;

	cfg = config.lookup(&zero);
	if (!cfg || (bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid)
		return NULL;
	return cfg;
}

/* The decoding of sys_enter's call: 64-bit, or a 32-bit task's (*@compat
 * 1). sc SE_SC_NONE: none the probe reports. */
static __always_inline struct se_call enter_call(struct pt_regs *regs, __u64 nr, int *compat)
{
	struct se_call c = se_decode64(nr);

	*compat = 0;
	if (c.sc)
		return c;
	/*
	 * Maybe a 32-bit task's read or write: its numbers are other calls for
	 * a 64-bit one (ia32 read is our close). Only those numbers pay the
	 * kernel read (ia32_call) that tells the two apart.
	 */
	c = se_decode32(nr);
	if (!c.sc || !ia32_call())
		return SE_CALL_IO(SE_SC_NONE, 0);
	*compat = 1;
	return c;
}

/*
 * The bytes @n iovecs at user address @addr ask for (struct iovec, or a
 * 32-bit task's compat_iovec), the first SE_IOV_MAX of them: a bound for
 * the verifier; beyond it the rest are not counted. Only for requests whose
 * bytes cannot be confirmed (SE_F_UNCONFIRMED).
 */
#define SE_IOV_MAX 8
static __always_inline __u64 iov_bytes(__u64 addr, __u64 n, int compat)
{
	__u64 sum = 0;

	for (int i = 0; i < SE_IOV_MAX; i++) {
		__u64 iov[2] = {};

		if (i >= n)
			break;
		if (compat) {
			__u32 c[2] = {};

			if (bpf_probe_read_user(c, sizeof(c), (void *)(addr + 8 * i)))
				break;
			sum += c[1];
		} else {
			if (bpf_probe_read_user(iov, sizeof(iov), (void *)(addr + 16 * i)))
				break;
			sum += iov[1];
		}
	}
	return sum;
}

/*
 * Native AIO. io_submit(ctx, nr, iocbpp) hands the kernel nr iocbs, whose
 * I/O completes later into a ring mapped in user memory: no tracepoint sees
 * it done. Each iocb that reads or writes (IOCB_CMD_PREAD/PWRITE and their
 * V forms) is decided at io_submit's entry, and reported then with the
 * bytes it asks for, flagged SE_F_UNCONFIRMED, by aio_iocb, tail-called
 * from sys_enter and then from itself (movers[SE_TAIL_AIO]). Each run
 * decides up to SE_AIO_FAST iocbs whose files need no walk (decide_known:
 * a file this CPU or the files map knows, the common case: a batch on a
 * few files), then at most one that does. The kernel allows 33 tail calls
 * per run of sys_enter, so an io_submit naming more than 33 files never
 * seen before (or past 33 * (SE_AIO_FAST + 1) iocbs) has the rest
 * uninspected: counted exactly (SE_CTR_AIO_UNINSPECTED, from how many the
 * kernel took, at the exit: aio_left), not reported.
 *
 * The iocbs are user memory read at entry, before the kernel copies them: a
 * process that rewrites an iocb (or its fd) between the two (another
 * thread, a userfaultfd-backed page to stall the copy) reports a decoy.
 * No tracepoint inside io_submit names the file the kernel took.
 */
struct se_aio {
	__u64 iocbpp; /* user array of iocb pointers (32-bit ones for an ia32 task) */
	__u64 i, n;   /* next iocb, iocbs asked for */
	__u32 compat;
	__u32 next_prog; /* SE_TAIL_AIO, from map memory: see aio_iocb */
	/* the iocb at hand (see aio_next) */
	__u64 m, file; /* its rules (candidates()) and file */
	__u64 bytes;
	__s32 fd;
	__u16 kind;
	__u8 walk; /* its file needs a walk: the run's last iocb */
	__u8 pad;
	struct se_inflight_side side;
};
BPF_PERCPU_ARRAY(aio_scratch, struct se_aio, 1);
/* tid -> the iocbs its io_submit's entry looked at, when the tail calls
 * ran out before the last: sys_exit counts the rest the kernel took. LRU:
 * the entry of a thread killed inside the call is evicted. */
BPF_TABLE("lru_hash", __u32, __u64, aio_left, 1024);

static __always_inline void aio_begin(void *ctx, struct pt_regs *regs, int compat)
{
	int zero = 0;
	struct se_aio *a = aio_scratch.lookup(&zero);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	long nr;

	if (!a || !traced())
		return;
	if (compat) {
		nr = (__s32)reg(&regs->cx);
		a->iocbpp = (__u32)reg(&regs->dx);
	} else {
		nr = (long)reg(&regs->si);
		a->iocbpp = reg(&regs->dx);
	}
	if (nr <= 0)
		return; /* EINVAL, or nothing */
	aio_left.delete(&tid); /* a killed call's, should the tid be reused */
	a->i = 0;
	a->n = nr;
	a->compat = compat;
	a->next_prog = tail_slot(SE_TAIL_AIO);
	movers.call(ctx, a->next_prog);
}

/* Iocb a->i, read and decoded into @a: 1 a read or write of an open fd
 * some rule may match (a->m, a->file, a->fd, a->kind, a->bytes), else 0. */
static __always_inline int aio_next(struct se_config *cfg, struct se_aio *a)
{
	__u64 iocb = 0, cb[6] = {};
	struct se_uop u;

	if (a->compat)
		bpf_probe_read_user(&iocb, 4, (void *)(a->iocbpp + 4 * a->i));
	else
		bpf_probe_read_user(&iocb, 8, (void *)(a->iocbpp + 8 * a->i));
	/* struct iocb (uapi): aio_lio_opcode at 16, aio_fildes 20, aio_buf 24,
	 * aio_nbytes 32 */
	if (!iocb || bpf_probe_read_user(cb, sizeof(cb), (void *)iocb))
		return 0;
	u = se_aio_op((__u16)cb[2]);
	if (!u.kind)
		return 0;
	/* The bytes asked for first, and the decoding through map memory: a
	 * kind or vec the verifier knows per opcode would keep four paths
	 * apart through the path walk (398k instructions on 6.18). */
	a->bytes = u.vec ? iov_bytes(cb[3], cb[4], a->compat) : cb[4];
	a->kind = u.kind;
	a->fd = (__s32)(cb[2] >> 32);
	a->side = (struct se_inflight_side){};
	a->m = candidates(cfg, a->kind, NULL);
	a->file = a->m ? se_fd_file(a->fd) : 0;
	return a->file != 0;
}

static __always_inline void aio_send(void *ctx, struct se_config *cfg, struct se_aio *a)
{
	struct se_record r;

	fill(&r, a->side.kind, a->side.fd, a->side.file, a->side.seq);
	r.flags = SE_F_UNCONFIRMED;
	send_event(ctx, cfg, &r, &a->side, SE_SC_AIO, a->bytes);
}

/* At the exit of an io_submit that took @ret iocbs: those its entry did
 * not look at, counted. */
static __always_inline void aio_end(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *seen = aio_left.lookup(&tid);

	if (!seen)
		return;
	if ((__u64)ret > *seen)
		count_n(SE_CTR_AIO_UNINSPECTED, (__u64)ret - *seen);
	aio_left.delete(&tid);
}

/* Iocbs of an io_submit, tail-called from sys_enter, then from itself. */
int aio_iocb(struct bpf_raw_tracepoint_args *ctx)
{
	struct se_config *cfg = traced();
	int zero = 0, d;
	struct se_aio *a = aio_scratch.lookup(&zero);
	__u32 tid;

	if (!a || !cfg)
		return 0;
	a->walk = 0;
	for (int j = 0; j < SE_AIO_FAST && a->i < a->n; j++) {
		if (aio_next(cfg, a)) {
			d = decide_known(cfg, a->m, a->kind, a->fd, a->file, &a->side);
			if (d < 0) {
				a->walk = 1;
				break;
			}
			if (d)
				aio_send(ctx, cfg, a);
		}
		a->i++;
	}
	/* One walk per run, after the loop: inside it, each iteration's
	 * state would take the verifier through the walk again. */
	if (a->walk) {
		if (decide_file(ctx, cfg, a->m, a->kind, a->fd, a->file, &a->side))
			aio_send(ctx, cfg, a);
		a->i++;
	}
	if (a->i >= a->n)
		return 0;
	/*
	 * The slot from map memory, not a constant: with a constant key the
	 * kernel patches this call to jump straight into its target (a
	 * "poke"), and a program so patched into itself kept the movers map
	 * alive after a SIGKILLed agent (6.18: the map outlived every program
	 * by minutes; test_faults t_sigkill).
	 */
	movers.call(ctx, a->next_prog);
	/* Not called: the kernel's limit. The exit counts what is left. */
	tid = (__u32)bpf_get_current_pid_tgid();
	aio_left.update(&tid, &a->i);
	return 0;
}

RAW_TRACEPOINT_PROBE(sys_enter)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct se_config *cfg;
	struct se_call c;
	int compat;

	c = enter_call(regs, ctx->args[1], &compat);
	if (!c.sc)
		return 0;
	if (c.sc == SE_SC_AIO) {
		aio_begin(ctx, regs, compat);
		return 0;
	}
	if (c.kind >= SE_TRUNCATE) {
		/* An mprotect matters only if it adds PROT_WRITE and some
		 * range was ever remembered: JITs toggle W^X all the time, and
		 * the tail call alone cost them ~290 ns a call (LOAD_MODE=
		 * mprotect bash test/bench/bpf_stats.sh). */
		if (c.sc == SE_SC_MPROTECT && !mprotect_matters(regs, compat))
			return 0;
		movers.call(ctx, tail_slot(SE_TAIL_CHANGE));
		return 0;
	}
	if (!c.kind) {
		/* An ioctl is a mover only when it clones (one register read per
		 * ioctl; every other command goes no further). */
		if (c.sc == SE_SC_FICLONE && !se_clone_cmd((__u32)sc_arg(regs, 1, compat)))
			return 0;
		/* A mover: move_src, then move_dst. Should the tail call fail (not in
		 * the array), the call goes unreported, as before attaching. */
		movers.call(ctx, tail_slot(SE_TAIL_MOVE_SRC));
		return 0;
	}
	cfg = traced();
	if (cfg)
		on_enter_io(ctx, cfg, regs, c.kind, c.sc, sc_arg(regs, 0, compat), compat);
	return 0;
}

/*
 * What both halves of a byte mover start from: its call (@c, *@compat)
 * and the per-CPU scratch the two share; NULL when it is none to report.
 */
static __always_inline struct se_inflight *move_begin(struct bpf_raw_tracepoint_args *ctx,
						      struct se_config *cfg, struct se_call *c,
						      int *compat)
{
	int zero = 0;
	struct se_inflight *in = move_scratch.lookup(&zero);

	*c = enter_call((struct pt_regs *)ctx->args[0], ctx->args[1], compat);
	return cfg && c->sc && !c->kind ? in : NULL;
}

/*
 * A reflink ioctl (FICLONE, FICLONERANGE: the destination shares the
 * source's extents, no byte is read or written): its bytes, known at entry
 * (the source's size, or the range), into @in; returns the source fd.
 * FICLONERANGE's struct file_clone_range is user memory read before the
 * kernel copies it: a thread rewriting it in between reports a decoy, as
 * an AIO iocb can.
 */
static __always_inline __s32 clone_begin(struct pt_regs *regs, struct se_inflight *in, int compat,
					 __s32 src)
{
	__u64 r[3] = {}; /* src_fd, src_offset, src_length */
	__u64 file, inode, size, p;

	in->at_entry = 1;
	if ((__u32)sc_arg(regs, 1, compat) == SE_FICLONERANGE) {
		in->syscall = SE_SC_FICLONERANGE;
		p = reg(&regs->dx); /* a pointer: 32 bits for ia32 */
		if (compat)
			p = (__u32)p;
		if (bpf_probe_read_user(r, sizeof(r), (void *)p))
			return -1;
		src = (__s32)r[0];
	}
	file = se_fd_file(src);
	inode = file ? se_kp_ptr(file + SE_OFF_FILE_F_INODE) : 0;
	size = inode ? se_kp_ptr(inode + SE_OFF_INODE_I_SIZE) : 0;
	/* a length of 0 clones to the source's end */
	in->arg = r[2] ? r[2] : size > r[1] ? size - r[1] : 0;
	return src;
}

/* A byte mover's source, tail-called from sys_enter (same context). */
int move_src(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct se_config *cfg = traced();
	struct se_call c;
	int compat;
	struct se_inflight *in = move_begin(ctx, cfg, &c, &compat);
	__s32 src;

	if (!in)
		return 0;
	__builtin_memset(in, 0, sizeof(*in));
	in->syscall = c.sc;
	src = sc_arg(regs, c.src, compat);
	if (c.sc == SE_SC_FICLONE)
		src = clone_begin(regs, in, compat, src);
	in->sides = decide(ctx, cfg, SE_READ, src, &in->side[0]);
	movers.call(ctx, tail_slot(SE_TAIL_MOVE_DST));
	return 0;
}

/* ... then its destination, and what the exit needs. */
int move_dst(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct se_config *cfg = traced();
	struct se_call c;
	int compat;
	struct se_inflight *in = move_begin(ctx, cfg, &c, &compat);

	if (!in)
		return 0;
	/*
	 * compat goes through map memory, not a register: a value the
	 * verifier knows (0 on one path, 1 on the other) would keep the two
	 * paths apart through the whole walk, twice its work (with 6.1's
	 * layouts, past its 1M limit). Loaded back it is unknown.
	 */
	in->compat = compat;
	/* Decided into map memory too, as move_src does: the side's fields
	 * on the stack, known per path, kept more paths apart. */
	in->sides |= decide(ctx, cfg, SE_WRITE, sc_arg(regs, c.dst, compat), &in->side[1]) << 1;
	if (in->sides)
		keep(regs, in, in->compat);
	return 0;
}

/*
 * Changes that are not writes. ftruncate, fallocate and mmap are decided
 * at entry, by the change program (tail-called from sys_enter: one more
 * inlined path walk in sys_enter would take 6.1's layouts near the
 * verifier's limit), and reported at exit if the call succeeded
 * (at_entry: the bytes are known at entry). O_TRUNC opens are decided at
 * their exit (trunc_open), from the fd they return.
 */

#define SE_FMODE_WRITE 0x2
#define SE_FMODE_CREATED 0x100000 /* the open made the file (6.1 to 6.18) */
#define SE_S_IFMT 0170000
#define SE_S_IFREG 0100000

/*
 * Shared mappings of files a store may write to (made by a traced process
 * whose writes some rule may match, through an fd open for writing:
 * mprotect may add PROT_WRITE later): inode -> the mapping's struct file.
 * A store dirties a page of the inode (writeback_dirty_folio below); the
 * file names it. LRU: a mapping long gone is evicted; the entry's file is
 * checked against the inode before use (a freed file's address is reused).
 */
BPF_TABLE("lru_hash", __u64, __u64, mapped, 4096);
/* 1 once mapped has had an entry: until then a dirtied page costs one
 * array read, not a hash lookup (most nodes never map a watched file). */
BPF_ARRAY(mapped_any, __u32, 1);

static __always_inline void map_track(struct se_config *cfg, __s32 fd)
{
	__u64 file, inode;
	int zero = 0;
	__u32 one = 1;

	if (!rule_candidates(cfg, SE_WRITE, NULL))
		return;
	file = se_fd_file(fd);
	if (!file || !(se_kp_u32(file + SE_OFF_FILE_F_MODE) & SE_FMODE_WRITE))
		return;
	inode = se_kp_ptr(file + SE_OFF_FILE_F_INODE);
	if (!inode)
		return;
	mapped.update(&inode, &file);
	mapped_any.update(&zero, &one);
}

/*
 * Into @in: the call's fd and what it would report; 0 when it is no event
 * (an allocation, a private or anonymous mapping, a read-only one), 2 when
 * it is a shared read-only mapping to remember (range_add) for mprotect.
 */
static __always_inline int change_args(struct pt_regs *regs, struct se_config *cfg,
				       struct se_inflight *in, int compat)
{
	__u64 a1 = sc_arg6(regs, 1, compat);

	in->side[0].fd = (__s32)sc_arg6(regs, in->syscall == SE_SC_MMAP ? 4 : 0, compat);
	switch (in->syscall) {
	case SE_SC_FTRUNCATE:
		/* the new length; ia32 ftruncate64 passes it in two halves */
		in->arg = a1;
		if (compat && reg(&regs->orig_ax) == 194)
			in->arg |= sc_arg6(regs, 2, 1) << 32;
		return 1;
	case SE_SC_FALLOCATE:
		if (!(a1 & SE_FALLOC_CHANGES))
			return 0;
		in->arg = compat ? sc_arg6(regs, 4, 1) | sc_arg6(regs, 5, 1) << 32
				 : sc_arg6(regs, 3, 0);
		return 1;
	case SE_SC_MMAP:
		if (!se_mmap_shared_file(sc_arg6(regs, 3, compat)))
			return 0;
		map_track(cfg, in->side[0].fd);
		in->arg = a1;
		return (sc_arg6(regs, 2, compat) & SE_PROT_WRITE) ? 1 : 2;
	case SE_SC_MPROTECT:
		/* (addr, len, prot): a range remembered made writable */
		if (!(sc_arg6(regs, 2, compat) & SE_PROT_WRITE))
			return 0;
		in->side[0].fd = -1;
		in->side[0].file = range_file(sc_arg6(regs, 0, compat));
		in->arg = a1;
		return in->side[0].file != 0;
	case SE_SC_OLD_MMAP: {
		/* Read from the caller's memory before the kernel copies it: a
		 * thread rewriting it in between is reported with what it
		 * said first (as AIO's iocbs). */
		struct se_mmap_arg_struct m = {};

		if (bpf_probe_read_user(&m, sizeof(m), (void *)sc_arg6(regs, 0, compat)) != 0 ||
		    !se_mmap_shared_file(m.flags))
			return 0;
		in->side[0].fd = (__s32)m.fd;
		map_track(cfg, in->side[0].fd);
		in->arg = m.len;
		return (m.prot & SE_PROT_WRITE) ? 1 : 2;
	}
	default: return 0;
	}
}

/* The change program's call (enter_scratch's at_entry stays 0). */
BPF_PERCPU_ARRAY(change_scratch, struct se_inflight, 1);

/* ftruncate, fallocate, mmap: tail-called from sys_enter (same context). */
int change_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct se_config *cfg = traced();
	int zero = 0, compat;
	struct se_inflight *in = change_scratch.lookup(&zero);
	struct se_call c;
	__u64 m, file;
	int what;

	if (!cfg || !in)
		return 0;
	c = enter_call(regs, ctx->args[1], &compat);
	__builtin_memset(in, 0, sizeof(*in));
	in->syscall = c.sc;
	in->compat = compat;
	in->at_entry = 1;
	in->sides = 1;
	in->side[0].kind = c.kind;
	what = c.kind ? change_args(regs, cfg, in, compat) : 0;
	if (!what)
		return 0;
	if (what == 2) {
		/* A read-only shared mapping through a writable fd, of a file
		 * a mapping rule may match: remembered at exit, not reported. */
		file = se_fd_file(in->side[0].fd);
		if (!file || !(se_kp_u32(file + SE_OFF_FILE_F_MODE) & SE_FMODE_WRITE) ||
		    !rule_candidates(cfg, SE_MMAP, NULL))
			return 0;
		in->track = 1;
		in->sides = 0;
		in->side[0].file = file;
		keep(regs, in, in->compat);
		return 0;
	}
	/* Decided from map memory (kind, fd, an mprotect's file): see
	 * on_enter_io. */
	m = candidates(cfg, in->side[0].kind, NULL);
	file = !m ? 0 : in->syscall == SE_SC_MPROTECT ? in->side[0].file : se_fd_file(in->side[0].fd);
	if (!file || !decide_file(ctx, cfg, m, in->side[0].kind, in->side[0].fd, file, &in->side[0]))
		return 0;
	if (in->syscall == SE_SC_FTRUNCATE) {
		/* The bytes cut: the size before, read now, minus the new one
		 * (0 when the file grows). */
		__u64 inode = se_kp_ptr(in->side[0].file + SE_OFF_FILE_F_INODE);
		__u64 size = inode ? se_kp_ptr(inode + SE_OFF_INODE_I_SIZE) : 0;

		in->arg = size > in->arg ? size - in->arg : 0;
	}
	keep(regs, in, in->compat);
	return 0;
}

/* Whether an O_TRUNC open of @file destroyed bytes: the file existed (the
 * open did not make it, FMODE_CREATED) and is a regular one. */
static __always_inline int open_truncated(__u64 file)
{
	__u64 inode;

	if (!file || (se_kp_u32(file + SE_OFF_FILE_F_MODE) & SE_FMODE_CREATED))
		return 0;
	inode = se_kp_ptr(file + SE_OFF_FILE_F_INODE);
	return inode && (se_kp_u32(inode + SE_OFF_INODE_I_MODE) & SE_S_IFMT) == SE_S_IFREG;
}

/* Which open trunc_open decides (the tail call loses sys_exit's locals),
 * and the side it or writeback_dirty_folio decides (per CPU: neither runs
 * inside the other, and tracepoint programs are not preempted). */
BPF_PERCPU_ARRAY(open_scratch, struct se_inflight, 1);

/*
 * An O_TRUNC open of a file that existed (not FMODE_CREATED) and is a
 * regular file, tail-called from sys_exit with the fd it returned. The size
 * before is gone: arg 0, SE_F_BYTES_UNKNOWN. What races allow: a thread
 * sharing the fd table may close or dup2 over the new fd before this runs
 * (a few instructions after the open returns), and the event then names
 * what is there, or is lost.
 */
int trunc_open(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	struct se_config *cfg = traced();
	int zero = 0;
	struct se_inflight *in = open_scratch.lookup(&zero);
	struct se_record r;
	__u64 m, file;

	if (!cfg || !in || ret < 0)
		return 0;
	file = se_fd_file((int)ret);
	if (!open_truncated(file))
		return 0; /* no truncation: neither seen nor filtered */
	m = candidates(cfg, SE_TRUNCATE, NULL);
	in->side[0] = (struct se_inflight_side){};
	if (!m || !decide_file(ctx, cfg, m, SE_TRUNCATE, (int)ret, file, &in->side[0]))
		return 0;
	fill(&r, SE_TRUNCATE, (int)ret, file, in->side[0].seq);
	r.flags = SE_F_BYTES_UNKNOWN;
	send_event(ctx, cfg, &r, &in->side[0], in->syscall, 0);
	return 0;
}

/*
 * At sys_exit of a successful open (@nr, 64-bit or ia32): if it truncated,
 * into trunc_open. The flags are read from the saved registers, which the
 * kernel does not change; openat2's from its struct open_how in user
 * memory, which the caller may change after the kernel copied it (a thread
 * flipping O_TRUNC there races this read: it can hide an openat2's
 * truncation, as AIO's iocbs can mislead).
 */
static __always_inline void exit_open(void *ctx, struct pt_regs *regs, struct se_open o,
				      int compat)
{
	int zero = 0;
	struct se_inflight *in;
	__u64 flags;

	if (o.flags == SE_OPEN_ALWAYS) {
		flags = SE_O_TRUNC;
	} else if (o.flags == SE_OPEN_HOW) {
		flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (void *)sc_arg6(regs, 2, compat));
	} else {
		flags = sc_arg6(regs, o.flags, compat);
	}
	if (!(flags & SE_O_TRUNC))
		return;
	/* A 64-bit open's number from an ia32 task is another call (2 is its
	 * fork, 85 readlink): checked only here, for opens that truncate. */
	if (!compat && o.sc != SE_SC_OPENAT2 && ia32_call())
		return;
	in = open_scratch.lookup(&zero);
	if (!in)
		return;
	in->syscall = o.sc;
	movers.call(ctx, tail_slot(SE_TAIL_TRUNC_OPEN));
}

/*
 * A page of a file made dirty (args: folio, address_space), in the task
 * that dirtied it. For a page of a file in the mapped map, by a task in no
 * write of its own (a store through the mapping, or a read(2) into one):
 * reported as a write of the mapping's file, SE_SC_MAPPED_STORE, of one
 * page, flagged SE_F_UNCONFIRMED. Only the first store to a clean page
 * dirties it: until writeback cleans it (dirty_expire_centisecs, 30 s by
 * default), more stores to that page are not seen. Stores through a
 * mapping made before the agent started are not seen either (no entry).
 */
RAW_TRACEPOINT_PROBE(writeback_dirty_folio)
{
	__u64 mapping = ctx->args[1], inode, *f, file;
	int zero = 0;
	__u32 *any = mapped_any.lookup(&zero), tid;
	struct se_config *cfg;
	struct se_inflight *in;
	struct se_record r;
	__u64 m;

	if (!any || !*any || !mapping)
		return 0;
	inode = se_kp_ptr(mapping + SE_OFF_ADDRESS_SPACE_HOST);
	f = inode ? mapped.lookup(&inode) : NULL;
	if (!f)
		return 0;
	file = *f;
	if (se_kp_ptr(file + SE_OFF_FILE_F_INODE) != inode) {
		mapped.delete(&inode); /* the file was freed: its address reused */
		return 0;
	}
	cfg = traced();
	tid = (__u32)bpf_get_current_pid_tgid();
	/* A write the probe reports itself (write(2), a mover) dirties the
	 * page too: not a store. */
	if (!cfg || inflight.lookup(&tid))
		return 0;
	in = open_scratch.lookup(&zero);
	m = in ? candidates(cfg, SE_WRITE, NULL) : 0;
	if (!m)
		return 0;
	in->side[0] = (struct se_inflight_side){};
	if (!decide_file(ctx, cfg, m, SE_WRITE, -1, file, &in->side[0]))
		return 0;
	fill(&r, SE_WRITE, -1, file, in->side[0].seq);
	r.flags = SE_F_UNCONFIRMED;
	send_event(ctx, cfg, &r, &in->side[0], SE_SC_MAPPED_STORE, 4096);
	return 0;
}

/*
 * Renames and links (struct se_nameop_record): at the successful exit of
 * one by a task some rename or link rule may match, the call's arguments
 * go into the per-CPU record, two tail calls fill one side each (each
 * side's path walk is a program's worth for the verifier, see movers) and
 * a third sends it (name_send). What races allow: the names are read from user
 * memory at exit, after the kernel copied them at entry, so a thread of the
 * caller that rewrites them in between has its rename reported under the
 * names it wrote (and a directory fd it closes or replaces, or a chdir of
 * the cwd the threads share, names another directory); the walks and user space's lookup come after the call, so a
 * directory renamed meanwhile gives its new name.
 */
BPF_PERCPU_ARRAY(nameop_scratch, struct se_nameop_record, 1);

static __always_inline void exit_nameop(void *ctx, struct pt_regs *regs, __u64 nr)
{
	struct se_nameop o = se_nameop64(nr);
	struct se_nameop_record *rec;
	struct se_config *cfg;
	int zero = 0, compat = 0;

	if (!o.sc) {
		o = se_nameop32(nr);
		compat = 1;
		if (!o.sc)
			return;
	}
	/* The numbers of one ABI are other calls in the other (64-bit 9 is
	 * mmap, ia32 265 clock_gettime): one kernel read tells. */
	if (ia32_call() != compat)
		return;
	cfg = traced();
	rec = nameop_scratch.lookup(&zero);
	if (!cfg || !rec || !candidates(cfg, o.kind, NULL))
		return;
	fill(&rec->r, o.kind, -1, 0, 0);
	rec->r.syscall = o.sc;
	/* a truncate(2)'s bytes: the size before is gone, as an O_TRUNC open's */
	rec->r.flags = SE_F_PENDING | SE_F_BY_NAME | (o.oname < 0 ? SE_F_BYTES_UNKNOWN : 0);
	rec->r.arg = o.flags < 0 ? 0 : (__u32)sc_arg6(regs, o.flags, compat);
	rec->side[0].dfd = o.odfd < 0 ? SE_AT_FDCWD : (__s32)sc_arg6(regs, o.odfd, compat);
	rec->side[1].dfd = o.ndfd < 0 ? SE_AT_FDCWD : (__s32)sc_arg6(regs, o.ndfd, compat);
	rec->side[0].kstr = rec->side[1].kstr = 0; /* the caller's memory */
	rec->r.fd = rec->side[1].dfd;
	/* The names' addresses, until the sides read them (r.mask and
	 * r.file are 0 in the record sent). */
	rec->r.mask = o.oname < 0 ? 0 : sc_arg6(regs, o.oname, compat);
	rec->r.file = sc_arg6(regs, o.nname, compat);
	if (o.oname < 0) {
		/* one name (truncate): side[0] is none */
		rec->side[0].len = 0;
		rec->side[0].base = SE_NB_NONE;
		movers.call(ctx, tail_slot(SE_TAIL_NAME_NEW));
		return;
	}
	movers.call(ctx, tail_slot(SE_TAIL_NAME_OLD));
}

/*
 * One side of the record in the scratch: its name from user memory, and the
 * walk of the directory the kernel looked it up from (enum se_nameop_base).
 */
static __always_inline void nameop_side(struct se_config *cfg, struct se_nameop_record *rec,
					struct se_nameop_side *sd, __u64 name)
{
	__u64 task = bpf_get_current_task();
	__u64 fs = se_kp_ptr(task + SE_OFF_TASK_STRUCT_FS);
	__u64 path = 0, file;
	long n;

	n = sd->kstr ? bpf_probe_read_kernel_str(sd->str, sizeof(sd->str), (void *)name)
		     : bpf_probe_read_user_str(sd->str, sizeof(sd->str), (void *)name);
	sd->len = n > 0 ? n : 0;
	sd->base = SE_NB_NONE;
	if (n <= 0) {
		se_kpath_walk_at(&sd->kp, 0, 0, cfg->host_mntns);
		return;
	}
	if (sd->str[0] == '/') {
		sd->base = SE_NB_ROOT;
		path = fs ? fs + SE_OFF_FS_STRUCT_ROOT : 0;
	} else if (sd->dfd == SE_AT_FDCWD) {
		sd->base = SE_NB_CWD;
		path = fs ? fs + SE_OFF_FS_STRUCT_PWD : 0;
	} else {
		/* linkat(fd, "", .., AT_EMPTY_PATH): the fd is the file
		 * itself (an O_TMPFILE given a name). */
		sd->base = n == 1 && sd == &rec->side[0] && rec->r.kind == SE_LINK &&
					   (rec->r.arg & SE_AT_EMPTY_PATH)
				   ? SE_NB_FILE
				   : SE_NB_DIRFD;
		file = se_fd_file(sd->dfd);
		path = file ? file + SE_OFF_FILE_F_PATH : 0;
	}
	se_kpath_walk_at(&sd->kp, path,
			 path ? se_kp_ptr(se_kp_ptr(path + SE_OFF_PATH_DENTRY) +
					  SE_OFF_DENTRY_D_INODE)
			      : 0,
			 cfg->host_mntns);
}

/*
 * The program of side @side (a constant in each: the verifier sees one
 * side's code): its name (the address kept in r.mask for the old one,
 * r.file for the new) and walk, then the next program: the new side's,
 * or the send. Two programs, one walk each: both in one took 6.1's
 * layouts past the verifier's 1M-instruction limit.
 */
static __always_inline int name_side_prog(void *ctx, const int side)
{
	struct se_config *cfg = traced();
	int zero = 0;
	struct se_nameop_record *rec = nameop_scratch.lookup(&zero);

	if (!cfg || !rec)
		return 0;
	nameop_side(cfg, rec, &rec->side[side], side ? rec->r.file : rec->r.mask);
	if (side)
		rec->r.mask = rec->r.file = 0;
	movers.call(ctx, tail_slot(side ? SE_TAIL_NAME_SEND : SE_TAIL_NAME_NEW));
	return 0;
}

int name_old(struct bpf_raw_tracepoint_args *ctx)
{
	return name_side_prog(ctx, 0);
}

int name_new(struct bpf_raw_tracepoint_args *ctx)
{
	return name_side_prog(ctx, 1);
}

/*
 * The record, in a program of its own: after a walk, each state the
 * verifier carries out of it runs the code that follows, and the rate
 * limit's lookups took name_new past the 1M-instruction limit with 6.1's
 * layouts. Not decided in the kernel (pending: user space resolves the
 * names and matches the rules), and limited like a decided event: a
 * process renaming in a loop must not fill the buffer with records no
 * limit holds back.
 */
int name_send(struct bpf_raw_tracepoint_args *ctx)
{
	struct se_config *cfg = traced();
	int zero = 0;
	struct se_nameop_record *rec = nameop_scratch.lookup(&zero);
	__u16 kind;

	if (!cfg || !rec)
		return 0;
	kind = rec->r.kind;
	if (!rate_ok(cfg, rec->r.tgid, rec->r.ts_ns)) {
		rate_suppressed(rec->r.tgid, kind);
		return 0;
	}
	count(SE_CTR_PENDING);
	if (emit(ctx, rec, sizeof(*rec), 0) != 0)
		count(SE_CTR_DROP_READ_MATCHED + 2 * type_of(kind) + 1);
	return 0;
}

/* A successful munmap or mremap (64-bit @nr, or ia32): the ranges
 * remembered for mprotect forgotten or moved. */
static __always_inline void exit_unmap(struct pt_regs *regs, __u64 nr, long ret)
{
	int zero = 0, compat = 0, how = se_unmaps64(nr);
	__u32 *any;

	if (!how) {
		how = se_unmaps32(nr);
		compat = 1;
	}
	if (!how)
		return;
	any = ranges_any.lookup(&zero);
	/* ia32 munmap and mremap are 64-bit fchmod and acct: one kernel
	 * read tells, for those numbers only */
	if (!any || !*any || (compat && !ia32_call()))
		return;
	if (how == 2 && (unsigned long)ret >= (unsigned long)-4095)
		return;
	range_unmap(how, sc_arg6(regs, 0, compat), sc_arg6(regs, 1, compat),
		    sc_arg6(regs, 2, compat), ret);
}

/* A rename or mount change happened: every name computed before may be stale. */
static __always_inline void bump_epoch(void)
{
	int zero = 0;
	__u32 *ep = epoch.lookup(&zero);

	if (ep)
		__sync_fetch_and_add(ep, 1);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = (long)ctx->args[1];
	struct se_open o;
	__u64 nr;

	nr = reg(&regs->orig_ax);
	/*
	 * A 32-bit read's numbers are frequent 64-bit calls (close): for
	 * them the kernel read that tells an ia32 call is cheaper than
	 * the in-flight map's lookup it spares: an open or close's exit ran
	 * 108 ns with the lookup, 71 with the read, 76 before 32-bit calls
	 * were decoded (LOAD_MODE=open-close bash test/bench/bpf_stats.sh 5).
	 */
	/* ia32 openat's number is x86_64's preadv: an open, not a read; its
	 * link's is mmap (exit_nameop). */
	if ((se_decode64(nr).sc && !((nr == 295 || nr == 9) && ia32_call())) ||
	    (se_decode32(nr).sc && ia32_call())) {
		/* io_submit returns the iocbs it took: those past where its
		 * entry's tail calls ran out were not looked at (aio_iocb).
		 * From the return value, not the nr asked for, which the
		 * kernel cuts to its context's size and a process may make
		 * as large as it likes. */
		if (ret > 0 && (se_decode64(nr).sc == SE_SC_AIO ||
				(se_decode32(nr).sc == SE_SC_AIO && ia32_call())))
			aio_end(ret);
		/* An ioctl that is no reflink has nothing in flight: a register
		 * read instead of the in-flight map's lookup (LOAD_MODE=ioctl
		 * bash test/bench/bpf_stats.sh: see the README's figures). */
		if (nr == 16 && !se_clone_cmd((__u32)reg(&regs->si)))
			return 0;
		/* ... nor has an mprotect that does not matter (its entry
		 * went no further): the same test as there, registers kept. */
		if (nr == 10 && !mprotect_matters(regs, 0))
			return 0;
		on_exit_io(ctx, ret);
		return 0;
	}
	o = se_open64(nr);
	if (o.sc && ret >= 0) {
		exit_open(ctx, regs, o, 0);
		return 0;
	}
	/* ia32 opens whose numbers are other 64-bit calls (fstat, lseek):
	 * one kernel read tells, as for reads. */
	o = se_open32(nr);
	if (o.sc && ret >= 0 && ia32_call()) {
		exit_open(ctx, regs, o, 1);
		return 0;
	}
	/*
	 * A rename or mount change: a name computed before may no longer be
	 * the file's, every file is named again at its next event. Any task,
	 * the agent's too: a stale name is what matters. A 64-bit rename
	 * number called by a 32-bit task is something else (harmless: one
	 * more walk per file); the 32-bit ones are frequent 64-bit calls
	 * (ia32 rename is setitimer, pivot_root getdents64), so for those the
	 * kernel read tells.
	 */
	if (ret >= 0 && (se_renames64(nr) || (se_renames32(nr) && ia32_call())))
		bump_epoch();
	if (ret >= 0)
		exit_unmap(regs, nr, ret);
	if (ret == 0)
		exit_nameop(ctx, regs, nr);
	return 0;
}

/*
 * io_uring. A request never passes through a read or write syscall (with
 * an SQPOLL ring not through any syscall), so it is followed by the
 * io_uring tracepoints, with the request's layout from BTF:
 *
 *   io_uring_submit_req(req)      prepared, not yet issued: opcode, flags,
 *                                 fd (or registered slot) and length are set,
 *                                 the file is not (it is taken at issue)
 *   io_uring_file_get(req, fd)    at issue, right after the kernel took the
 *                                 file of a plain fd (never a registered one)
 *   io_uring_complete(.., req, ..) the completion posted: bytes moved, and
 *                                 req->file is the file they moved to or from
 *
 * A request is kept from submission (who submitted it: tgid, tid, comm) to
 * its completion, keyed by its address, and decided there from req->file:
 * the file the kernel used, whatever the fd or slot meant at submission (a
 * sibling may dup2 over the fd, or the slot be replaced, while a linked
 * timeout holds the request). A request with IOSQE_CQE_SKIP_SUCCESS posts no
 * completion when it succeeds: it is decided when issued instead, from the
 * fd table at io_uring_file_get, or from the ring's registered files at
 * submission (no tracepoint at issue sees a registered file; a slot
 * replaced between the two is the one thing this misses), and reported with
 * the bytes it asked for, flagged SE_F_UNCONFIRMED.
 *
 * Built only where BTF gives every layout needed (SE_URING); without it
 * the agent loads the rest and says io_uring requests are not seen.
 */
#if !defined(SE_HEADERS) && defined(SE_OFF_IO_KIOCB_FILE) && defined(SE_OFF_IO_KIOCB_OPCODE) &&    \
	defined(SE_OFF_IO_KIOCB_FLAGS) && defined(SE_OFF_IO_KIOCB_CQE_FD) &&                       \
	defined(SE_OFF_IO_KIOCB_CTX) && defined(SE_OFF_IO_RW_ADDR) && defined(SE_OFF_IO_RW_LEN) && \
	defined(SE_OFF_IO_RING_CTX_FILE_TABLE) &&                                                  \
	((defined(SE_OFF_IO_FILE_TABLE_DATA_NODES) && defined(SE_OFF_IO_FILE_TABLE_DATA_NR) &&     \
	  defined(SE_OFF_IO_RSRC_NODE_FILE_PTR)) ||                                                \
	 (defined(SE_OFF_IO_FILE_TABLE_FILES) && defined(SE_OFF_IO_RING_CTX_NR_USER_FILES) &&      \
	  defined(SE_OFF_IO_FIXED_FILE_FILE_PTR))) &&                                              \
	(SE_URING_COMPLETE_ARGS == 3 || SE_URING_COMPLETE_ARGS == 7)
#define SE_URING 1

/* Request flags: the low bits mirror the IOSQE_* ones (uapi) by design
 * (REQ_F_FIXED_FILE_BIT = IOSQE_FIXED_FILE_BIT ...), in 6.1's u32 and
 * 6.18's u64 alike. */
#define SE_REQ_F_FIXED_FILE (1U << 0)
#define SE_REQ_F_CQE_SKIP (1U << 6)
/* A registered file's pointer carries flags in its low bits (FFS_NOWAIT,
 * FFS_ISREG, 6.1's FFS_SCM); a struct file is at least 8-byte aligned. */
#define SE_FFS_MASK 7ULL

/* The opcodes beyond reads and writes, each where BTF gives its request's
 * layout (the command area at the request's start, as io_rw's). */
#if defined(SE_OFF_IO_SYNC_LEN) && defined(SE_OFF_IO_SYNC_MODE)
#define SE_URING_FALLOC 1
#endif
#ifdef SE_OFF_IO_FTRUNC_LEN
#define SE_URING_FTRUNC 1 /* IORING_OP_FTRUNCATE: 6.9 */
#endif
#if defined(SE_OFF_IO_OPEN_FILE_SLOT) && defined(SE_OFF_IO_OPEN_HOW_FLAGS)
#define SE_URING_OPEN 1
#endif
#if defined(SE_OFF_IO_SPLICE_LEN) && defined(SE_OFF_IO_SPLICE_SPLICE_FD_IN) &&                     \
	defined(SE_OFF_IO_SPLICE_FLAGS)
#define SE_URING_SPLICE 1
#endif
#define SE_SPLICE_F_FD_IN_FIXED (1U << 31) /* uapi io_uring.h */
#define SE_FILE_INDEX_ALLOC 0xffffffffU	   /* IORING_FILE_INDEX_ALLOC, uapi */

/* Whether requests of kind @how are followed on this kernel. */
static __always_inline int uring_built(__u8 how)
{
	switch (how) {
	case SE_UOP_RW: return 1;
#ifdef SE_URING_FALLOC
	case SE_UOP_FALLOC: return 1;
#endif
#ifdef SE_URING_FTRUNC
	case SE_UOP_FTRUNC: return 1;
#endif
#ifdef SE_URING_OPEN
	case SE_UOP_OPEN: return 1;
#endif
#ifdef SE_URING_SPLICE
	case SE_UOP_SPLICE: return 1;
#endif
	default: return 0;
	}
}

/* A request from submission to completion. */
struct se_uring_req {
	struct se_inflight_side side; /* its file: the read, write or truncation */
	struct se_inflight_side in;   /* a splice's input: its read, once decided */
	__u64 want;		      /* bytes asked for (requests without a completion, and
				       * a truncation's, which its completion does not say) */
	__u64 rules;		      /* candidates() of side, at submission (0: side done) */
	__u64 in_rules;		      /* ... of a splice's input read (0: none, or done) */
	__u32 tgid, tid;
	char comm[SE_COMM_LEN];
	__s32 in_fd; /* a splice's input: fd, or registered slot if in_fixed */
	__u32 slot;  /* an open's file_slot: 0 an fd, else a registered slot + 1 */
	__u8 opcode, kind, skip, fixed, how, in_fixed, in_ok, pad;
};

/* LRU: a request that never completes (its ring torn down) is evicted; a
 * request's address is reused by a later one, whose submission overwrites
 * the entry, and a completion checks the opcode too. */
BPF_TABLE("lru_hash", __u64, struct se_uring_req, uring_reqs, SE_INFLIGHT_ENTRIES);
BPF_PERCPU_ARRAY(uring_scratch, struct se_uring_req, 1);

static __always_inline __u8 req_opcode(__u64 req)
{
	__u8 op = 0;

	bpf_probe_read_kernel(&op, 1, (void *)(req + SE_OFF_IO_KIOCB_OPCODE));
	return op;
}

static __always_inline __u64 se_kp_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)addr);
	return v;
}

/* The file in registered slot @idx of @req's ring (0: none). */
static __always_inline __u64 uring_fixed_file(__u64 req, __u32 idx)
{
	__u64 ring = se_kp_ptr(req + SE_OFF_IO_KIOCB_CTX), ptr;

	if (!ring)
		return 0;
#ifdef SE_OFF_IO_FILE_TABLE_DATA_NODES
	{
		/* 6.18: file_table.data = { nr, nodes[] }, nodes of io_rsrc_node * */
		__u64 tbl = ring + SE_OFF_IO_RING_CTX_FILE_TABLE;
		__u64 nodes = se_kp_ptr(tbl + SE_OFF_IO_FILE_TABLE_DATA_NODES), node;

		if (!nodes || idx >= se_kp_u32(tbl + SE_OFF_IO_FILE_TABLE_DATA_NR))
			return 0;
		node = se_kp_ptr(nodes + 8 * (__u64)idx);
		ptr = node ? se_kp_ptr(node + SE_OFF_IO_RSRC_NODE_FILE_PTR) : 0;
	}
#else
	{
		/* 6.1: file_table.files[], an array of io_fixed_file { file_ptr } */
		__u64 files = se_kp_ptr(ring + SE_OFF_IO_RING_CTX_FILE_TABLE +
					SE_OFF_IO_FILE_TABLE_FILES);

		if (!files || idx >= se_kp_u32(ring + SE_OFF_IO_RING_CTX_NR_USER_FILES))
			return 0;
		ptr = se_kp_ptr(files + 8 * (__u64)idx + SE_OFF_IO_FIXED_FILE_FILE_PTR);
	}
#endif
	return ptr & ~SE_FFS_MASK;
}

/* The file of @req's fd or registered slot (as its flags say), now. */
static __always_inline __u64 uring_req_file(__u64 req, struct se_uring_req *q)
{
	__u32 fd = se_kp_u32(req + SE_OFF_IO_KIOCB_CQE_FD);

	return q->fixed ? uring_fixed_file(req, fd) : se_fd_file((int)fd);
}

/* The bytes @req asks for: its length, or for a vectored request the sum
 * of its iovecs (iov_bytes: read from the submitter's memory). */
static __always_inline __u64 uring_want(__u64 req, int vec)
{
	__u32 len = se_kp_u32(req + SE_OFF_IO_RW_LEN);

	return vec ? iov_bytes(se_kp_ptr(req + SE_OFF_IO_RW_ADDR), len, 0) : len;
}

/*
 * Send side @s of request @q, decided, under its submitter's name: @bytes
 * moved (a completion's), or if @issue (a constant: no completion will
 * come) asked for, flagged SE_F_UNCONFIRMED. An open's bytes are none
 * (SE_F_BYTES_UNKNOWN). The flags are worked out here, from map memory,
 * not passed: a constant per path before a walk is a state of its own to
 * the verifier (io_uring_complete: 86k -> 168k instructions).
 */
static __always_inline void uring_send(void *ctx, struct se_config *cfg, struct se_uring_req *q,
				       struct se_inflight_side *s, __u64 bytes, const int issue)
{
	__u16 flags = issue ? SE_F_UNCONFIRMED : q->how == SE_UOP_OPEN ? SE_F_BYTES_UNKNOWN : 0;
	struct se_record r;

	fill(&r, s->kind, s->fd, s->file, s->seq);
	/* The issuing or completing task may be an io-wq worker or the SQPOLL
	 * thread (iou-wrk-N, iou-sqp-N, threads of the same process): the
	 * record names whoever submitted the request. */
	r.tgid = q->tgid;
	r.tid = q->tid;
	__builtin_memcpy(r.comm, q->comm, SE_COMM_LEN);
	r.flags = flags;
	send_event(ctx, cfg, &r, s, SE_SC_IO_URING, bytes);
}

/* Decide request @q's read, write or truncation of @file and, if it is an
 * event, send it (uring_send). */
static __always_inline void uring_event(void *ctx, struct se_config *cfg, struct se_uring_req *q,
					__u64 file, __u64 bytes, const int issue)
{
	if (decide_file(ctx, cfg, q->rules, q->kind, q->side.fd, file, &q->side))
		uring_send(ctx, cfg, q, &q->side, bytes, issue);
}

/* Rules of @kind that may match the current task: candidates(), or when
 * @again (seen and counted at submission) counted only if some may. */
static __always_inline __u64 uring_rules(struct se_config *cfg, __u16 kind, char *comm, int again)
{
	__u64 m;

	if (!again)
		return candidates(cfg, kind, comm);
	m = rule_candidates(cfg, kind, comm);
	if (m)
		count(SE_CTR_SEEN);
	return m;
}

/*
 * What @q needs of request @req beyond its file (@u.how): 0 when it is no
 * event. The request's own copy of its arguments (the command area,
 * written at submission): no user memory but a vectored request's iovecs.
 */
static __always_inline int uring_args(__u64 req, struct se_uop u, struct se_uring_req *q)
{
	switch (u.how) {
	case SE_UOP_RW:
		if (q->skip)
			q->want = uring_want(req, u.vec);
		return 1;
#ifdef SE_URING_FALLOC
	case SE_UOP_FALLOC:
		/* a plain allocation changes no byte */
		if (!(se_kp_u32(req + SE_OFF_IO_SYNC_MODE) & SE_FALLOC_CHANGES))
			return 0;
		q->want = se_kp_u64(req + SE_OFF_IO_SYNC_LEN);
		return 1;
#endif
#ifdef SE_URING_FTRUNC
	case SE_UOP_FTRUNC: {
		/* The bytes cut: the size now minus the new one. Now is the
		 * submission (the request's entry lost, its completion: 0);
		 * a write linked ahead of it may change the size meanwhile. */
		__u64 file = uring_req_file(req, q), len = se_kp_u64(req + SE_OFF_IO_FTRUNC_LEN);
		__u64 inode = file ? se_kp_ptr(file + SE_OFF_FILE_F_INODE) : 0;
		__u64 size = inode ? se_kp_ptr(inode + SE_OFF_INODE_I_SIZE) : 0;

		q->want = size > len ? size - len : 0;
		return 1;
	}
#endif
#ifdef SE_URING_OPEN
	case SE_UOP_OPEN:
		/* cqe.fd is the directory fd; the file is known at completion.
		 * With CQE_SKIP_SUCCESS there is none: by name at submission
		 * (uring_nameop), not here. */
		if (q->skip || !(se_kp_u64(req + SE_OFF_IO_OPEN_HOW_FLAGS) & SE_O_TRUNC))
			return 0;
		q->side.fd = -1;
		q->slot = se_kp_u32(req + SE_OFF_IO_OPEN_FILE_SLOT);
		return 1;
#endif
#ifdef SE_URING_SPLICE
	case SE_UOP_SPLICE:
		if (q->skip)
			q->want = se_kp_u64(req + SE_OFF_IO_SPLICE_LEN);
		q->in_fd = (__s32)se_kp_u32(req + SE_OFF_IO_SPLICE_SPLICE_FD_IN);
		q->in_fixed = !!(se_kp_u32(req + SE_OFF_IO_SPLICE_FLAGS) & SE_SPLICE_F_FD_IN_FIXED);
		return 1;
#endif
	default: return 0;
	}
}

/*
 * @q for request @req (@u), as its submission would make it, by the
 * current task: 0 when no rule can match it. @again: the request was seen
 * at submission and counted then (its entry is gone: evicted, or the probe
 * attached since), so it is counted only if kept.
 */
static __always_inline int uring_begin(struct se_config *cfg, __u64 req, __u8 op, struct se_uop u,
				       struct se_uring_req *q, int again)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 flags;

	if ((id >> 32) == cfg->self_tgid)
		return 0; /* the agent: never traced */
	__builtin_memset(q, 0, sizeof(*q));
	bpf_get_current_comm(&q->comm, sizeof(q->comm));
	q->rules = uring_rules(cfg, u.kind, q->comm, again);
	/* A splice reads its input too (a splice of a file into a pipe). */
	if (u.how == SE_UOP_SPLICE)
		q->in_rules = uring_rules(cfg, SE_READ, q->comm, again);
	if (!q->rules && !q->in_rules)
		return 0;
	q->tgid = id >> 32;
	q->tid = (__u32)id;
	q->opcode = op;
	q->kind = u.kind;
	q->how = u.how;
	flags = se_kp_u32(req + SE_OFF_IO_KIOCB_FLAGS);
	q->fixed = !!(flags & SE_REQ_F_FIXED_FILE);
	q->skip = !!(flags & SE_REQ_F_CQE_SKIP);
	q->side.fd = q->fixed ? -1 : (__s32)se_kp_u32(req + SE_OFF_IO_KIOCB_CQE_FD);
	q->in.fd = -1;
	return uring_args(req, u, q);
}

/*
 * A splice's input, decided in a program of its own (uring_in: a second
 * path walk in the caller would double what the verifier explores).
 */
struct se_uring_in {
	__u64 req, file;
	__s32 fd; /* -1: a registered file */
	__u32 pad;
};
BPF_PERCPU_ARRAY(uring_in_scratch, struct se_uring_in, 1);

static __always_inline void uring_in_call(void *ctx, __u64 req, __u64 file, __s32 fd)
{
	int zero = 0;
	struct se_uring_in *a = uring_in_scratch.lookup(&zero);

	if (!a || !file)
		return;
	a->req = req;
	a->file = file;
	a->fd = fd;
	movers.call(ctx, tail_slot(SE_TAIL_URING_IN));
}

/*
 * The input of a splice request, taken by the kernel (at issue; a
 * registered one at submission): decided, and kept for the completion's
 * bytes, or, if none will be posted, sent now with the bytes asked for.
 */
int uring_in(struct bpf_raw_tracepoint_args *ctx)
{
	int zero = 0;
	struct se_uring_in *a = uring_in_scratch.lookup(&zero);
	struct se_config *cfg = config.lookup(&zero);
	struct se_uring_req *q = uring_scratch.lookup(&zero), *e;
	__u64 req;

	if (!a || !cfg || !q)
		return 0;
	req = a->req;
	e = uring_reqs.lookup(&req);
	if (!e || e->how != SE_UOP_SPLICE || !e->in_rules || e->in_ok)
		return 0;
	*q = *e; /* to the scratch: see uring_entry */
	if (!decide_file(ctx, cfg, q->in_rules, SE_READ, a->fd, a->file, &q->in)) {
		q->in_rules = 0;
	} else if (q->skip) {
		uring_send(ctx, cfg, q, &q->in, q->want, 1);
		q->in_rules = 0;
	} else {
		q->in_ok = 1;
	}
	if (!q->rules && !q->in_ok)
		uring_reqs.delete(&req); /* nothing more to report */
	else
		uring_reqs.update(&req, q);
	return 0;
}

#if defined(SE_OFF_IO_RENAME_OLD_DFD) && defined(SE_OFF_IO_RENAME_NEW_DFD) &&                      \
	defined(SE_OFF_IO_RENAME_OLDPATH) && defined(SE_OFF_IO_RENAME_NEWPATH) &&                  \
	defined(SE_OFF_IO_RENAME_FLAGS) && defined(SE_OFF_IO_LINK_OLD_DFD) &&                      \
	defined(SE_OFF_IO_LINK_NEW_DFD) && defined(SE_OFF_IO_LINK_OLDPATH) &&                      \
	defined(SE_OFF_IO_LINK_NEWPATH) && defined(SE_OFF_IO_LINK_FLAGS) &&                        \
	defined(SE_OFF_FILENAME_NAME)
#define SE_URING_NAMES 1

/* The kernel's copy of a name (struct filename *) at @req + @off. */
static __always_inline __u64 uring_name(__u64 req, __u64 off)
{
	__u64 f = se_kp_ptr(req + off);

	return f ? se_kp_ptr(f + SE_OFF_FILENAME_NAME) : 0;
}

/* The record of an io_uring request of @kind reported by the names it
 * gives, at submission: its success unknown, user space to resolve them. */
static __always_inline void uring_name_record(struct se_nameop_record *rec, __u16 kind)
{
	fill(&rec->r, kind, -1, 0, 0);
	rec->r.syscall = SE_SC_IO_URING;
	rec->r.flags = SE_F_PENDING | SE_F_BY_NAME | SE_F_UNCONFIRMED;
}

#if defined(SE_URING_OPEN) && defined(SE_OFF_IO_OPEN_DFD) && defined(SE_OFF_IO_OPEN_FILENAME)
/* @rec (its header filled) named by open request @open's one name, as
 * truncate(2)'s: walked and sent by name_new, name_send (tail calls). */
static __always_inline void uring_open_name(void *ctx, struct se_nameop_record *rec, __u64 open)
{
	rec->side[0].len = 0;
	rec->side[0].base = SE_NB_NONE;
	rec->side[1].dfd = (__s32)se_kp_u32(open + SE_OFF_IO_OPEN_DFD);
	rec->r.fd = rec->side[1].dfd;
	rec->side[1].kstr = 1;
	rec->r.mask = 0;
	rec->r.file = uring_name(open, SE_OFF_IO_OPEN_FILENAME);
	movers.call(ctx, tail_slot(SE_TAIL_NAME_NEW));
}
#endif

/*
 * An io_uring RENAMEAT or LINKAT (@kind), or an OPENAT with O_TRUNC and
 * CQE_SKIP_SUCCESS (SE_TRUNCATE: no completion will say which file it
 * opened), at submission: the record a rename(2), link(2) or truncate(2)
 * would give (name_old, name_new, name_send), its
 * names read from the request's kernel copies (made at its preparation:
 * no thread can rewrite them), its directories walked now, in the
 * submitter (the SQPOLL thread shares its fs and fds). Sent now, flagged
 * SE_F_UNCONFIRMED: the names are freed by the time it completes, and a
 * 17 KiB record per request in flight is too much to keep. A rename that
 * then fails is reported all the same; a directory fd replaced between
 * submission and issue names the directory it was.
 */
static __always_inline void uring_nameop(void *ctx, __u64 req, __u8 kind)
{
	struct se_config *cfg = traced();
	int zero = 0;
	struct se_nameop_record *rec = nameop_scratch.lookup(&zero);
	int ren = kind == SE_RENAME;

	if (!cfg || !rec || !candidates(cfg, kind, NULL))
		return;
	uring_name_record(rec, kind);
#if defined(SE_URING_OPEN) && defined(SE_OFF_IO_OPEN_DFD) && defined(SE_OFF_IO_OPEN_FILENAME)
	if (kind == SE_TRUNCATE) {
		/* one name, as truncate(2)'s; the size before is unknown */
		rec->r.flags |= SE_F_BYTES_UNKNOWN;
		rec->r.arg = 0;
		uring_open_name(ctx, rec, req);
		return;
	}
#endif
	rec->r.arg = se_kp_u32(req + (ren ? SE_OFF_IO_RENAME_FLAGS : SE_OFF_IO_LINK_FLAGS));
	rec->side[0].dfd =
		(__s32)se_kp_u32(req + (ren ? SE_OFF_IO_RENAME_OLD_DFD : SE_OFF_IO_LINK_OLD_DFD));
	rec->side[1].dfd =
		(__s32)se_kp_u32(req + (ren ? SE_OFF_IO_RENAME_NEW_DFD : SE_OFF_IO_LINK_NEW_DFD));
	rec->r.fd = rec->side[1].dfd;
	rec->side[0].kstr = rec->side[1].kstr = 1;
	/* the names' addresses, as exit_nameop keeps them */
	rec->r.mask = uring_name(req, ren ? SE_OFF_IO_RENAME_OLDPATH : SE_OFF_IO_LINK_OLDPATH);
	rec->r.file = uring_name(req, ren ? SE_OFF_IO_RENAME_NEWPATH : SE_OFF_IO_LINK_NEWPATH);
	movers.call(ctx, tail_slot(SE_TAIL_NAME_OLD));
}
#endif

#if defined(SE_URING_NAMES) && defined(SE_URING_OPEN) && defined(SE_OFF_IO_OPEN_DFD) &&             \
	defined(SE_OFF_IO_OPEN_FILENAME)
#define SE_URING_SLOT_OPENS 1
/*
 * Opens into a registered slot (OPENAT, OPENAT2 with a file_index), by
 * (ring, slot): what a request on a slot still empty at its submission
 * goes to. Such a request that will post no completion (CQE_SKIP_SUCCESS)
 * is seen by no tracepoint after its submission (io_uring_file_get skips
 * registered files), and the open linked ahead of it fills the slot only
 * once both are submitted: it is reported by that open's name
 * (uring_by_open). An IORING_FILE_INDEX_ALLOC open is kept under slot
 * SE_FILE_INDEX_ALLOC: which slot the kernel picks is known only when it
 * runs (and a process can predict it: the lowest free one), so a request
 * on an empty slot with no open of its own takes its ring's latest such
 * open. LRU; an entry goes at its open's completion, and one whose request
 * memory was reused since is refused (uring_slot_open).
 */
struct se_slot_key {
	__u64 ring;
	__u32 slot; /* 0-based, or SE_FILE_INDEX_ALLOC */
	__u32 pad;
};
BPF_TABLE("lru_hash", struct se_slot_key, __u64, uring_slot_opens, 1024);

/* The key of open request @req's slot (ring 0: no slot, an fd). */
static __always_inline struct se_slot_key slot_key_of_open(__u64 req)
{
	struct se_slot_key k = {};
	__u32 slot = se_kp_u32(req + SE_OFF_IO_OPEN_FILE_SLOT);

	if (slot) {
		k.ring = se_kp_ptr(req + SE_OFF_IO_KIOCB_CTX);
		k.slot = slot == SE_FILE_INDEX_ALLOC ? slot : slot - 1;
	}
	return k;
}

/* At the submission of open @req: its slot's latest open. */
static __always_inline void slot_open_note(__u64 req)
{
	struct se_slot_key k = slot_key_of_open(req);

	if (k.ring)
		uring_slot_opens.update(&k, &req);
}

/* At the completion of open @req: its entry, if still its own, goes. */
static __always_inline void slot_open_done(__u64 req)
{
	struct se_slot_key k = slot_key_of_open(req);
	__u64 *o = k.ring ? uring_slot_opens.lookup(&k) : NULL;

	if (o && *o == req)
		uring_slot_opens.delete(&k);
}

/* The open submitted into @k's slot, if its request is still that open
 * (its memory goes to another request once it is done), else 0. */
static __always_inline __u64 uring_slot_open(struct se_slot_key *k)
{
	__u64 *o = uring_slot_opens.lookup(k), open;
	struct se_slot_key ok;

	if (!o)
		return 0;
	open = *o;
	if (se_uring_op(req_opcode(open)).how != SE_UOP_OPEN)
		return 0;
	ok = slot_key_of_open(open);
	return ok.ring == k->ring && ok.slot == k->slot ? open : 0;
}

/*
 * A read or write (@q, decided to be kept by its rules) of registered slot
 * @slot of @req's ring, empty at its submission and posting no completion:
 * reported now, as an open's name would be (uring_nameop), by the name of
 * the open that fills the slot, with the bytes asked for, flagged
 * SE_F_UNCONFIRMED. The name is the kernel's copy, made at the open's
 * preparation and freed when it runs: the open is linked ahead of this
 * request or runs after it, else the slot would not be empty now. Nothing
 * when no open into the slot is known (the request then fails, EBADF).
 */
static __always_inline void uring_by_open(void *ctx, __u64 req, struct se_uring_req *q)
{
	struct se_slot_key k = {.ring = se_kp_ptr(req + SE_OFF_IO_KIOCB_CTX),
				.slot = se_kp_u32(req + SE_OFF_IO_KIOCB_CQE_FD)};
	int zero = 0;
	struct se_nameop_record *rec = nameop_scratch.lookup(&zero);
	__u64 open;

	if (!rec || !k.ring)
		return;
	open = uring_slot_open(&k);
	if (!open) {
		k.slot = SE_FILE_INDEX_ALLOC;
		open = uring_slot_open(&k);
	}
	if (!open)
		return;
	uring_name_record(rec, q->kind);
	rec->r.arg = q->want;
	uring_open_name(ctx, rec, open);
}
#endif

RAW_TRACEPOINT_PROBE(io_uring_submit_req)
{
	__u64 req = ctx->args[0];
	__u8 op = req_opcode(req);
	struct se_uop u = se_uring_op(op);
	struct se_config *cfg;
	struct se_uring_req *q;
	int zero = 0;

	if (se_uring_renames(op))
		/* Also at its completion: a name walked in between is stale. */
		bump_epoch();
	if (se_uring_nameop(op)) {
#ifdef SE_URING_NAMES
		uring_nameop(ctx, req, se_uring_nameop(op));
#endif
		return 0;
	}
#ifdef SE_URING_SLOT_OPENS
	if (u.how == SE_UOP_OPEN)
		slot_open_note(req);
#endif
#if defined(SE_URING_NAMES) && defined(SE_URING_OPEN) && defined(SE_OFF_IO_OPEN_DFD) &&           \
	defined(SE_OFF_IO_OPEN_FILENAME)
	/* An O_TRUNC open that will post no completion: by its name, now. */
	if (u.how == SE_UOP_OPEN &&
	    (se_kp_u32(req + SE_OFF_IO_KIOCB_FLAGS) & SE_REQ_F_CQE_SKIP) &&
	    (se_kp_u64(req + SE_OFF_IO_OPEN_HOW_FLAGS) & SE_O_TRUNC)) {
		uring_nameop(ctx, req, SE_TRUNCATE);
		return 0;
	}
#endif
	if (!u.kind || !uring_built(u.how))
		return 0;
	cfg = config.lookup(&zero);
	q = uring_scratch.lookup(&zero);
	/* Filtered before anything is kept: most requests are no event. */
	if (!cfg || !q || !uring_begin(cfg, req, op, u, q, 0))
		return 0;
	if (q->skip && q->fixed) {
		/* No tracepoint will see this request's file again. */
		__u64 file = uring_req_file(req, q);

		if (file && q->rules)
			uring_event(ctx, cfg, q, file, q->want, 1);
#ifdef SE_URING_SLOT_OPENS
		/* An empty slot: an open linked ahead fills it (a tail call). */
		if (!file && q->rules && q->how == SE_UOP_RW)
			uring_by_open(ctx, req, q);
#endif
		q->rules = 0;
		if (!q->in_rules)
			return 0; /* ... nor has it an input to come */
	}
	/* LRU: a full map evicts the least recently used request, whose
	 * completion then decides it as uring_begin(again) does. */
	uring_reqs.update(&req, q);
	if (q->in_rules && q->in_fixed)
		uring_in_call(ctx, req, uring_fixed_file(req, (__u32)q->in_fd), -1);
	return 0;
}

/*
 * The entry of @req, of @op (@u), in this CPU's scratch; or a new one when
 * it has none but may be an event: evicted from the map by a flood of
 * requests, or submitted before the probe attached. NULL: no event.
 */
static __always_inline struct se_uring_req *uring_entry(struct se_config *cfg, __u64 req, __u8 op,
							struct se_uop u)
{
	struct se_uring_req *e = uring_reqs.lookup(&req), *q;
	int zero = 0;

	q = uring_scratch.lookup(&zero);
	if (!q)
		return NULL;
	/*
	 * Copied to the scratch, not used in place: one kind of pointer
	 * reaches the path walk, which the verifier explores once per kind
	 * (in place, 6.1's layouts took it from 220k to 438k instructions).
	 */
	if (e) {
		if (e->opcode != op)
			return NULL;
		*q = *e;
		return q;
	}
	return uring_begin(cfg, req, op, u, q, 1) ? q : NULL;
}

/*
 * The file an open request @q opened (@res: its fd, or the registered slot
 * it allocated), if it truncated it: it existed (not FMODE_CREATED) and is
 * a regular file; else 0. The completing task shares the submitter's fd
 * table (the submitter, or an io-wq worker of its process).
 */
static __always_inline __u64 uring_opened(__u64 req, struct se_uring_req *q, int res)
{
	__u64 file;

	if (q->slot) {
		file = uring_fixed_file(req, q->slot == SE_FILE_INDEX_ALLOC ? (__u32)res
									    : q->slot - 1);
	} else {
		file = se_fd_file(res);
		q->side.fd = res;
	}
	return open_truncated(file) ? file : 0;
}

/*
 * The end of request @req (@op, @u): decided and sent, its entry gone.
 * @issue: at issue of a request that posts no completion, the file of fd
 * @fd now, with the bytes asked for (unconfirmed); else at completion,
 * req->file (an open's: the file it opened) with @res. @issue is a
 * constant in each program: one path, one walk to verify.
 */
static __always_inline void uring_finish(void *ctx, __u64 req, __u8 op, struct se_uop u,
					 const int issue, __s32 fd, int res)
{
	struct se_uring_req *q;
	struct se_config *cfg;
	int zero = 0;
	__u64 file, bytes;

	/* Not traced(): clang's code for it here lost the verifier (a NULL
	 * config on a path it could not rule out). The agent's own requests
	 * never have an entry, and uring_begin() refuses them. */
	cfg = config.lookup(&zero);
	q = cfg ? uring_entry(cfg, req, op, u) : NULL;
	if (!q)
		return;
	bytes = issue || q->how == SE_UOP_FALLOC || q->how == SE_UOP_FTRUNC ? q->want : (__u64)res;
	/* At issue the task shares the submitter's fd table (it is the
	 * submitter, an io-wq worker or the SQPOLL thread). */
	if (issue) {
		file = se_fd_file(fd);
	} else if (q->how == SE_UOP_OPEN) {
		file = uring_opened(req, q, res);
		bytes = 0; /* the size before is gone */
	} else {
		file = se_kp_ptr(req + SE_OFF_IO_KIOCB_FILE);
	}
	/* The input's read (decided before) first: code after a walk is
	 * verified once per state the walk ends in. */
	if (q->in_ok)
		uring_send(ctx, cfg, q, &q->in, bytes, issue);
	if (file && q->rules)
		uring_event(ctx, cfg, q, file, bytes, issue);
	/* A splice with its output done at issue may have its input to come
	 * (taken after the output): kept for uring_in. */
	if (issue && q->in_rules && !q->in_ok) {
		q->rules = 0;
		uring_reqs.update(&req, q);
	} else {
		uring_reqs.delete(&req);
	}
}

/* At issue, a plain fd's file just taken: a splice's input, or the file of
 * a request that will post no completion. */
RAW_TRACEPOINT_PROBE(io_uring_file_get)
{
	__u64 req = ctx->args[0];
	__u8 op = req_opcode(req);
	struct se_uop u = se_uring_op(op);
	__s32 fd = (__s32)ctx->args[1];
	__u32 flags;

	if (!u.kind || fd < 0 || !uring_built(u.how))
		return 0;
	flags = se_kp_u32(req + SE_OFF_IO_KIOCB_FLAGS);
#ifdef SE_URING_SPLICE
	/* A splice takes its output (req->file, unless registered) first,
	 * then its input: an fd equal to both is no valid splice. */
	if (u.how == SE_UOP_SPLICE &&
	    fd == (__s32)se_kp_u32(req + SE_OFF_IO_SPLICE_SPLICE_FD_IN) &&
	    !(se_kp_u32(req + SE_OFF_IO_SPLICE_FLAGS) & SE_SPLICE_F_FD_IN_FIXED) &&
	    ((flags & SE_REQ_F_FIXED_FILE) || fd != (__s32)se_kp_u32(req + SE_OFF_IO_KIOCB_CQE_FD))) {
		uring_in_call(ctx, req, se_fd_file(fd), fd);
		return 0;
	}
#endif
	/* The flag first, cheaper than the lookup: most requests post
	 * their completion. */
	if (flags & SE_REQ_F_CQE_SKIP)
		uring_finish(ctx, req, op, u, 1, fd, 0);
	return 0;
}

RAW_TRACEPOINT_PROBE(io_uring_complete)
{
	__u64 req = ctx->args[1];
	__u8 op = req_opcode(req);
	struct se_uop u = se_uring_op(op);
	int res, ok;

#if SE_URING_COMPLETE_ARGS == 3
	/* (ctx, req, cqe): the posted struct io_uring_cqe (uapi), res at 8 */
	res = (int)se_kp_u32(ctx->args[2] + 8);
#else
	/* (ctx, req, user_data, res, cflags, extra1, extra2) */
	res = (int)ctx->args[3];
#endif
	if (se_uring_renames(op)) {
		if (res >= 0)
			bump_epoch();
		return 0;
	}
	if (!u.kind || !uring_built(u.how))
		return 0;
#ifdef SE_URING_SLOT_OPENS
	if (u.how == SE_UOP_OPEN)
		slot_open_done(req);
#endif
	/* Bytes moved; a truncation's 0; an open's fd or slot. Failed, or
	 * nothing read: no event. */
	if (u.how == SE_UOP_RW || u.how == SE_UOP_SPLICE)
		ok = res > 0;
	else
		ok = u.how == SE_UOP_OPEN ? res >= 0 : res == 0;
	if (ok)
		uring_finish(ctx, req, op, u, 0, -1, res);
	else
		uring_reqs.delete(&req);
	return 0;
}
#endif /* SE_URING */

/*
 * A cgroup made or renamed (args: struct cgroup *, its path). Only those of
 * the hierarchy the records' ids come from (SE_CGROUP_HIER) are sent: user
 * space learns id -> path, hence -> container id, before any task runs in
 * the cgroup, and keeps it after the last one is gone. A record the buffer
 * had no room for is counted as internal; user space then falls back to
 * /proc/<pid>/cgroup for that container's processes.
 */
static __always_inline int on_cgroup(void *ctx, __u64 cg, __u64 path)
{
	int zero = 0;
	struct se_cgroup_record *c;
	__u64 root = se_kp_ptr(cg + SE_OFF_CGROUP_ROOT);
	__u64 kn = se_kp_ptr(cg + SE_OFF_CGROUP_KN);
	long len;
	__u32 size;

	if (!root || !kn || (int)se_kp_u32(root + SE_OFF_CGROUP_ROOT_HIERARCHY_ID) != SE_CGROUP_HIER)
		return 0;
	c = cg_scratch.lookup(&zero);
	if (!c)
		return 0;
	fill(&c->r, SE_CGROUP, -1, 0, 0);
	c->r.arg = se_kp_ptr(kn + SE_OFF_KERNFS_NODE_ID);
	len = bpf_probe_read_kernel_str(c->path, SE_CGROUP_PATH, (void *)path);
	if (len <= 0 || !c->r.arg)
		return 0;
	/* A mask, not a compare, bounds it for the verifier: clang may
	 * reuse the unbounded copy after a compare. len <= SE_CGROUP_PATH. */
	size = SE_CGROUP_RECORD_HDR + ((__u32)len & (2 * SE_CGROUP_PATH - 1));
	if (emit(ctx, c, size, 0) != 0)
		count(SE_CTR_DROP_INTERNAL);
	return 0;
}

RAW_TRACEPOINT_PROBE(cgroup_mkdir)
{
	return on_cgroup(ctx, ctx->args[0], ctx->args[1]);
}

RAW_TRACEPOINT_PROBE(cgroup_rename)
{
	return on_cgroup(ctx, ctx->args[0], ctx->args[1]);
}
