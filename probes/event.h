/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record that crosses from the kernel to the agent, and the layout of the
 * maps the agent shares with the probe. Included by probes/file_io.bpf.c
 * (compiled by libbcc at agent start-up) and by the agent itself, so it uses
 * only the __u* types both sides have.
 *
 * Every record starts with struct se_record (80 bytes). SE_NAME carries the
 * kernel's resolved path of a file (struct se_kpath, probes/pathwalk.h),
 * sent with only the bytes the path needs.
 */
#ifndef SENTINEL_EVENT_H
#define SENTINEL_EVENT_H

#include <linux/types.h>
#ifndef SENTINEL_PATHWALK_H
#include "pathwalk.h"
#endif

#define SE_COMM_LEN 16
#define SE_MAX_RULES 64  /* one bit per enabled rule in the verdict masks */
#define SE_MAX_COMMS 1024 /* distinct comms named by the rules (comm_masks map: 2 slots) */
#define SE_RL_ENTRIES 16384 /* rate-limit buckets: processes that emitted events lately */
#define SE_RL_SUPPRESSED_ENTRIES 4096 /* processes with suppressed events, until reported */
/* Threads inside a read or write the probe decided to report, between the
 * syscall's entry (where the file is taken) and its exit (the bytes). */
#define SE_INFLIGHT_ENTRIES 16384
/*
 * The probe's tail-called programs, by their slot in its movers array (the
 * agent fills it from its program table, agent/probe.c progs[].tail).
 */
enum se_tail {
	SE_TAIL_MOVE_SRC = 0, /* a byte mover's source */
	SE_TAIL_MOVE_DST,     /* ... its destination */
	SE_TAIL_AIO,	      /* one iocb of an io_submit */
	SE_TAIL_CHANGE,	      /* ftruncate, fallocate, mmap: at entry */
	SE_TAIL_TRUNC_OPEN,   /* an O_TRUNC open: at exit */
	SE_TAIL_NAME_OLD,     /* a rename or link: its old name, at exit */
	SE_TAIL_NAME_NEW,     /* ... its new name */
	SE_TAIL_NAME_SEND,    /* ... the record, past the rate limit */
	SE_TAIL_URING_IN,     /* an io_uring splice's input */
	SE_TAILS
};
/* iocbs of one io_submit(2) whose files need no walk that one run of
 * aio_iocb decides, before at most one that does; a run per tail call, 33
 * per io_submit (the kernel's limit), the rest counted,
 * SE_CTR_AIO_UNINSPECTED. 16: an iteration costs the verifier ~1k
 * instructions (6.1's layouts), a walk ~200k. */
#define SE_AIO_FAST 16

/*
 * The events come first, numbered so that kind - 1 is their event type
 * (se_type(): the index of config.type_mask, of the per-type counters and
 * of the agent's enum ev_type). SE_READ to SE_MMAP name their file by @seq;
 * SE_RENAME and SE_LINK carry their names (struct se_nameop_record).
 */
enum se_kind {
	SE_READ = 1,	 /* arg = bytes read */
	SE_WRITE = 2,	 /* arg = bytes written */
	SE_TRUNCATE = 3, /* content destroyed without a write: arg = bytes cut or zeroed
			  * (ftruncate: old size - new size; fallocate: the range;
			  * an O_TRUNC open: 0 and SE_F_BYTES_UNKNOWN) */
	SE_MMAP = 4,	 /* a shared mapping the process may store into: arg = its length */
	SE_RENAME = 5,	 /* struct se_nameop_record: a file renamed; arg = renameat2's flags */
	SE_LINK = 6,	 /* struct se_nameop_record: a hard link made; arg = linkat's flags */
	SE_NAME = 7,	 /* struct se_name_record: the path @seq names; arg = the inode's mode */
	SE_CGROUP = 8,	 /* struct se_cgroup_record: a cgroup made or renamed; arg = its id */
	SE_KIND_MAX
};

#define SE_TYPES 6 /* event kinds: SE_READ .. SE_LINK */
#define se_type(kind) ((kind) - 1)

/*
 * se_record.syscall: which call moved the bytes (data.syscall; the agent's
 * names for them: probe_syscall_name()). A byte mover (sendfile, splice,
 * copy_file_range) gives two events: a read of its source and a write of
 * its destination, each with the bytes it returned.
 */
enum se_syscall {
	SE_SC_NONE = 0,
	SE_SC_READ,
	SE_SC_WRITE,
	SE_SC_PREAD64,
	SE_SC_PWRITE64,
	SE_SC_READV,
	SE_SC_WRITEV,
	SE_SC_PREADV,
	SE_SC_PWRITEV,
	SE_SC_PREADV2,
	SE_SC_PWRITEV2,
	SE_SC_SENDFILE,
	SE_SC_SPLICE,
	SE_SC_COPY_FILE_RANGE,
	SE_SC_IO_URING, /* an io_uring request (no syscall of its own: SQPOLL rings make none) */
	SE_SC_AIO, /* a native AIO iocb, reported at io_submit (SE_F_UNCONFIRMED) */
	SE_SC_OPEN,	 /* an O_TRUNC open: open, openat, openat2, creat */
	SE_SC_OPENAT,
	SE_SC_OPENAT2,
	SE_SC_CREAT,
	SE_SC_FTRUNCATE,
	SE_SC_FALLOCATE,
	SE_SC_MMAP,
	SE_SC_MAPPED_STORE, /* a store through a shared mapping made writable before
			     * (writeback:writeback_dirty_folio): no syscall */
	SE_SC_FICLONE,	    /* ioctl(dst, FICLONE, src): a reflink copy of the whole file */
	SE_SC_FICLONERANGE, /* ioctl(dst, FICLONERANGE, &range) */
	SE_SC_RENAME,	    /* renames: rename, renameat, renameat2 */
	SE_SC_RENAMEAT,
	SE_SC_RENAMEAT2,
	SE_SC_LINK, /* hard links: link, linkat */
	SE_SC_LINKAT,
	SE_SC_TRUNCATE, /* truncate(2): by path (struct se_nameop_record, one name) */
	SE_SC_OLD_MMAP, /* ia32 old_mmap: mmap's arguments in a struct */
	SE_SC_MPROTECT, /* PROT_WRITE added to a shared mapping of a file */
	SE_SC_MAX
};

/* se_record.flags */
#define SE_F_PENDING 0x1 /* the kernel has no verdict for the file yet: user space decides */
/* arg is the bytes the request asked for, not what it moved: the kernel
 * reports no completion to watch (an io_uring request with
 * IOSQE_CQE_SKIP_SUCCESS, a native AIO iocb), so it is reported when
 * issued (data.bytes_unconfirmed). On a struct se_nameop_record: an
 * io_uring rename or link reported at submission, its success unknown
 * (data.unconfirmed). */
#define SE_F_UNCONFIRMED 0x2
/* arg is not the bytes at all: an O_TRUNC open cut the file to 0 before the
 * probe could read its size (data.bytes_unknown) */
#define SE_F_BYTES_UNKNOWN 0x4
/* a struct se_nameop_record: names the kernel looked up from strings (a
 * rename's, a link's, a truncate(2)'s), resolved in user space */
#define SE_F_BY_NAME 0x8

/*
 * @seq names one (file, name) pair: the kernel gives a new one each time it
 * walks a file's path (first sight, or after the file's identity or a
 * rename/mount changed what the path may be), and sends that path once, in
 * an SE_NAME record with the same seq, ahead of the file's events. A
 * verdict user space posts is keyed by it.
 */
struct se_record {
	__u64 ts_ns;   /* bpf_ktime_get_ns() at syscall exit (SE_NAME: at the walk) */
	__u64 arg;     /* see enum se_kind */
	__u64 mask;    /* rules whose path part matches; valid unless SE_F_PENDING */
	__u64 seq;     /* the file's name, see above */
	__u64 file;    /* the struct file's address: the key of the kernel's verdict */
	__u64 cgroup;  /* the task's cgroup id in the hierarchy that names containers
			* (SE_CGROUP_SUBSYS in the probe): the inode of its directory */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u8 kind;    /* enum se_kind */
	__u8 syscall; /* enum se_syscall: the call that moved the bytes (0 for SE_NAME...) */
	__u16 flags;
	char comm[SE_COMM_LEN];
};

/* An SE_NAME record: the header, then the walk, sent up to kp.names[kp.len]. */
struct se_name_record {
	struct se_record r;
	struct se_kpath kp;
};

#define SE_NAME_RECORD_HDR ((unsigned long)&((struct se_name_record *)0)->kp.names)

/*
 * An SE_CGROUP record: a cgroup directory made (or renamed) in the
 * hierarchy whose ids the records carry, with its path from that
 * hierarchy's root ("/libpod_parent/libpod-<id>"), sent up to the NUL.
 * The id is the directory's inode and is never reused, and the record
 * comes before any event of a task in it: user space maps id -> container
 * even for a container whose processes are gone before it reads /proc.
 */
/* The kernel formats the path into a buffer of TRACE_CGROUP_PATH_LEN (1024)
 * bytes, NUL included, before calling the tracepoint: never longer. */
#define SE_CGROUP_PATH 1024
struct se_cgroup_record {
	struct se_record r;
	/* Read up to SE_CGROUP_PATH; the slack lets the verifier accept a
	 * size masked to 2 * SE_CGROUP_PATH - 1, never sent. */
	char path[2 * SE_CGROUP_PATH];
};

#define SE_CGROUP_RECORD_HDR ((unsigned long)&((struct se_cgroup_record *)0)->path)

/*
 * An SE_RENAME or SE_LINK record: a call that gave a file a new name,
 * reported at its successful exit; side[0] is the old name (the source),
 * side[1] the new one. A BPF program cannot look a name up, so each side is
 * the string the call was given, read from user memory at exit, and the
 * directory it was looked up from, walked in the kernel as a file's path is
 * (struct se_kpath): the process's root for an absolute name, else its cwd
 * or the directory fd. Walked in the kernel because the process may be gone
 * (mv exits at once) before user space could ask /proc; the rest of the
 * name (its components, symlinks among them) is resolved in user space
 * (agent/nameop.h). Sent whole (about 17 KiB): renames and links are rare,
 * and they count against the process's rate limit.
 */
#define SE_NAMEOP_STR 4096 /* PATH_MAX: the longest name a call takes, NUL included */
enum se_nameop_base {
	SE_NB_NONE = 0, /* nothing walked: the side could not be read */
	SE_NB_ROOT,	/* an absolute name: the process's root */
	SE_NB_CWD,	/* relative to the cwd (AT_FDCWD) */
	SE_NB_DIRFD,	/* relative to the directory fd dfd */
	SE_NB_FILE,	/* linkat(fd, "", AT_EMPTY_PATH): the fd's file itself */
};
struct se_nameop_side {
	__s32 dfd;  /* the directory fd argument (AT_FDCWD, -100, for none) */
	__u16 len;  /* bytes of str, NUL included; 0: it could not be read */
	__u8 base;  /* enum se_nameop_base: what kp walked */
	__u8 kstr;  /* the probe's: str is read from kernel memory (an io_uring
		     * request's copy of the name), not the caller's */
	struct se_kpath kp;
	char str[SE_NAMEOP_STR];
};
struct se_nameop_record {
	struct se_record r; /* arg: the call's flags (RENAME_*, AT_*); SE_F_PENDING,
			     * SE_F_BY_NAME; a truncate(2) has side[1] only */
	struct se_nameop_side side[2];
};

/* Verdict seqs carry the CPU id in bits 48-62 (next_seq in the probe). */

/*
 * files map: what the kernel knows about one open file, keyed by its struct
 * file address. An address is reused once the file is freed, so the entry
 * also holds what the name was computed from: the dentry, mount and inode
 * the file points at, the rules generation and the rename epoch (after any
 * rename or mount change the file is walked again, and named anew only if
 * its path's signature changed). See the probe's file_state().
 */
struct se_file_state {
	__u64 dentry, mnt, inode;
	__u64 sig;  /* the walk's signature (se_kpath.sig) */
	__u64 seq;  /* names the verdict user space will post */
	__u64 mask; /* rules whose path part matches, valid when not pending */
	__u32 gen;  /* rules generation the mask was computed for */
	__u32 epoch;
	__u32 flags; /* SE_FILE_* */
	__u32 pad;
};

#define SE_FILE_PENDING 0x1

/* inflight map (tid ->): a read or write the probe will report at its exit. */
struct se_inflight_side {
	__u64 file, seq, mask;
	__s32 fd;
	__u16 kind;
	__u16 flags; /* SE_F_PENDING */
};

/* A call between entry and exit: a read or write has one side (side[0]); a
 * byte mover two, its source's read (side[0]) and its destination's write
 * (side[1]), each kept only if it is an event (@sides: bit i, side[i]). */
struct se_inflight {
	struct se_inflight_side side[2];
	__u8 sides;
	__u8 syscall;  /* enum se_syscall */
	__u8 compat;   /* an ia32 call (kept in map memory: see on_enter_io) */
	__u8 at_entry; /* the bytes are @arg, known at entry (a truncation's: the
			* size before; a mapping's length), and the call succeeded
			* if it returned no error; else they are its return value */
	__u8 track;    /* an mmap to remember, not report: side[0].file mapped
			* shared read-only through a writable fd (@arg bytes at
			* the address returned), which mprotect may make writable */
	__u8 pad[3];
	__u64 arg;
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
	__u32 gen;		/* rules generation; verdicts of other gens are stale */
	__u64 type_mask[SE_TYPES]; /* [se_type(kind)]: enabled rules of that event type */
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
	/*
	 * The host's mount namespace (the inum of /proc/1/ns/mnt, read by the
	 * agent at start; its own if that cannot be read): where the path
	 * walk looks first for the origin of a file written through a bind
	 * mount (pathwalk.h, walk 2). Filled in by the probe, as rl_*.
	 */
	__u32 host_mntns;
	__u32 pad;
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
	SE_CTR_SEEN = 0,	   /* events entered by traced processes */
	SE_CTR_FILTERED,	   /* of those, dropped in the kernel by the rules */
	SE_CTR_PENDING,		   /* forwarded while the file's verdict was pending */
	SE_CTR_WALKS,		   /* file paths walked (first sight, or a stale name) */
	/* suppressed by the per-process rate limit: + se_type(kind) */
	SE_CTR_RATE_LIMITED_READ,
	SE_CTR_RATE_LIMITED_WRITE,
	SE_CTR_RATE_LIMITED_TRUNCATE,
	SE_CTR_RATE_LIMITED_MMAP,
	SE_CTR_RATE_LIMITED_RENAME,
	SE_CTR_RATE_LIMITED_LINK,
	/* buffer full: an event of a matched file, + 2 * se_type(kind); one
	 * awaiting its verdict, + 1 more */
	SE_CTR_DROP_READ_MATCHED,
	SE_CTR_DROP_READ_PENDING,
	SE_CTR_DROP_WRITE_MATCHED,
	SE_CTR_DROP_WRITE_PENDING,
	SE_CTR_DROP_TRUNCATE_MATCHED,
	SE_CTR_DROP_TRUNCATE_PENDING,
	SE_CTR_DROP_MMAP_MATCHED,
	SE_CTR_DROP_MMAP_PENDING,
	SE_CTR_DROP_RENAME_MATCHED, /* never: a rename or link is always pending */
	SE_CTR_DROP_RENAME_PENDING,
	SE_CTR_DROP_LINK_MATCHED,
	SE_CTR_DROP_LINK_PENDING,
	SE_CTR_DROP_INTERNAL,	   /* ... any record that is not an event */
	SE_CTR_AIO_UNINSPECTED,	   /* iocbs an io_submit took past those its entry decided (its
				    * return value): not looked at (the tail-call budget),
				    * events or not */
	SE_CTR_MAX
};

#endif /* SENTINEL_EVENT_H */
