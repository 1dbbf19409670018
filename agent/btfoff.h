/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offsets of kernel struct members, read from the running kernel's BTF, for
 * the probe's walks through kernel objects (fd -> file -> dentry/mount,
 * task -> cred, ...) with bpf_probe_read_kernel.
 *
 * Why not the headers libbcc compiles against: they may belong to another
 * kernel (Debian's 6.1 headers on a 6.18 node), and struct mount lives in
 * fs/mount.h, which no headers package ships. BTF describes the kernel that
 * is running, so the offsets come from there and reach the probe as -D
 * constants in libbcc's cflags:
 *
 *   -DSE_OFF_<TYPE>_<MEMBER>=<byte offset>   e.g. -DSE_OFF_FILE_F_PATH=64
 *   -DSE_SZ_<TYPE>_<MEMBER>=<byte size>      e.g. -DSE_SZ_QSTR_LEN=4
 *   -DSE_OFF_<TYPE>_<MEMBER>_MISSING=1       an optional member this kernel lacks
 *
 * <TYPE> and <MEMBER> are the names upper-cased, '.' in a member path
 * becoming '_': mnt_namespace + "ns.inum" gives SE_OFF_MNT_NAMESPACE_NS_INUM.
 *
 * Members are found through anonymous structs and unions (6.18 puts
 * file.f_path and dentry.d_name in anonymous unions), and through
 * typedefs and const/volatile to reach a nested struct. It fails closed: a
 * required struct or member that is absent, a bitfield that is not
 * byte-aligned, or two same-named structs that disagree is an error that
 * names them, and the agent must not start.
 *
 * Uses libbpf's BTF reader (libbpf-dev); libbpf may print its own warnings
 * on stderr when a file cannot be parsed.
 */
#ifndef SENTINEL_BTFOFF_H
#define SENTINEL_BTFOFF_H

#include <stdbool.h>
#include <stddef.h>

#define BTFOFF_VMLINUX "/sys/kernel/btf/vmlinux"

struct btf;
struct btfoff; /* opaque: owns the BTF, the results and the cflag strings */

/* One member the probe needs. */
struct btfoff_want {
	const char *type;   /* struct (or union) name: "file" */
	const char *member; /* member name, or a path through embedded members: "ns.inum" */
	bool optional;	    /* absent (member or whole struct) is not an error */
};

struct btfoff_result {
	bool present; /* false only for an absent optional member */
	size_t off;   /* bytes from the start of the struct */
	size_t size;  /* bytes */
};

/* The members the probe reads: the one table, in the order of the results. */
const struct btfoff_want *btfoff_probe_wants(size_t *n);

/* Loads the BTF at @path (raw BTF as in /sys/kernel/btf, or an ELF file
 * with a .BTF section such as a vmlinux); NULL means BTFOFF_VMLINUX.
 * Returns NULL with a message naming the path and the reason in @err. */
struct btfoff *btfoff_load(const char *path, char *err, size_t errcap);

/*
 * Headers mode, for a kernel without BTF whose own headers libbcc compiles
 * against: no BTF is read, and btfoff_resolve() makes each offset the
 * compiler's own, -DSE_OFF_<TYPE>_<MEMBER>=__builtin_offsetof(struct
 * <type>, <member>) (and SE_SZ_ likewise), plus -DSE_HEADERS=1; members of
 * structs in no headers package (struct mount, mnt_namespace) get none. Right only with the running
 * kernel's headers: the caller checks their version. NULL when out of memory.
 */
struct btfoff *btfoff_for_headers(void);

/* Wraps BTF already in memory (tests build it with btf__new_empty). Takes
 * ownership of @btf, also when it fails (NULL, out of memory): btfoff_free()
 * frees it. @source names it in messages. */
struct btfoff *btfoff_from_btf(struct btf *btf, const char *source);

/* Resolves @want[0..n), replacing earlier results and cflags. Returns 0;
 * -ENOENT when a required struct or member is absent ("struct file has no
 * member f_path"); -EINVAL for a bitfield not on byte boundaries, a path
 * through a non-struct, or same-named structs that disagree; -ENOMEM.
 * On error @err names every failing member ("; " between them) and there
 * are no cflags. */
int btfoff_resolve(struct btfoff *b, const struct btfoff_want *want, size_t n, char *err,
		   size_t errcap);

/* The results of the last successful btfoff_resolve(), one per want, in
 * order; NULL and *n == 0 before. Owned by @b. */
const struct btfoff_result *btfoff_results(const struct btfoff *b, size_t *n);

/* The -D strings for libbcc (see above), owned by @b, valid until the next
 * btfoff_resolve() or btfoff_free(); NULL and *n == 0 before. */
const char *const *btfoff_cflags(const struct btfoff *b, size_t *n);

/* Whether @b is headers mode (btfoff_for_headers). */
bool btfoff_is_headers(const struct btfoff *b);

/* The value of enumerator @name of enum @type ("cgroup_subsys_id",
 * "memory_cgrp_id") in *@out: 0, or -ENOENT when there is no such enum or
 * value (a controller this kernel was built without), or in headers mode. */
int btfoff_enum_value(const struct btfoff *b, const char *type, const char *name, long long *out);

/* How many arguments raw tracepoint @tp ("io_uring_complete") passes
 * (ctx->args[0..n)), from its btf_trace_<tp> typedef: a tracepoint's
 * arguments change between kernels (io_uring_complete: 7 in 6.1, 3 in
 * 6.18). -ENOENT when BTF has no such tracepoint, or in headers mode. */
int btfoff_tp_args(const struct btfoff *b, const char *tp);

void btfoff_free(struct btfoff *b);

#endif /* SENTINEL_BTFOFF_H */
