/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record that crosses from the kernel to the agent, and the layout of the
 * maps the agent shares with the probe. Included by probes/file_io.bpf.c
 * (compiled by libbcc at agent start-up) and by the agent itself, so it uses
 * only the __u* types both sides have.
 *
 * Every record starts with struct se_record (56 bytes). SE_OPEN and SE_CHDIR
 * carry the path the process passed, as struct se_path_record, sent with only
 * the bytes the path needs.
 */
#ifndef SENTINEL_EVENT_H
#define SENTINEL_EVENT_H

#include <linux/types.h>

#define SE_COMM_LEN 16
#define SE_PATH_MAX 4096 /* PATH_MAX with the NUL: longer names fail to open */
#define SE_MAX_RULES 64  /* one bit per enabled rule in the verdict masks */
#define SE_MAX_COMMS 1024 /* distinct comms named by the rules (comm_masks map: 2 slots) */
#define SE_RL_ENTRIES 16384 /* rate-limit buckets: processes that emitted events lately */
#define SE_RL_SUPPRESSED_ENTRIES 4096 /* processes with suppressed events, until reported */
/*
 * A process is young for SE_YOUNG_NS after its fork: until then the probe
 * also records the changes it makes to fds it does not track (close, dup
 * onto, F_SETFD), so that the agent knows every fd the process changed and
 * can name the others from its parent's table (agent/lineage.h).
 * SE_YOUNG_ENTRIES processes at once; a fork that finds no room is flagged
 * SE_F_UNTRACKED, and the agent does not rely on its lineage.
 */
#define SE_YOUNG_NS 1000000000ULL
#define SE_YOUNG_ENTRIES 16384

enum se_kind {
	SE_READ = 1,	/* fd, arg = bytes read */
	SE_WRITE = 2,	/* fd, arg = bytes written */
	SE_OPEN = 3,	/* path record: fd = new fd, arg = open flags */
	SE_CHDIR = 4,	/* path record */
	SE_FCHDIR = 5,	/* fd = new cwd */
	SE_CLOSE = 6,	/* fd */
	SE_CLOSE_RANGE = 7, /* fd = first, arg = last | (u64)flags << 32 */
	SE_DUP = 8,	/* fd = new fd, arg = old fd */
	SE_SETFD = 9,	/* fd, arg = FD_* flags (close-on-exec) */
	SE_EXEC = 10,	/* the process replaced its image: close-on-exec fds are gone */
	SE_EXIT = 11,	/* the thread-group leader exited */
	SE_FORK = 12,	/* a new process (not a thread): tgid = parent, fd = child */
	SE_KIND_MAX
};

/* se_record.flags */
#define SE_F_PENDING 0x1   /* verdict = seq: the kernel has no verdict for this fd yet */
#define SE_F_UNTRACKED 0x2 /* the fd map was full: decide in user space, no verdict;
			    * on SE_FORK: the young map was full */
#define SE_F_CLOEXEC 0x4   /* the new fd is close-on-exec (OPEN, DUP) */
#define SE_F_PATH_FAULT 0x8 /* the path could not be read from user memory */

struct se_record {
	__u64 ts_ns;	/* bpf_ktime_get_ns() at syscall exit */
	__u64 arg;	/* see enum se_kind */
	__u64 verdict;	/* SE_F_PENDING: verdict sequence number; else matched-rule mask */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u16 kind;
	__u16 flags;
	char comm[SE_COMM_LEN];
};

struct se_path_record {
	struct se_record r;
	__s32 dirfd;	/* AT_FDCWD (-100) or the dirfd of openat/openat2 */
	__u32 path_len; /* bytes in path[], with the terminating NUL */
	char path[SE_PATH_MAX];
};

#define SE_PATH_RECORD_HDR ((unsigned long)&((struct se_path_record *)0)->path)

/* Verdict seqs the agent gives (fds it found at start-up); the probe's own
 * carry the CPU id in bits 48-62 (next_seq). */
#define SE_SEQ_AGENT (1ULL << 63)
/* fds map: what the kernel knows about one (tgid, fd). */
struct se_fd_key {
	__u32 tgid;
	__s32 fd;
};

#define SE_FD_PENDING 0x1

struct se_fd_state {
	__u64 seq;	/* names the verdict user space will post for this fd */
	__u64 mask;	/* rules whose path part matches, valid when not pending */
	__u32 gen;	/* rules generation the mask was computed for */
	__u32 flags;	/* SE_FD_* */
};

/* verdicts map: seq -> what user space decided */
struct se_verdict {
	__u64 mask;
	__u32 gen;
	__u32 pad;
};

/* config map, one entry; written by the agent before attaching */
struct se_config {
	__u32 self_tgid;	/* the agent: never traced (no feedback loop) */
	__u32 gen;		/* rules generation; fd verdicts of other gens are stale */
	__u64 type_mask[2];	/* [0] read, [1] write: enabled rules of that event type */
	__u64 anycomm_mask;	/* rules with no comm list */
	__u64 comm_rules;	/* rules with a comm list (looked up in comm_masks) */
	/*
	 * Per-process rate limit on the events the kernel decided match,
	 * as a GCRA token bucket in nanoseconds, so the probe never divides:
	 * an event costs rl_cost_ns (1e9 / events per second) and a process
	 * may run up to rl_tau_ns ((burst - 1) * cost) ahead of its rate.
	 * rl_cost_ns 0: no limit. Filled in by the probe from its options.
	 */
	__u64 rl_cost_ns;
	__u64 rl_tau_ns;
};

/* rl_suppressed map: tgid -> what the rate limit held back from that process */
struct se_rl_stat {
	__u64 suppressed;	/* events, since the entry was made */
	char comm[SE_COMM_LEN];	/* the process's comm at its first suppressed event */
};

/*
 * comm_masks key. Two sets of entries live side by side, one per rules
 * generation parity (slot = gen & 1): a reload writes the new rules' comms
 * into the other slot, switches the config, then deletes the old slot, so an
 * event never sees the new comm masks with the old config's rule bits (or
 * its comms already gone), and none is filtered by mistake mid-reload.
 */
struct se_comm_key {
	char comm[SE_COMM_LEN];
	__u32 slot;
};

/*
 * Per-CPU counters, summed by the agent. Records the transport had no room
 * for are counted by what they were, so that loss can be stated exactly for
 * a watched file: a read or write whose file the kernel had already decided
 * matches a rule (MATCHED), one still awaiting its verdict (PENDING: user
 * space would have decided it, and other processes' files are among them),
 * or a record that is not an event (INTERNAL: opens, closes, dups, exec,
 * exit, forks). For a file whose verdict is decided, written = delivered +
 * DROP_<type>_MATCHED + RATE_LIMITED_<type>, exactly. The agent's names for
 * them live in one table, agent/probe.c probe_drop_classes.
 */
enum se_counter {
	SE_CTR_SEEN = 0,	   /* successful reads/writes by traced processes */
	SE_CTR_FILTERED,	   /* of those, dropped in the kernel by the rules */
	SE_CTR_PENDING,		   /* forwarded while the fd's verdict was pending */
	SE_CTR_DROP_FDMAP,	   /* fds not tracked: fds map full */
	SE_CTR_RATE_LIMITED_READ,  /* reads suppressed by the per-process rate limit */
	SE_CTR_RATE_LIMITED_WRITE, /* writes likewise (READ + 1: indexed by kind) */
	SE_CTR_DROP_READ_MATCHED,  /* buffer full: a read of a matched file */
	SE_CTR_DROP_READ_PENDING,  /* ... a read awaiting its verdict (MATCHED + 1) */
	SE_CTR_DROP_WRITE_MATCHED, /* ... a write of a matched file (READ_MATCHED + 2) */
	SE_CTR_DROP_WRITE_PENDING, /* ... a write awaiting its verdict */
	SE_CTR_DROP_INTERNAL,	   /* ... any record that is not an event */
	SE_CTR_MAX
};

#endif /* SENTINEL_EVENT_H */
