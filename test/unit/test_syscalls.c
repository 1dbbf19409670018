/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the probe's syscall decoding (probes/syscalls.h), for 64-bit
 * and 32-bit (ia32) tasks. IA-32 emulation is off on the CI machines, so a
 * 32-bit task cannot be run there: these synthetic numbers are the test.
 * The expected numbers are the kernel's tables (syscall_64.tbl,
 * syscall_32.tbl), written out again here on purpose: a typo in the probe's
 * copy must not pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "syscalls.h"

struct want {
	unsigned nr;
	unsigned sc, kind, src, dst;
};

static void expect(const struct want *w, size_t n, int compat)
{
	for (size_t i = 0; i < n; i++) {
		struct se_call c = compat ? se_decode32(w[i].nr) : se_decode64(w[i].nr);

		if (c.sc != w[i].sc || c.kind != w[i].kind ||
		    (!c.kind && (c.src != w[i].src || c.dst != w[i].dst)))
			fail_msg("%s nr %u: got sc=%u kind=%u src=%u dst=%u, want sc=%u kind=%u "
				 "src=%u dst=%u",
				 compat ? "ia32" : "x86_64", w[i].nr, c.sc, c.kind, c.src, c.dst,
				 w[i].sc, w[i].kind, w[i].src, w[i].dst);
	}
}

static void test_x86_64(void **state)
{
	static const struct want w[] = {
		{0, SE_SC_READ, SE_READ, 0, 0},
		{1, SE_SC_WRITE, SE_WRITE, 0, 0},
		{17, SE_SC_PREAD64, SE_READ, 0, 0},
		{18, SE_SC_PWRITE64, SE_WRITE, 0, 0},
		{19, SE_SC_READV, SE_READ, 0, 0},
		{20, SE_SC_WRITEV, SE_WRITE, 0, 0},
		{295, SE_SC_PREADV, SE_READ, 0, 0},
		{296, SE_SC_PWRITEV, SE_WRITE, 0, 0},
		{327, SE_SC_PREADV2, SE_READ, 0, 0},
		{328, SE_SC_PWRITEV2, SE_WRITE, 0, 0},
		{40, SE_SC_SENDFILE, 0, 1, 0}, /* sendfile(out_fd, in_fd, ...) */
		{275, SE_SC_SPLICE, 0, 0, 2},
		{326, SE_SC_COPY_FILE_RANGE, 0, 0, 2},
		{209, SE_SC_AIO, 0, 0, 0},
		{16, SE_SC_FICLONE, 0, 2, 0}, /* ioctl(dst, FICLONE, src) */
		{54, SE_SC_NONE, 0, 0, 0},    /* setsockopt (ia32 ioctl) */
		{77, SE_SC_FTRUNCATE, SE_TRUNCATE, 0, 0},
		{285, SE_SC_FALLOCATE, SE_TRUNCATE, 0, 0},
		{9, SE_SC_MMAP, SE_MMAP, 0, 0},
		{248, SE_SC_NONE, 0, 0, 0}, /* add_key (ia32 io_submit) */
		{93, SE_SC_NONE, 0, 0, 0},  /* fchown (ia32 ftruncate) */
		{194, SE_SC_NONE, 0, 0, 0}, /* listxattr (ia32 ftruncate64) */
		{192, SE_SC_NONE, 0, 0, 0}, /* lgetxattr (ia32 mmap2) */
		{90, SE_SC_NONE, 0, 0, 0},  /* chmod (ia32 old_mmap) */
		{10, SE_SC_MPROTECT, SE_MMAP, 0, 0},
		{125, SE_SC_NONE, 0, 0, 0}, /* capget (ia32 mprotect) */
		/* ia32's read, write, readv, pread64 are other calls here */
		{3, SE_SC_NONE, 0, 0, 0}, /* close */
		{4, SE_SC_NONE, 0, 0, 0}, /* stat */
		{145, SE_SC_NONE, 0, 0, 0},
		{180, SE_SC_NONE, 0, 0, 0},
		{257, SE_SC_NONE, 0, 0, 0}, /* openat */
	};

	(void)state;
	expect(w, sizeof(w) / sizeof(w[0]), 0);
}

static void test_ia32(void **state)
{
	static const struct want w[] = {
		{3, SE_SC_READ, SE_READ, 0, 0},
		{4, SE_SC_WRITE, SE_WRITE, 0, 0},
		{180, SE_SC_PREAD64, SE_READ, 0, 0},
		{181, SE_SC_PWRITE64, SE_WRITE, 0, 0},
		{145, SE_SC_READV, SE_READ, 0, 0},
		{146, SE_SC_WRITEV, SE_WRITE, 0, 0},
		{333, SE_SC_PREADV, SE_READ, 0, 0},
		{334, SE_SC_PWRITEV, SE_WRITE, 0, 0},
		{378, SE_SC_PREADV2, SE_READ, 0, 0},
		{379, SE_SC_PWRITEV2, SE_WRITE, 0, 0},
		{187, SE_SC_SENDFILE, 0, 1, 0},
		{239, SE_SC_SENDFILE, 0, 1, 0}, /* sendfile64 */
		{313, SE_SC_SPLICE, 0, 0, 2},
		{377, SE_SC_COPY_FILE_RANGE, 0, 0, 2},
		{248, SE_SC_AIO, 0, 0, 0},
		{54, SE_SC_FICLONE, 0, 2, 0}, /* ioctl */
		{16, SE_SC_NONE, 0, 0, 0},    /* lchown (x86_64 ioctl) */
		{93, SE_SC_FTRUNCATE, SE_TRUNCATE, 0, 0},
		{194, SE_SC_FTRUNCATE, SE_TRUNCATE, 0, 0}, /* ftruncate64 */
		{324, SE_SC_FALLOCATE, SE_TRUNCATE, 0, 0},
		{192, SE_SC_MMAP, SE_MMAP, 0, 0},    /* mmap2 */
		{209, SE_SC_NONE, 0, 0, 0},	     /* getresuid32 (x86_64 io_submit) */
		{77, SE_SC_NONE, 0, 0, 0},	     /* getrusage (x86_64 ftruncate) */
		{9, SE_SC_NONE, 0, 0, 0},	     /* link (x86_64 mmap) */
		{90, SE_SC_OLD_MMAP, SE_MMAP, 0, 0}, /* old_mmap: its arguments in a struct */
		{125, SE_SC_MPROTECT, SE_MMAP, 0, 0},
		{10, SE_SC_NONE, 0, 0, 0}, /* unlink (x86_64 mprotect) */
		/* x86_64's read, write and preadv mean other calls in ia32 */
		{0, SE_SC_NONE, 0, 0, 0},   /* restart_syscall */
		{1, SE_SC_NONE, 0, 0, 0},   /* exit */
		{295, SE_SC_NONE, 0, 0, 0}, /* openat */
		{326, SE_SC_NONE, 0, 0, 0},
	};

	(void)state;
	expect(w, sizeof(w) / sizeof(w[0]), 1);
}

/* Renames and mount changes (the epoch), by each table's numbers. */
static void test_renames(void **state)
{
	static const unsigned r64[] = {82, 264, 316, 165, 166, 155, 161, 428, 429, 432, 442};
	static const unsigned r32[] = {38, 302, 353, 21, 22, 52, 217, 61, 428, 429, 432, 442};
	static const unsigned not64[] = {0, 1, 38, 302, 21, 217, 61, 257, 87 /* unlink */};
	static const unsigned not32[] = {3, 4, 82, 264, 165, 161, 10 /* unlink */};

	(void)state;
	for (size_t i = 0; i < sizeof(r64) / sizeof(r64[0]); i++)
		assert_true(se_renames64(r64[i]));
	for (size_t i = 0; i < sizeof(r32) / sizeof(r32[0]); i++)
		assert_true(se_renames32(r32[i]));
	for (size_t i = 0; i < sizeof(not64) / sizeof(not64[0]); i++)
		assert_false(se_renames64(not64[i]));
	for (size_t i = 0; i < sizeof(not32) / sizeof(not32[0]); i++)
		assert_false(se_renames32(not32[i]));
}

/* Every call the probe names, in both tables: no syscall id is decodable
 * only on one side. */
static void test_both_tables(void **state)
{
	int seen64[SE_SC_MAX] = {0}, seen32[SE_SC_MAX] = {0};

	(void)state;
	for (unsigned nr = 0; nr < 512; nr++) {
		seen64[se_decode64(nr).sc]++;
		seen32[se_decode32(nr).sc]++;
	}
	for (unsigned sc = SE_SC_NONE + 1; sc < SE_SC_MAX; sc++) {
		if (sc == SE_SC_IO_URING || sc == SE_SC_MAPPED_STORE || sc == SE_SC_FICLONERANGE)
			continue; /* a request or a store, not a syscall number */
		if (sc == SE_SC_OLD_MMAP)
			continue; /* ia32 only (x86_64 has no such call) */
		if (sc == SE_SC_OPEN || sc == SE_SC_OPENAT || sc == SE_SC_OPENAT2 ||
		    sc == SE_SC_CREAT)
			continue; /* opens: decided at exit (test_opens) */
		if ((sc >= SE_SC_RENAME && sc <= SE_SC_LINKAT) || sc == SE_SC_TRUNCATE)
			continue; /* by name: decided at exit (test_nameops) */
		if (!seen64[sc] || !seen32[sc])
			fail_msg("syscall id %u: %d numbers in x86_64, %d in ia32", sc, seen64[sc],
				 seen32[sc]);
	}
}

/* The opens that may truncate, decided at exit, by each table's numbers,
 * and where their flags are. */
static void test_opens(void **state)
{
	static const struct {
		unsigned nr, sc, flags;
	} w64[] = {{2, SE_SC_OPEN, 1},
		   {257, SE_SC_OPENAT, 2},
		   {85, SE_SC_CREAT, SE_OPEN_ALWAYS},
		   {437, SE_SC_OPENAT2, SE_OPEN_HOW}},
	  w32[] = {{5, SE_SC_OPEN, 1},
		   {295, SE_SC_OPENAT, 2},
		   {8, SE_SC_CREAT, SE_OPEN_ALWAYS},
		   {437, SE_SC_OPENAT2, SE_OPEN_HOW}};
	/* each table's opens are other calls in the other table */
	static const unsigned not64[] = {5, 8, 0, 3, 86 /* link */, 295 /* preadv */};
	static const unsigned not32[] = {2, 257, 85 /* readlink */, 3, 6 /* close */};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct se_open a = se_open64(w64[i].nr), b = se_open32(w32[i].nr);

		if (a.sc != w64[i].sc || a.flags != w64[i].flags)
			fail_msg("x86_64 open nr %u: got sc=%u flags=%u", w64[i].nr, a.sc, a.flags);
		if (b.sc != w32[i].sc || b.flags != w32[i].flags)
			fail_msg("ia32 open nr %u: got sc=%u flags=%u", w32[i].nr, b.sc, b.flags);
	}
	for (size_t i = 0; i < sizeof(not64) / sizeof(not64[0]); i++)
		assert_int_equal(se_open64(not64[i]).sc, SE_SC_NONE);
	for (size_t i = 0; i < sizeof(not32) / sizeof(not32[0]); i++)
		assert_int_equal(se_open32(not32[i]).sc, SE_SC_NONE);
}

/* Renames, links and truncate(2), reported at exit: each table's numbers
 * and where each side's directory fd, name and the flags are. */
static void test_nameops(void **state)
{
	static const struct {
		unsigned nr, sc, kind;
		int odfd, oname, ndfd, nname, flags;
	} w[] = {
		{82, SE_SC_RENAME, SE_RENAME, -1, 0, -1, 1, -1},
		{264, SE_SC_RENAMEAT, SE_RENAME, 0, 1, 2, 3, -1},
		{316, SE_SC_RENAMEAT2, SE_RENAME, 0, 1, 2, 3, 4},
		{86, SE_SC_LINK, SE_LINK, -1, 0, -1, 1, -1},
		{265, SE_SC_LINKAT, SE_LINK, 0, 1, 2, 3, 4},
		{76, SE_SC_TRUNCATE, SE_TRUNCATE, -1, -1, -1, 0, -1},
	};
	static const unsigned n32[] = {38, 302, 353, 9, 303, 92};
	/* each table's numbers are other calls in the other one */
	static const unsigned not64[] = {38, 302, 353, 9, 303, 87 /* unlink */, 88 /* symlink */,
					 92, 193};
	static const unsigned not32[] = {82, 264, 316, 86, 265, 10 /* unlink */, 83 /* symlink */,
					 76 /* getrlimit */};

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct se_nameop a = se_nameop64(w[i].nr), b = se_nameop32(n32[i]);

		if (a.sc != w[i].sc || a.kind != w[i].kind || a.odfd != w[i].odfd ||
		    a.oname != w[i].oname || a.ndfd != w[i].ndfd || a.nname != w[i].nname ||
		    a.flags != w[i].flags)
			fail_msg("x86_64 nr %u: got sc=%u kind=%u args %d %d %d %d %d", w[i].nr,
				 a.sc, a.kind, a.odfd, a.oname, a.ndfd, a.nname, a.flags);
		/* ia32 passes the same arguments in its own registers */
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* ia32 truncate64 (path, length in two halves): as truncate */
	{
		struct se_nameop a = se_nameop32(92), b = se_nameop32(193);

		assert_memory_equal(&a, &b, sizeof(a));
	}
	for (size_t i = 0; i < sizeof(not64) / sizeof(not64[0]); i++)
		assert_int_equal(se_nameop64(not64[i]).sc, SE_SC_NONE);
	for (size_t i = 0; i < sizeof(not32) / sizeof(not32[0]); i++)
		assert_int_equal(se_nameop32(not32[i]).sc, SE_SC_NONE);
	/* the flags the probe and the pipeline test */
	assert_int_equal(SE_AT_EMPTY_PATH, AT_EMPTY_PATH);
	assert_int_equal(SE_AT_FDCWD, AT_FDCWD);
	assert_int_equal(RENAME_NOREPLACE, 1);
	assert_int_equal(RENAME_EXCHANGE, 2);
	assert_int_equal(RENAME_WHITEOUT, 4);
}

/* The uapi values the probe tests, against libc's and the kernel's headers. */
static void test_uapi_flags(void **state)
{
	(void)state;
	assert_int_equal(SE_O_TRUNC, O_TRUNC);
	assert_int_equal(SE_PROT_WRITE, PROT_WRITE);
	assert_int_equal(SE_MAP_SHARED, MAP_SHARED);
	assert_int_equal(SE_MAP_SHARED_VALIDATE, MAP_SHARED_VALIDATE);
	assert_int_equal(SE_MAP_ANONYMOUS, MAP_ANONYMOUS);
	assert_int_equal(SE_MAP_TYPE, MAP_TYPE);
	assert_int_equal(SE_FALLOC_CHANGES & FALLOC_FL_PUNCH_HOLE, FALLOC_FL_PUNCH_HOLE);
	assert_int_equal(SE_FALLOC_CHANGES & FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_COLLAPSE_RANGE);
	assert_int_equal(SE_FALLOC_CHANGES & FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE);
	assert_int_equal(SE_FALLOC_CHANGES & FALLOC_FL_INSERT_RANGE, FALLOC_FL_INSERT_RANGE);
	assert_int_equal(SE_FALLOC_CHANGES & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_UNSHARE_RANGE), 0);
	assert_int_equal(SE_FICLONE, FICLONE);
	assert_int_equal(SE_FICLONERANGE, FICLONERANGE);
	assert_true(se_clone_cmd(FICLONE) && se_clone_cmd(FICLONERANGE));
	assert_false(se_clone_cmd(FIDEDUPERANGE) || se_clone_cmd(FIONREAD) || se_clone_cmd(0));
	assert_true(se_mmap_shared_file(MAP_SHARED));
	assert_true(se_mmap_shared_file(MAP_SHARED_VALIDATE | MAP_POPULATE));
	assert_false(se_mmap_shared_file(MAP_PRIVATE));
	assert_false(se_mmap_shared_file(MAP_SHARED | MAP_ANONYMOUS));
	assert_false(se_mmap_shared_file(MAP_PRIVATE | MAP_ANONYMOUS));
}

/* munmap and mremap (ranges remembered for mprotect forgotten or moved),
 * by each table's numbers; each is another call in the other table. */
static void test_unmaps(void **state)
{
	(void)state;
	assert_int_equal(se_unmaps64(11), 1);
	assert_int_equal(se_unmaps64(25), 2);
	assert_int_equal(se_unmaps32(91), 1);
	assert_int_equal(se_unmaps32(163), 2);
	assert_int_equal(se_unmaps64(91), 0);  /* fchmod */
	assert_int_equal(se_unmaps64(163), 0); /* acct */
	assert_int_equal(se_unmaps32(11), 0);  /* execve */
	assert_int_equal(se_unmaps32(25), 0);  /* stime */
}

/* ia32 old_mmap's struct: six 32-bit arguments in mmap's order (the
 * kernel's struct mmap_arg_struct; IA-32 emulation is off on these VMs, so
 * the probe's reading of it is only checked here). */
static void test_old_mmap(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct se_mmap_arg_struct), 24);
	assert_int_equal(offsetof(struct se_mmap_arg_struct, len), 4);
	assert_int_equal(offsetof(struct se_mmap_arg_struct, prot), 8);
	assert_int_equal(offsetof(struct se_mmap_arg_struct, flags), 12);
	assert_int_equal(offsetof(struct se_mmap_arg_struct, fd), 16);
	assert_int_equal(offsetof(struct se_mmap_arg_struct, offset), 20);
}

/* io_uring opcodes, against the uapi header's enum (Debian's, 6.1: the
 * vectored fixed-buffer ones, 6.15's, and FTRUNCATE, 6.9's, written out).
 * Every other opcode moves or destroys no byte of a file (TEE: pipes
 * only). */
static void test_uring_ops(void **state)
{
	static const struct {
		unsigned op, kind, vec, how;
	} w[] = {
		{IORING_OP_READV, SE_READ, 1, SE_UOP_RW},
		{IORING_OP_WRITEV, SE_WRITE, 1, SE_UOP_RW},
		{IORING_OP_READ_FIXED, SE_READ, 0, SE_UOP_RW},
		{IORING_OP_WRITE_FIXED, SE_WRITE, 0, SE_UOP_RW},
		{IORING_OP_READ, SE_READ, 0, SE_UOP_RW},
		{IORING_OP_WRITE, SE_WRITE, 0, SE_UOP_RW},
		{60, SE_READ, 1, SE_UOP_RW} /* READV_FIXED */,
		{61, SE_WRITE, 1, SE_UOP_RW} /* WRITEV_FIXED */,
		{IORING_OP_FALLOCATE, SE_TRUNCATE, 0, SE_UOP_FALLOC},
		{55, SE_TRUNCATE, 0, SE_UOP_FTRUNC} /* FTRUNCATE */,
		{IORING_OP_OPENAT, SE_TRUNCATE, 0, SE_UOP_OPEN},
		{IORING_OP_OPENAT2, SE_TRUNCATE, 0, SE_UOP_OPEN},
		{IORING_OP_SPLICE, SE_WRITE, 0, SE_UOP_SPLICE},
	};
	unsigned decoded = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct se_uop u = se_uring_op((__u8)w[i].op);

		if (u.kind != w[i].kind || u.vec != w[i].vec || u.how != w[i].how)
			fail_msg("io_uring op %u: got kind=%u vec=%u how=%u, want %u %u %u",
				 w[i].op, u.kind, u.vec, u.how, w[i].kind, w[i].vec, w[i].how);
	}
	for (unsigned op = 0; op < 256; op++)
		decoded += se_uring_op((__u8)op).kind != 0;
	assert_int_equal(decoded, sizeof(w) / sizeof(w[0]));
	assert_int_equal(se_uring_op(IORING_OP_TEE).kind, 0);
	/* new names: reported as renames and links are */
	assert_int_equal(se_uring_nameop(IORING_OP_RENAMEAT), SE_RENAME);
	assert_int_equal(se_uring_nameop(IORING_OP_LINKAT), SE_LINK);
	decoded = 0;
	for (unsigned op = 0; op < 256; op++)
		decoded += se_uring_nameop((__u8)op) != 0;
	assert_int_equal(decoded, 2);
	assert_true(se_uring_renames(IORING_OP_RENAMEAT));
	assert_false(se_uring_renames(IORING_OP_UNLINKAT));
	assert_false(se_uring_renames(IORING_OP_LINKAT));
	assert_false(se_uring_renames(IORING_OP_WRITE));
}

/* Native AIO iocb opcodes, against the uapi header's IOCB_CMD_*. */
static void test_aio_ops(void **state)
{
	static const struct {
		unsigned op, kind, vec;
	} w[] = {
		{IOCB_CMD_PREAD, SE_READ, 0},  {IOCB_CMD_PWRITE, SE_WRITE, 0},
		{IOCB_CMD_PREADV, SE_READ, 1}, {IOCB_CMD_PWRITEV, SE_WRITE, 1},
		{IOCB_CMD_FSYNC, 0, 0},	       {IOCB_CMD_FDSYNC, 0, 0},
		{IOCB_CMD_POLL, 0, 0},	       {IOCB_CMD_NOOP, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct se_uop u = se_aio_op((__u16)w[i].op);

		if (u.kind != w[i].kind || u.vec != w[i].vec)
			fail_msg("iocb op %u: got kind=%u vec=%u, want %u %u", w[i].op, u.kind,
				 u.vec, w[i].kind, w[i].vec);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_64),	  cmocka_unit_test(test_ia32),
		cmocka_unit_test(test_renames),	  cmocka_unit_test(test_both_tables),
		cmocka_unit_test(test_old_mmap),  cmocka_unit_test(test_unmaps),
		cmocka_unit_test(test_uring_ops), cmocka_unit_test(test_aio_ops),
		cmocka_unit_test(test_opens),	  cmocka_unit_test(test_uapi_flags),
		cmocka_unit_test(test_nameops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
