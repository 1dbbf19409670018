/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-kernel path walk: from a struct file to the path the kernel
 * resolved, the text `readlink /proc/<pid>/fd/<n>` gives from the host,
 * without bpf_d_path (refused on raw tracepoints) and without kprobes.
 *
 * Two parts. The record layout (struct se_kpath) is shared with the agent
 * (agent/kpath.h decodes it), so it uses only __u* types, like event.h. The
 * BPF part is compiled only by libbcc (__BPF_TRACING__), included into the
 * probe text after event.h.
 *
 * Kernel struct layouts differ between kernels and the headers libbcc
 * compiles against are not the running kernel's, so no struct member is
 * named here: every offset comes from the running kernel's BTF as a -D
 * constant SE_OFF_<STRUCT>_<MEMBER> (agent/btfoff.c). A missing one fails
 * the compile naming it. Every read is bpf_probe_read_kernel at such an
 * offset: a stale pointer gives a failed read, never a fault.
 */
#ifndef SENTINEL_PATHWALK_H
#define SENTINEL_PATHWALK_H

#include <linux/types.h>

#define SE_KP_BUF 4096	    /* bytes of component names, each NUL included */
#define SE_KP_NAME_MAX 255  /* NAME_MAX: a longer name is not copied cut */
#define SE_KP_DEPTH 128	    /* walk steps: components plus mount crossings */

/* se_kpath.flags */
#define SE_KP_F_TRUNCATED 0x1  /* a bound was hit or a read failed: the name the record
				* gives (walk 2's with SE_KP_F_BIND) holds only its
				* leaf-most components, what lies above them is unknown */
#define SE_KP_F_UNLINKED 0x2   /* the file was deleted (readlink appends " (deleted)") */
#define SE_KP_F_ROOT 0x4       /* walk 1 passed the process's root: root_at is valid */
#define SE_KP_F_ESCAPED 0x8    /* walk 1 stopped at a dentry that is its own parent but
				* not its mount's root: a pipe, socket or anon inode
				* (count 0), or a file moved out of the directory its bind
				* mount shows. d_path stops there too and names it "/";
				* names[] keeps what the walk saw, the path below the root
				* of its filesystem. */
#define SE_KP_F_FAULT 0x10     /* a kernel read failed (with TRUNCATED), or no file */
#define SE_KP_F_BIND 0x20      /* walk 1 met a mount showing a subtree of its filesystem
				* (a bind of a directory or file) and walk 2 named the
				* file at its origin: bind_at, bind_from, origin_ns valid */
#define SE_KP_F_NO_ORIGIN 0x40 /* such a mount, but no origin mount shows the file: the
				* name is walk 1's alone; bind_at and bind_from say where
				* the subtree began (bind_from == count) */
#define SE_KP_F_ALL 0x7f

/*
 * Components leaf first, each NUL-terminated, appended forward: the walk
 * meets them leaf first, and appending at a growing offset needs one bound
 * check per component for the verifier. Prepending into the end of the
 * buffer would hand user space a ready string, but needs each name's length
 * before copying it, and a name can change under us (rename), so the copy
 * could not stop at the NUL. User space reverses count strings: cheap.
 *
 * Two walks share names[]. Walk 1's components come first, [0, bind_from)
 * (all of names[] without SE_KP_F_BIND): the path readlink shows. With
 * SE_KP_F_BIND, walk 2's follow, [bind_from, count): the file's name at its
 * origin is walk 1's first bind_at components (those below the subtree
 * mount's root) and then walk 2's. Walk 1 first and whole, because the name
 * readlink shows is what the process itself sees (root_at) and walk 2 only
 * runs for a complete walk 1: a walk 1 cut short (TRUNCATED) already
 * matches every rule in user space, so a deep mountpoint hides nothing.
 */
struct se_kpath {
	/*
	 * What the path was made of: each component's dentry and its name's
	 * hash and length (d_name.hash_len, hashed with the parent as salt),
	 * each mount crossed and the origin mount (SE_KP_F_BIND), mixed.
	 * Equal for two walks of one file only if no component moved or was
	 * renamed in between: the probe keeps a file's verdict across a rename
	 * elsewhere on the node when the signature is unchanged, instead of
	 * deciding it again.
	 */
	__u64 sig;
	__u64 ino;	 /* inode->i_ino */
	__u32 dev;	 /* inode->i_sb->s_dev, kernel dev_t: major << 20 | minor */
	__u32 mntns;	 /* current's mount namespace (the inum of /proc/PID/ns/mnt) */
	__u16 count;	 /* components in names[], both walks */
	__u16 root_at;	 /* with SE_KP_F_ROOT: how many of walk 1's lie below the process root */
	__u16 len;	 /* bytes of names[] used, NULs included; at most SE_KP_BUF */
	__u16 flags;	 /* SE_KP_F_* */
	__u16 bind_at;	 /* BIND, NO_ORIGIN: walk 1's components below the subtree's root */
	__u16 bind_from; /* BIND, NO_ORIGIN: walk 1's count, where walk 2's components start */
	__u32 origin_ns; /* BIND: the mount namespace (inum) of the origin mount */
	/*
	 * Sent up to len. The slack past SE_KP_BUF is never sent (a name that
	 * reaches into it does not fit and is dropped): it lets the verifier
	 * accept a copy of SE_KP_NAME_MAX + 1 bytes at any offset up to
	 * SE_KP_BUF.
	 */
	char names[SE_KP_BUF + SE_KP_NAME_MAX + 1];
};

#define SE_KP_HDR __builtin_offsetof(struct se_kpath, names)

#ifdef __BPF_TRACING__

/* A kernel pointer (or 0 when the read fails). */
static __always_inline __u64 se_kp_ptr(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __u32 se_kp_u32(__u64 addr)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)addr);
	return v;
}

/*
 * current->files->fdt->fd[fd], or 0. The verifier needs nothing here (each
 * read is a probe read); the bound check against max_fds is for us: past
 * the array lies another object, which we would walk as a file. fdt and
 * max_fds come from one table: a growing table is published as a new
 * fdtable and the old one freed after an RCU grace period, and the program
 * runs under RCU, so the pair stays consistent. What races allow: another
 * thread may close or dup2 over the fd between the syscall and this read,
 * and then we name the file now there; a struct file freed meanwhile is
 * SLAB_TYPESAFE_BY_RCU memory, which may name another file or fail a read
 * (SE_KP_F_FAULT), never crash.
 */
static __always_inline __u64 se_fd_file(int fd)
{
	__u64 files = se_kp_ptr(bpf_get_current_task() + SE_OFF_TASK_STRUCT_FILES);
	__u64 fdt, arr;

	if (!files || fd < 0)
		return 0;
	fdt = se_kp_ptr(files + SE_OFF_FILES_STRUCT_FDT);
	if (!fdt)
		return 0;
#if SE_OFF_FDTABLE_MAX_FDS == 0 && SE_OFF_FDTABLE_FD == 8
	{
		/* { unsigned int max_fds; struct file **fd; } as in every kernel
		 * so far: one read for both (this runs on every decided read or
		 * write, where each probe read is a measurable share). */
		__u64 two[2] = {};

		bpf_probe_read_kernel(two, sizeof(two), (void *)fdt);
		if ((__u32)fd >= (__u32)two[0])
			return 0;
		arr = two[1];
	}
#else
	if ((__u32)fd >= se_kp_u32(fdt + SE_OFF_FDTABLE_MAX_FDS))
		return 0;
	arr = se_kp_ptr(fdt + SE_OFF_FDTABLE_FD);
#endif
	return arr ? se_kp_ptr(arr + (__u64)fd * sizeof(__u64)) : 0;
}

/* d_unlinked(): unhashed, and not a root (roots are never hashed). */
static __always_inline int se_kp_unlinked(__u64 dentry)
{
	__u64 pprev = se_kp_ptr(dentry + SE_OFF_DENTRY_D_HASH + SE_OFF_HLIST_BL_NODE_PPREV);

	return !pprev && se_kp_ptr(dentry + SE_OFF_DENTRY_D_PARENT) != dentry;
}

/* dev, ino and the mount namespace: what names the file beyond its path. */
static __always_inline void se_kp_ids(struct se_kpath *kp, __u64 task, __u64 file)
{
	__u64 inode = se_kp_ptr(file + SE_OFF_FILE_F_INODE);
	__u64 nsp = se_kp_ptr(task + SE_OFF_TASK_STRUCT_NSPROXY);
	__u64 mntns = nsp ? se_kp_ptr(nsp + SE_OFF_NSPROXY_MNT_NS) : 0;

	kp->ino = inode ? se_kp_ptr(inode + SE_OFF_INODE_I_INO) : 0;
	kp->dev = inode ? se_kp_u32(se_kp_ptr(inode + SE_OFF_INODE_I_SB) + SE_OFF_SUPER_BLOCK_S_DEV)
			: 0;
	kp->mntns = mntns ? se_kp_u32(mntns + SE_OFF_MNT_NAMESPACE_NS + SE_OFF_NS_COMMON_INUM) : 0;
}

/*
 * Append @dentry's name at names[len]: 1 done, 0 no room (the bound, or a
 * name longer than SE_KP_NAME_MAX, which we do not copy cut), -1 a failed
 * read. A rename may change the name under us: the copy stops at the NUL
 * of whichever name it reads, old or new, both real names.
 *
 * The offset goes through kp->len (map memory), not a local, on purpose:
 * a local would be a scalar the verifier tracks precisely (it offsets a
 * pointer), different after every name, so no two paths through the walk
 * would ever look alike and it would explore each one (over 1M
 * instructions at 128 steps). Loaded from map memory it is unknown, the
 * check below bounds it the same way every time, and paths merge.
 */
static __always_inline int se_kp_name(struct se_kpath *kp, __u64 dentry)
{
	__u64 name = se_kp_ptr(dentry + SE_OFF_DENTRY_D_NAME + SE_OFF_QSTR_NAME);
	__u32 o = kp->len;
	char more = 0;
	long n;

	/* The verifier needs this bound on the destination. */
	if (!name || o > SE_KP_BUF)
		return -1;
	n = bpf_probe_read_kernel_str(kp->names + o, SE_KP_NAME_MAX + 1, (void *)name);
	if (n <= 0)
		return -1;
	/* A full copy is a 255-byte name, or a longer one cut: look past it. */
	if (n == SE_KP_NAME_MAX + 1) {
		bpf_probe_read_kernel(&more, 1, (void *)(name + SE_KP_NAME_MAX));
		if (more)
			return 0;
	}
	if (o + n > SE_KP_BUF)
		return 0;
	kp->len = o + n;
	return 1;
}

/* A struct mount from its embedded struct vfsmount (container_of). */
#define SE_KP_MOUNT(vfsmnt) ((vfsmnt) - SE_OFF_MOUNT_MNT)

/*
 * What the walk carries from step to step. Kept in one struct so each
 * step is a short function; it lives on the stack (48 bytes).
 */
struct se_kp_walk {
	__u64 dentry, vfsmnt, mnt_root; /* where we are */
	__u64 root_dentry, root_mnt;	/* current->fs->root */
	__u64 sig;			/* se_kpath.sig so far */
	__u16 count, flags;
};

/* One more part of the signature: a multiply-xorshift mix (not a
 * cryptographic hash; see se_kpath.sig for what it must tell apart). */
static __always_inline __u64 se_kp_mix(__u64 sig, __u64 v)
{
	sig = (sig ^ v) * 0x9e3779b97f4a7c15ULL;
	return sig ^ (sig >> 29);
}

/*
 * At @w->dentry == its mount's root: step to where that mount is mounted.
 * 1 crossed, 0 top of this mount namespace's tree (its root mount is its
 * own parent), -1 a failed read.
 */
static __always_inline int se_kp_cross(struct se_kp_walk *w)
{
	__u64 mnt = SE_KP_MOUNT(w->vfsmnt);
	__u64 parent = se_kp_ptr(mnt + SE_OFF_MOUNT_MNT_PARENT);

	if (parent == mnt)
		return 0;
	w->sig = se_kp_mix(w->sig, mnt);
	w->dentry = se_kp_ptr(mnt + SE_OFF_MOUNT_MNT_MOUNTPOINT);
	w->vfsmnt = parent + SE_OFF_MOUNT_MNT;
	w->mnt_root = se_kp_ptr(w->vfsmnt + SE_OFF_VFSMOUNT_MNT_ROOT);
	return parent && w->dentry && w->mnt_root ? 1 : -1;
}

/*
 * One step up, as the kernel's prepend_path: 1 go on, 0 done (the top, or
 * escaped), -1 stop with the leaf part only (bound hit or failed read).
 * The process root does not stop the walk, as it stops d_path: we note how
 * many components lie below it and go on to the top, so one walk gives
 * both the path from the host and the path the process itself sees.
 */
static __always_inline int se_kp_step(struct se_kpath *kp, struct se_kp_walk *w)
{
	__u64 parent;
	int r;

	if (w->dentry == w->root_dentry && w->vfsmnt == w->root_mnt) {
		w->flags |= SE_KP_F_ROOT;
		kp->root_at = w->count;
	}
	if (w->dentry == w->mnt_root) {
		r = se_kp_cross(w);
		if (r < 0)
			w->flags |= SE_KP_F_FAULT;
		return r;
	}
	parent = se_kp_ptr(w->dentry + SE_OFF_DENTRY_D_PARENT);
	if (!parent) {
		w->flags |= SE_KP_F_FAULT;
		return -1;
	}
	/*
	 * Its own parent but not the mount's root: the root of a pseudo
	 * filesystem (pipe, socket), or a file renamed out of the part a
	 * bind mount shows. The kernel stops here too (prepend_path's
	 * "escaped"); crossing to the mountpoint, as at a mount's root,
	 * would put the names under the wrong directory.
	 */
	if (parent == w->dentry) {
		w->flags |= SE_KP_F_ESCAPED;
		return 0;
	}
	r = se_kp_name(kp, w->dentry);
	if (r <= 0) {
		if (r < 0)
			w->flags |= SE_KP_F_FAULT;
		return -1;
	}
	w->count++;
	w->sig = se_kp_mix(se_kp_mix(w->sig, w->dentry),
			   se_kp_ptr(w->dentry + SE_OFF_DENTRY_D_NAME + SE_OFF_QSTR_HASH_LEN));
	w->dentry = parent;
	return 1;
}

/*
 * Fill @kp (a map value: names[] is too big for the stack) with the path of
 * @file, a struct file * (e.g. from se_fd_file()); @file 0 gives count 0
 * and SE_KP_F_FAULT. A concurrent rename may mix old and new names (the
 * kernel retries under rename_lock; a BPF program cannot take it). Bounded
 * loop: the verifier walks each of the SE_KP_DEPTH steps (6.18 accepts it).
 */
static __always_inline void se_kpath_walk(struct se_kpath *kp, __u64 file)
{
	__u64 task = bpf_get_current_task();
	__u64 fs = se_kp_ptr(task + SE_OFF_TASK_STRUCT_FS);
	struct se_kp_walk w = {};
	int i, r = -1;

	kp->count = kp->root_at = kp->len = 0;
	kp->bind_at = kp->bind_from = 0;
	kp->origin_ns = 0;
	se_kp_ids(kp, task, file);
	w.dentry = se_kp_ptr(file + SE_OFF_FILE_F_PATH + SE_OFF_PATH_DENTRY);
	w.vfsmnt = se_kp_ptr(file + SE_OFF_FILE_F_PATH + SE_OFF_PATH_MNT);
	w.mnt_root = se_kp_ptr(w.vfsmnt + SE_OFF_VFSMOUNT_MNT_ROOT);
	if (!file || !w.dentry || !w.vfsmnt || !w.mnt_root) {
		kp->flags = SE_KP_F_TRUNCATED | SE_KP_F_FAULT;
		return;
	}
	/* Without fs (an exiting task) the root is never met: no SE_KP_F_ROOT. */
	w.root_dentry = fs ? se_kp_ptr(fs + SE_OFF_FS_STRUCT_ROOT + SE_OFF_PATH_DENTRY) : 0;
	w.root_mnt = fs ? se_kp_ptr(fs + SE_OFF_FS_STRUCT_ROOT + SE_OFF_PATH_MNT) : 0;
	if (se_kp_unlinked(w.dentry))
		w.flags |= SE_KP_F_UNLINKED;
	for (i = 0; i < SE_KP_DEPTH; i++) {
		r = se_kp_step(kp, &w);
		if (r <= 0)
			break;
	}
	/* Out of steps (r == 1) or stopped early: the top is unknown. */
	if (r != 0)
		w.flags |= SE_KP_F_TRUNCATED;
	kp->count = w.count;
	kp->flags = w.flags;
	kp->sig = se_kp_mix(w.sig, w.flags);
}

/* The bytes of @kp to send: the header and the names used. */
static __always_inline __u32 se_kpath_size(struct se_kpath *kp)
{
	__u32 len = kp->len;

	/* Never true; it shows the verifier the size fits the value. */
	if (len > SE_KP_BUF)
		len = SE_KP_BUF;
	return SE_KP_HDR + len;
}

#endif /* __BPF_TRACING__ */
#endif /* SENTINEL_PATHWALK_H */
