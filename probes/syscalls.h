/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which syscall numbers the probe decodes, for 64-bit tasks and for 32-bit
 * (ia32) ones, whose table has other numbers: ia32 3 is read where x86_64
 * 3 is close, and x86_64 295 (preadv) is ia32 openat. Plain C shared by the
 * probe (compiled by libbcc) and the agent's unit tests (test_syscalls.c:
 * on these VMs IA-32 emulation is off, so a 32-bit task cannot be run).
 *
 * The numbers are the kernels' ABI (arch/x86/entry/syscalls/syscall_64.tbl
 * and syscall_32.tbl), never renumbered. <asm/unistd.h> would pick one
 * table by the compile's target, so they are written out here.
 */
#ifndef SENTINEL_SYSCALLS_H
#define SENTINEL_SYSCALLS_H

#include <linux/types.h>

#ifndef SENTINEL_EVENT_H
#include "event.h"
#endif

/* What a number means to the probe. */
struct se_call {
	__u8 sc;   /* enum se_syscall; SE_SC_NONE: not decoded */
	__u8 kind; /* SE_READ or SE_WRITE of the fd in argument 0; SE_TRUNCATE or
		    * SE_MMAP (their fds: the change program); 0: a byte mover,
		    * or io_submit (sc SE_SC_AIO) */
	__u8 src;  /* a mover: the argument holding the fd it reads */
	__u8 dst;  /* ... and the one it writes */
};

#define SE_CALL_IO(s, k) ((struct se_call){.sc = (s), .kind = (k)})
#define SE_CALL_MOVE(s, i, o) ((struct se_call){.sc = (s), .src = (i), .dst = (o)})
/* io_submit: neither; its iocbs say (native AIO) */
#define SE_CALL_AIO ((struct se_call){.sc = SE_SC_AIO})

/* A read, write or byte mover of a 64-bit task, by its number. */
static inline __attribute__((always_inline)) struct se_call se_decode64(__u64 nr)
{
	switch (nr) {
	case 0: return SE_CALL_IO(SE_SC_READ, SE_READ);
	case 1: return SE_CALL_IO(SE_SC_WRITE, SE_WRITE);
	case 17: return SE_CALL_IO(SE_SC_PREAD64, SE_READ);
	case 18: return SE_CALL_IO(SE_SC_PWRITE64, SE_WRITE);
	case 19: return SE_CALL_IO(SE_SC_READV, SE_READ);
	case 20: return SE_CALL_IO(SE_SC_WRITEV, SE_WRITE);
	case 295: return SE_CALL_IO(SE_SC_PREADV, SE_READ);
	case 296: return SE_CALL_IO(SE_SC_PWRITEV, SE_WRITE);
	case 327: return SE_CALL_IO(SE_SC_PREADV2, SE_READ);
	case 328: return SE_CALL_IO(SE_SC_PWRITEV2, SE_WRITE);
	case 40: return SE_CALL_MOVE(SE_SC_SENDFILE, 1, 0); /* (out_fd, in_fd, ...) */
	case 275: return SE_CALL_MOVE(SE_SC_SPLICE, 0, 2); /* (fd_in, off_in, fd_out, ...) */
	case 326: return SE_CALL_MOVE(SE_SC_COPY_FILE_RANGE, 0, 2);
	/* ioctl(dst, cmd, src): a mover only for the reflink commands
	 * (se_clone_cmd, checked at entry before the movers run) */
	case 16: return SE_CALL_MOVE(SE_SC_FICLONE, 2, 0);
	case 209: return SE_CALL_AIO; /* io_submit(ctx, nr, iocbpp) */
	case 77: return SE_CALL_IO(SE_SC_FTRUNCATE, SE_TRUNCATE);  /* (fd, length) */
	case 285: return SE_CALL_IO(SE_SC_FALLOCATE, SE_TRUNCATE); /* (fd, mode, off, len) */
	case 9: return SE_CALL_IO(SE_SC_MMAP, SE_MMAP); /* (addr, len, prot, flags, fd, off) */
	case 10: return SE_CALL_IO(SE_SC_MPROTECT, SE_MMAP); /* (addr, len, prot) */
	default: return SE_CALL_IO(SE_SC_NONE, 0);
	}
}

/* The same for a 32-bit (ia32) task. sendfile64 is sendfile with a 64-bit
 * offset: the same call to a reader of events. */
static inline __attribute__((always_inline)) struct se_call se_decode32(__u64 nr)
{
	switch (nr) {
	case 3: return SE_CALL_IO(SE_SC_READ, SE_READ);
	case 4: return SE_CALL_IO(SE_SC_WRITE, SE_WRITE);
	case 180: return SE_CALL_IO(SE_SC_PREAD64, SE_READ);
	case 181: return SE_CALL_IO(SE_SC_PWRITE64, SE_WRITE);
	case 145: return SE_CALL_IO(SE_SC_READV, SE_READ);
	case 146: return SE_CALL_IO(SE_SC_WRITEV, SE_WRITE);
	case 333: return SE_CALL_IO(SE_SC_PREADV, SE_READ);
	case 334: return SE_CALL_IO(SE_SC_PWRITEV, SE_WRITE);
	case 378: return SE_CALL_IO(SE_SC_PREADV2, SE_READ);
	case 379: return SE_CALL_IO(SE_SC_PWRITEV2, SE_WRITE);
	case 187: /* sendfile */
	case 239: return SE_CALL_MOVE(SE_SC_SENDFILE, 1, 0); /* sendfile64 */
	case 313: return SE_CALL_MOVE(SE_SC_SPLICE, 0, 2);
	case 377: return SE_CALL_MOVE(SE_SC_COPY_FILE_RANGE, 0, 2);
	case 54: return SE_CALL_MOVE(SE_SC_FICLONE, 2, 0); /* ioctl */
	case 248: return SE_CALL_AIO; /* io_submit, 32-bit iocb pointers */
	case 93: /* ftruncate (fd, 32-bit length) */
	case 194: return SE_CALL_IO(SE_SC_FTRUNCATE, SE_TRUNCATE); /* ftruncate64 (fd, lo, hi) */
	/* fallocate (fd, mode, off_lo, off_hi, len_lo, len_hi) */
	case 324: return SE_CALL_IO(SE_SC_FALLOCATE, SE_TRUNCATE);
	/* mmap2 (addr, len, prot, flags, fd, pgoff) */
	case 192: return SE_CALL_IO(SE_SC_MMAP, SE_MMAP);
	/* old_mmap (struct se_mmap_arg_struct *): the same, in user memory */
	case 90: return SE_CALL_IO(SE_SC_OLD_MMAP, SE_MMAP);
	case 125: return SE_CALL_IO(SE_SC_MPROTECT, SE_MMAP);
	default: return SE_CALL_IO(SE_SC_NONE, 0);
	}
}

/*
 * Calls after which a name computed before may be stale: renames and
 * mount changes (the probe bumps its epoch). The calls numbered from 424
 * on have one number on every arch and ABI.
 */
static inline __attribute__((always_inline)) int se_renames64(__u64 nr)
{
	switch (nr) {
	case 82:  /* rename */
	case 264: /* renameat */
	case 316: /* renameat2 */
	case 165: /* mount */
	case 166: /* umount2 */
	case 155: /* pivot_root */
	case 161: /* chroot */
	case 428: /* open_tree */
	case 429: /* move_mount */
	case 432: /* fsmount */
	case 442: /* mount_setattr */
		return 1;
	default: return 0;
	}
}

static inline __attribute__((always_inline)) int se_renames32(__u64 nr)
{
	switch (nr) {
	case 38:  /* rename */
	case 302: /* renameat */
	case 353: /* renameat2 */
	case 21:  /* mount */
	case 22:  /* umount */
	case 52:  /* umount2 */
	case 217: /* pivot_root */
	case 61:  /* chroot */
	case 428:
	case 429:
	case 432:
	case 442:
		return 1;
	default: return 0;
	}
}

/*
 * Calls that give a file a new name (file_rename, file_link), or name the
 * file they change by a path (truncate(2): file_truncate, one name, as the
 * new one), reported at their successful exit: the arguments (0-5) holding
 * each side's directory fd and name, and the flags; -1: none (rename and
 * link take AT_FDCWD names, renameat no flags, truncate no old name).
 */
#define SE_AT_FDCWD (-100)	/* a name relative to the cwd */
#define SE_AT_EMPTY_PATH 0x1000 /* linkat: the fd is the file itself */

struct se_nameop {
	__u8 sc;   /* SE_SC_RENAME...; SE_SC_NONE: none */
	__u8 kind; /* SE_RENAME, SE_LINK, SE_TRUNCATE */
	__s8 odfd, oname, ndfd, nname, flags;
};

static inline __attribute__((always_inline)) struct se_nameop se_nameop64(__u64 nr)
{
	switch (nr) {
	case 82: return (struct se_nameop){SE_SC_RENAME, SE_RENAME, -1, 0, -1, 1, -1};
	case 264: return (struct se_nameop){SE_SC_RENAMEAT, SE_RENAME, 0, 1, 2, 3, -1};
	case 316: return (struct se_nameop){SE_SC_RENAMEAT2, SE_RENAME, 0, 1, 2, 3, 4};
	case 86: return (struct se_nameop){SE_SC_LINK, SE_LINK, -1, 0, -1, 1, -1};
	case 265: return (struct se_nameop){SE_SC_LINKAT, SE_LINK, 0, 1, 2, 3, 4};
	case 76: return (struct se_nameop){SE_SC_TRUNCATE, SE_TRUNCATE, -1, -1, -1, 0, -1};
	default: return (struct se_nameop){0, 0, 0, 0, 0, 0, 0};
	}
}

static inline __attribute__((always_inline)) struct se_nameop se_nameop32(__u64 nr)
{
	switch (nr) {
	case 38: return (struct se_nameop){SE_SC_RENAME, SE_RENAME, -1, 0, -1, 1, -1};
	case 302: return (struct se_nameop){SE_SC_RENAMEAT, SE_RENAME, 0, 1, 2, 3, -1};
	case 353: return (struct se_nameop){SE_SC_RENAMEAT2, SE_RENAME, 0, 1, 2, 3, 4};
	case 9: return (struct se_nameop){SE_SC_LINK, SE_LINK, -1, 0, -1, 1, -1};
	case 303: return (struct se_nameop){SE_SC_LINKAT, SE_LINK, 0, 1, 2, 3, 4};
	case 92: return (struct se_nameop){SE_SC_TRUNCATE, SE_TRUNCATE, -1, -1, -1, 0, -1};
	/* truncate64: the length in two halves, not reported */
	case 193: return (struct se_nameop){SE_SC_TRUNCATE, SE_TRUNCATE, -1, -1, -1, 0, -1};
	default: return (struct se_nameop){0, 0, 0, 0, 0, 0, 0};
	}
}

/*
 * Opens that may truncate (O_TRUNC), decided at their exit: the fd they
 * return names the file, the flags are still in the saved registers.
 * .flags: the argument holding the flags; SE_OPEN_ALWAYS (creat, always
 * O_TRUNC), SE_OPEN_HOW (openat2: in the struct open_how at argument 2,
 * user memory).
 */
struct se_open {
	__u8 sc; /* SE_SC_OPEN...; SE_SC_NONE: not an open */
	__u8 flags;
};
#define SE_OPEN_ALWAYS 0xff
#define SE_OPEN_HOW 0xfe

static inline __attribute__((always_inline)) struct se_open se_open64(__u64 nr)
{
	switch (nr) {
	case 2: return (struct se_open){SE_SC_OPEN, 1};	   /* (path, flags, mode) */
	case 257: return (struct se_open){SE_SC_OPENAT, 2}; /* (dfd, path, flags, mode) */
	case 85: return (struct se_open){SE_SC_CREAT, SE_OPEN_ALWAYS};
	case 437: return (struct se_open){SE_SC_OPENAT2, SE_OPEN_HOW};
	default: return (struct se_open){0, 0};
	}
}

/* ia32 openat (295) is x86_64's preadv, creat (8) its lseek. */
static inline __attribute__((always_inline)) struct se_open se_open32(__u64 nr)
{
	switch (nr) {
	case 5: return (struct se_open){SE_SC_OPEN, 1};
	case 295: return (struct se_open){SE_SC_OPENAT, 2};
	case 8: return (struct se_open){SE_SC_CREAT, SE_OPEN_ALWAYS};
	case 437: return (struct se_open){SE_SC_OPENAT2, SE_OPEN_HOW};
	default: return (struct se_open){0, 0};
	}
}

/* uapi values the change program tests (asm-generic/fcntl.h, mman.h,
 * linux/falloc.h): the same on x86_64 and ia32. */
#define SE_O_TRUNC 01000
#define SE_PROT_WRITE 0x2
#define SE_MAP_TYPE 0x0f
#define SE_MAP_SHARED 0x01
#define SE_MAP_SHARED_VALIDATE 0x03
#define SE_MAP_ANONYMOUS 0x20
/* fallocate modes that destroy or move content: PUNCH_HOLE, COLLAPSE_RANGE,
 * ZERO_RANGE, INSERT_RANGE, WRITE_ZEROES (6.17). Plain allocation
 * (0, KEEP_SIZE, UNSHARE_RANGE) changes no byte a reader sees. */
#define SE_FALLOC_CHANGES (0x02 | 0x08 | 0x10 | 0x20 | 0x80)

/*
 * The reflink ioctls (linux/fs.h, uapi; the same numbers for ia32: struct
 * file_clone_range has no compat layout): the destination shares the
 * source's extents, no byte passes through a read or write. FIDEDUPERANGE
 * is not one: it shares extents only where the bytes are already equal.
 */
#define SE_FICLONE 0x40049409u	    /* _IOW(0x94, 9, int): the whole source */
#define SE_FICLONERANGE 0x4020940du /* _IOW(0x94, 13, struct file_clone_range) */

static inline __attribute__((always_inline)) int se_clone_cmd(__u32 cmd)
{
	return cmd == SE_FICLONE || cmd == SE_FICLONERANGE;
}

/* Whether an mmap's flags make a shared mapping of a file (what a store
 * writes back to the file). */
static inline __attribute__((always_inline)) int se_mmap_shared_file(__u64 flags)
{
	__u64 t = flags & SE_MAP_TYPE;

	return (t == SE_MAP_SHARED || t == SE_MAP_SHARED_VALIDATE) && !(flags & SE_MAP_ANONYMOUS);
}

/* How an io_uring request's bytes and file are found (enum se_uop_how). */
enum se_uop_how {
	SE_UOP_RW = 0, /* a read or write: its length (io_rw), its file */
	SE_UOP_FALLOC, /* fallocate: the range (io_sync.len) if the mode changes bytes */
	SE_UOP_FTRUNC, /* ftruncate: the size at submission minus the new length */
	SE_UOP_OPEN,   /* openat, openat2: the file it opened, if O_TRUNC and it existed */
	SE_UOP_SPLICE, /* splice: a write of its file (the output), a read of its input */
};

/*
 * Calls that end a mapping or move it (the probe forgets or moves what it
 * remembers of the range for mprotect): munmap (addr, len), mremap
 * (addr, old_len, new_len, ...) returning the new address. 1 munmap, 2
 * mremap, 0 neither.
 */
static inline __attribute__((always_inline)) int se_unmaps64(__u64 nr)
{
	return nr == 11 ? 1 : nr == 25 ? 2 : 0;
}

static inline __attribute__((always_inline)) int se_unmaps32(__u64 nr)
{
	return nr == 91 ? 1 : nr == 163 ? 2 : 0;
}

/* ia32 old_mmap's argument: mmap's six, 32 bits each, in this order
 * (struct mmap_arg_struct, arch/x86/kernel/sys_ia32.c; no uapi header). */
struct se_mmap_arg_struct {
	__u32 addr, len, prot, flags, fd, offset;
};

struct se_uop {
	__u8 kind; /* the event: SE_READ, SE_WRITE, SE_TRUNCATE; 0: not decoded */
	__u8 vec;  /* its length counts iovecs, not bytes */
	__u8 how;  /* io_uring only: enum se_uop_how */
};

/*
 * What a native AIO iocb's aio_lio_opcode (IOCB_CMD_*, include/uapi/linux/
 * aio_abi.h: uapi) means: a read or write of its aio_fildes (.kind), of
 * aio_nbytes bytes or (.vec) of that many iovecs at aio_buf.
 */
static inline __attribute__((always_inline)) struct se_uop se_aio_op(__u16 op)
{
	switch (op) {
	case 0: return (struct se_uop){SE_READ, 0, SE_UOP_RW};  /* PREAD */
	case 1: return (struct se_uop){SE_WRITE, 0, SE_UOP_RW}; /* PWRITE */
	case 7: return (struct se_uop){SE_READ, 1, SE_UOP_RW};  /* PREADV */
	case 8: return (struct se_uop){SE_WRITE, 1, SE_UOP_RW}; /* PWRITEV */
	default: return (struct se_uop){0, 0, 0};
	}
}

/*
 * What an io_uring opcode means to the probe (enum io_uring_op in
 * include/uapi/linux/io_uring.h: uapi, never renumbered). Requests never
 * pass through a read or write syscall, and with an SQPOLL ring not
 * through any syscall at all.
 */
static inline __attribute__((always_inline)) struct se_uop se_uring_op(__u8 op)
{
	switch (op) {
	case 1: return (struct se_uop){SE_READ, 1, SE_UOP_RW};   /* READV */
	case 2: return (struct se_uop){SE_WRITE, 1, SE_UOP_RW};  /* WRITEV */
	case 4: return (struct se_uop){SE_READ, 0, SE_UOP_RW};   /* READ_FIXED */
	case 5: return (struct se_uop){SE_WRITE, 0, SE_UOP_RW};  /* WRITE_FIXED */
	case 22: return (struct se_uop){SE_READ, 0, SE_UOP_RW};  /* READ */
	case 23: return (struct se_uop){SE_WRITE, 0, SE_UOP_RW}; /* WRITE */
	case 60: return (struct se_uop){SE_READ, 1, SE_UOP_RW};  /* READV_FIXED (6.15) */
	case 61: return (struct se_uop){SE_WRITE, 1, SE_UOP_RW}; /* WRITEV_FIXED */
	case 17: return (struct se_uop){SE_TRUNCATE, 0, SE_UOP_FALLOC}; /* FALLOCATE */
	case 55: return (struct se_uop){SE_TRUNCATE, 0, SE_UOP_FTRUNC}; /* FTRUNCATE (6.9) */
	case 18: return (struct se_uop){SE_TRUNCATE, 0, SE_UOP_OPEN};	/* OPENAT */
	case 28: return (struct se_uop){SE_TRUNCATE, 0, SE_UOP_OPEN};	/* OPENAT2 */
	/* the output's write; the input's read is decided on its own */
	case 30: return (struct se_uop){SE_WRITE, 0, SE_UOP_SPLICE}; /* SPLICE */
	/* TEE (33) moves bytes between two pipes only: no file */
	default: return (struct se_uop){0, 0, 0};
	}
}

/* io_uring requests that give a file a new name (file_rename, file_link),
 * as the calls of se_nameop64(): RENAMEAT (35), LINKAT (39); 0: none. */
static inline __attribute__((always_inline)) __u8 se_uring_nameop(__u8 op)
{
	return op == 35 ? SE_RENAME : op == 39 ? SE_LINK : 0;
}

/* io_uring requests after which a name computed before may be stale, as
 * se_renames64(): RENAMEAT (35). */
static inline __attribute__((always_inline)) int se_uring_renames(__u8 op)
{
	return op == 35;
}

#endif /* SENTINEL_SYSCALLS_H */
