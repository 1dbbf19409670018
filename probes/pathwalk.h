/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-kernel path walk: from a struct file to the path the kernel
 * resolved, the text `readlink /proc/<pid>/fd/<n>` gives from the host,
 * without bpf_d_path (refused on raw tracepoints) and without kprobes.
 *
 * Two walks. Walk 1 goes up the dentry chain and the mount chain to the top
 * of the process's mount namespace: readlink's name, and how much of it
 * lies below the process's root. A file used through a mount that shows
 * only a subtree of its filesystem (mnt_root != sb->s_root: a bind mount of
 * a directory or a file, a container's volume) has that name only through
 * the mount: `mount --bind /etc /tmp/e` and /tmp/e/shadow is /etc/shadow,
 * which a rule on /etc/ must see. So walk 1 notes the first such mount it
 * meets, and walk 2 names the file at its origin: from that mount's root up
 * to the root of a mount of the same filesystem that shows it (the host's
 * root mount, or a mount of the whole filesystem in the host's mount
 * namespace, else in the process's own), then on as walk 1 would from
 * there. Both names go up in one record (struct se_kpath); the origin's is
 * the one rules match. Walk 2 runs only when a file is named, never on a
 * decided read or write.
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

#define SE_KP_BUF 4096	     /* bytes of component names, each NUL included */
#define SE_KP_NAME_MAX 255   /* NAME_MAX: a longer name is not copied cut */
#define SE_KP_DEPTH 128	     /* walk steps: components plus mount crossings */
#define SE_KP_BIND_DEPTH 64  /* walk 2's steps: components above a subtree's root, crossings */
#define SE_KP_ORIGIN_SCAN 16 /* mounts of one filesystem looked at for an origin */
#define SE_KP_PIDNS_DEPTH 32 /* MAX_PID_NS_LEVEL: pid namespaces nest at most this deep */

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

#ifdef SE_HEADERS
/* Where the structs whose offsets the probe reads are declared (the
 * members: agent/btfoff.c's table). */
#include <linux/cgroup-defs.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kernfs.h>
#include <linux/list_bl.h>
#include <linux/mm_types.h>
#include <linux/mount.h>
#include <linux/nsproxy.h>
#include <linux/ns_common.h>
#include <linux/sched.h>
#endif

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
/* Headers mode's offsets are expressions the preprocessor cannot compare:
 * the fast paths below need numbers (BTF). */
#if !defined(SE_HEADERS)
#if SE_OFF_FILES_STRUCT_FDTAB == SE_OFF_FILES_STRUCT_FDT + 8 && SE_OFF_FDTABLE_MAX_FDS == 0 && \
	SE_OFF_FDTABLE_FD == 8
#define SE_FDT_ONE_READ 1
#endif
#endif

static __always_inline __u64 se_fd_file(int fd)
{
	__u64 files = se_kp_ptr(bpf_get_current_task() + SE_OFF_TASK_STRUCT_FILES);
	__u64 fdt, arr;
	__u32 max;

	if (!files || fd < 0)
		return 0;
#ifdef SE_FDT_ONE_READ
	{
		/*
		 * fdt, then the embedded fdtab { max_fds, fd }, as in every
		 * kernel so far: one read for the three. A process that never
		 * had more than BITS_PER_LONG fds (most) uses the embedded
		 * table (fdt == &files->fdtab), and its max_fds and fd are
		 * those we read; otherwise they come from *fdt, one read more.
		 * This runs on every decided read or write, where each probe
		 * read is a measurable share (about 15 ns here).
		 */
		__u64 three[3] = {};

		bpf_probe_read_kernel(three, sizeof(three), (void *)(files + SE_OFF_FILES_STRUCT_FDT));
		fdt = three[0];
		if (!fdt)
			return 0;
		if (fdt != files + SE_OFF_FILES_STRUCT_FDTAB)
			bpf_probe_read_kernel(&three[1], 16, (void *)fdt);
		max = (__u32)three[1];
		arr = three[2];
	}
#else
	fdt = se_kp_ptr(files + SE_OFF_FILES_STRUCT_FDT);
	if (!fdt)
		return 0;
	max = se_kp_u32(fdt + SE_OFF_FDTABLE_MAX_FDS);
	arr = se_kp_ptr(fdt + SE_OFF_FDTABLE_FD);
#endif
	if ((__u32)fd >= max)
		return 0;
	return arr ? se_kp_ptr(arr + (__u64)fd * sizeof(__u64)) : 0;
}

/* d_unlinked(): unhashed, and not a root (roots are never hashed). */
static __always_inline int se_kp_unlinked(__u64 dentry)
{
	__u64 pprev = se_kp_ptr(dentry + SE_OFF_DENTRY_D_HASH + SE_OFF_HLIST_BL_NODE_PPREV);

	return !pprev && se_kp_ptr(dentry + SE_OFF_DENTRY_D_PARENT) != dentry;
}

/* dev, ino and the mount namespace: what names the file beyond its path. */
static __always_inline void se_kp_ids(struct se_kpath *kp, __u64 task, __u64 inode)
{
	__u64 nsp = se_kp_ptr(task + SE_OFF_TASK_STRUCT_NSPROXY);
	__u64 mntns = nsp ? se_kp_ptr(nsp + SE_OFF_NSPROXY_MNT_NS) : 0;

	kp->ino = inode ? se_kp_ptr(inode + SE_OFF_INODE_I_INO) : 0;
	kp->dev = inode ? se_kp_u32(se_kp_ptr(inode + SE_OFF_INODE_I_SB) + SE_OFF_SUPER_BLOCK_S_DEV)
			: 0;
#ifdef SE_HEADERS
	kp->mntns = 0; /* struct mnt_namespace is in no headers package */
	(void)mntns;
#else
	kp->mntns = mntns ? se_kp_u32(mntns + SE_OFF_MNT_NAMESPACE_NS + SE_OFF_NS_COMMON_INUM) : 0;
#endif
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

/* se_kp_cross(): headers mode (SE_HEADERS) cannot cross a mount. */
#define SE_KP_NO_CROSS (-2)

/*
 * What the walk carries from step to step. Kept in one struct so each
 * step is a short function; it lives on the stack (88 bytes), and walk 2
 * reuses it.
 */
struct se_kp_walk {
	__u64 dentry, vfsmnt, mnt_root; /* where we are */
	__u64 root_dentry, root_mnt;	/* current->fs->root */
	__u64 sig;			/* se_kpath.sig so far */
	/* Where walk 1 met the first mount showing a subtree of its
	 * filesystem (valid once kp->bind_from is 1, see se_kp_subtree):
	 * the subtree's root, that mount (a struct vfsmount *), its
	 * superblock, the superblock's root dentry, and walk 1's count. */
	__u64 bind_dentry, bind_mnt, bind_sb, bind_sroot;
	__u16 count, flags, bind_at;
};

/* One more part of the signature: a multiply-xorshift mix (not a
 * cryptographic hash; see se_kpath.sig for what it must tell apart). */
static __always_inline __u64 se_kp_mix(__u64 sig, __u64 v)
{
	sig = (sig ^ v) * 0x9e3779b97f4a7c15ULL;
	return sig ^ (sig >> 29);
}

/*
 * At @w->dentry, the root of the mount @w->vfsmnt or (escaped) of no
 * mount: if walk 1 meets the first mount whose root is not its
 * filesystem's root (mnt_root != sb->s_root: a bind of a directory or of a
 * file, a filesystem mounted from a subdirectory), remember where, for
 * walk 2. Two reads at each mount root until one is found.
 */
static __always_inline void se_kp_subtree(struct se_kpath *kp, struct se_kp_walk *w)
{
	__u64 sb, sroot;

	/*
	 * Whether one was met is kept in map memory (kp->bind_from 1), not in
	 * w: a flag the verifier knows to be 0 on one path and 1 on another
	 * would keep the two apart for every step after (it tracks a value
	 * a branch depends on precisely), doubling the walk it explores.
	 * Loaded from the map it is unknown, and the paths merge. The same
	 * goes for every test of walk 1's state below: on pointers read from
	 * the kernel, never on w.flags.
	 */
	if (kp->bind_from)
		return;
	sb = se_kp_ptr(w->vfsmnt + SE_OFF_VFSMOUNT_MNT_SB);
	sroot = sb ? se_kp_ptr(sb + SE_OFF_SUPER_BLOCK_S_ROOT) : 0;
	/* A failed read tells nothing: the name stays walk 1's. */
	if (!sroot || sroot == w->mnt_root)
		return;
	w->bind_dentry = w->dentry;
	w->bind_mnt = w->vfsmnt;
	w->bind_sb = sb;
	w->bind_sroot = sroot;
	w->bind_at = w->count;
	kp->bind_from = 1;
}

/*
 * At @w->dentry == its mount's root: step to where that mount is mounted.
 * 1 crossed, 0 top of this mount namespace's tree (its root mount is its
 * own parent), -1 a failed read, SE_KP_NO_CROSS in headers mode.
 */
static __always_inline int se_kp_cross(struct se_kp_walk *w)
{
#ifdef SE_HEADERS
	/* struct mount (fs/mount.h) is in no headers package: without BTF the
	 * path ends at its mount's root and is flagged truncated (it then
	 * matches every rule), never named as if the mount were the root. */
	(void)w;
	return SE_KP_NO_CROSS;
#else
	__u64 mnt = SE_KP_MOUNT(w->vfsmnt);
	__u64 parent = se_kp_ptr(mnt + SE_OFF_MOUNT_MNT_PARENT);

	if (parent == mnt)
		return 0;
	w->sig = se_kp_mix(w->sig, mnt);
	w->dentry = se_kp_ptr(mnt + SE_OFF_MOUNT_MNT_MOUNTPOINT);
	w->vfsmnt = parent + SE_OFF_MOUNT_MNT;
	w->mnt_root = se_kp_ptr(w->vfsmnt + SE_OFF_VFSMOUNT_MNT_ROOT);
	return parent && w->dentry && w->mnt_root ? 1 : -1;
#endif
}

/*
 * One step up, as the kernel's prepend_path: 1 go on, 0 done (the top, or
 * escaped), -1 stop with the leaf part only (bound hit or failed read).
 * In walk 1 (@walk1, a constant: each walk gets its own copy) the process
 * root does not stop the walk, as it stops d_path: we note how many
 * components lie below it and go on to the top, so one walk gives both the
 * path from the host and the path the process itself sees; and the first
 * subtree mount is noted for walk 2. Walk 2 does neither: its path is not
 * one the process sees, and it names the file at one origin only.
 */
static __always_inline int se_kp_step(struct se_kpath *kp, struct se_kp_walk *w, int walk1)
{
	__u64 parent;
	int r;

	if (walk1 && w->dentry == w->root_dentry && w->vfsmnt == w->root_mnt) {
		w->flags |= SE_KP_F_ROOT;
		kp->root_at = w->count;
	}
	if (w->dentry == w->mnt_root) {
		if (walk1)
			se_kp_subtree(kp, w);
		r = se_kp_cross(w);
		if (r == -1)
			w->flags |= SE_KP_F_FAULT;
		return r < 0 ? -1 : r;
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

#ifndef SE_HEADERS
/* Walk 2 reads struct mount (fs/mount.h), in no headers package: headers
 * mode never gets there (walk 1 stops at the file's mount) and has none. */

/* The mount namespace (inum) a struct mount is in; 0 for none (detached). */
static __always_inline __u32 se_kp_mnt_ns(__u64 mnt)
{
	__u64 ns = se_kp_ptr(mnt + SE_OFF_MOUNT_MNT_NS);

	return ns ? se_kp_u32(ns + SE_OFF_MNT_NAMESPACE_NS + SE_OFF_NS_COMMON_INUM) : 0;
}

/*
 * The host's root mount (a struct vfsmount *): the root of the node's init,
 * if init is in the mount namespace @host; else 0. Reached through pid
 * namespaces (current's, up to the first, whose child_reaper is init): at
 * most SE_KP_PIDNS_DEPTH steps, however the process was started, where the
 * real_parent chain is as long as a process likes. No address from user
 * space is needed, and init's root is pinned while it is its root.
 */
static __always_inline __u64 se_kp_host_root(__u32 host)
{
	__u64 nsp = se_kp_ptr(bpf_get_current_task() + SE_OFF_TASK_STRUCT_NSPROXY);
	__u64 pidns = nsp ? se_kp_ptr(nsp + SE_OFF_NSPROXY_PID_NS_FOR_CHILDREN) : 0;
	__u64 up, init, fs, mnt;
	int i;

	if (!pidns || !host)
		return 0;
	for (i = 0; i < SE_KP_PIDNS_DEPTH; i++) {
		up = se_kp_ptr(pidns + SE_OFF_PID_NAMESPACE_PARENT);
		if (!up)
			break;
		pidns = up;
	}
	init = se_kp_ptr(pidns + SE_OFF_PID_NAMESPACE_CHILD_REAPER);
	fs = init ? se_kp_ptr(init + SE_OFF_TASK_STRUCT_FS) : 0;
	mnt = fs ? se_kp_ptr(fs + SE_OFF_FS_STRUCT_ROOT + SE_OFF_PATH_MNT) : 0;
	return mnt && se_kp_mnt_ns(SE_KP_MOUNT(mnt)) == host ? mnt : 0;
}

/*
 * The first mount of @sb whose root is @sroot (the whole filesystem) in
 * the mount namespace @host, else the first in @own, among the first
 * SE_KP_ORIGIN_SCAN mounts of the superblock; 0 for none. *@ns: the
 * namespace of the one returned.
 *
 * The superblock's list of mounts differs between kernels: in 6.1 a
 * list_head through mount.mnt_instance, oldest first; in 6.18 a singly
 * linked list through mount.mnt_next_for_sb, newest first (new mounts are
 * added at its head). BTF says which this kernel has. Newest first, a
 * filesystem mounted many times (every namespace copies its mounts, every
 * container volume is one) may have its host mount beyond the bound: the
 * root filesystem, where that is the rule, is found through init's root
 * instead (se_kp_host_root). Mounts are freed after an RCU grace period
 * and we run under RCU: a mount unlinked meanwhile is still readable.
 */
static __always_inline __u64 se_kp_scan(__u64 sb, __u64 sroot, __u32 host, __u32 own, __u32 *ns)
{
	__u64 found = 0, m;
	__u32 inum;
	int i;

#if defined(SE_OFF_MOUNT_MNT_NEXT_FOR_SB)
	m = se_kp_ptr(sb + SE_OFF_SUPER_BLOCK_S_MOUNTS);
#elif defined(SE_OFF_MOUNT_MNT_INSTANCE)
	__u64 head = sb + SE_OFF_SUPER_BLOCK_S_MOUNTS, next = se_kp_ptr(head);

	m = next && next != head ? next - SE_OFF_MOUNT_MNT_INSTANCE : 0;
#else
#error "struct mount has neither mnt_next_for_sb nor mnt_instance: no list of a superblock's mounts"
#endif
	for (i = 0; i < SE_KP_ORIGIN_SCAN && m; i++) {
		if (se_kp_ptr(m + SE_OFF_MOUNT_MNT + SE_OFF_VFSMOUNT_MNT_ROOT) == sroot) {
			inum = se_kp_mnt_ns(m);
			if (inum && inum == host) {
				*ns = inum;
				return m;
			}
			if (inum && inum == own && !found) {
				*ns = inum;
				found = m;
			}
		}
#if defined(SE_OFF_MOUNT_MNT_NEXT_FOR_SB)
		m = se_kp_ptr(m + SE_OFF_MOUNT_MNT_NEXT_FOR_SB);
#else
		next = se_kp_ptr(m + SE_OFF_MOUNT_MNT_INSTANCE);
		m = next && next != head ? next - SE_OFF_MOUNT_MNT_INSTANCE : 0;
#endif
	}
	return found;
}

/*
 * Walk 2: @w is where walk 1 ended, complete, having met a subtree mount
 * (w->bind_*). Name the file at its origin: a mount of the same
 * filesystem whose root lies above the subtree's, in the host's mount
 * namespace (@host, the agent's se_config.host_mntns) or else in the
 * process's own; from the subtree's root up the dentry chain to that
 * mount's root, then the ordinary walk from that mount (its mountpoint,
 * up to the top of its namespace). Its components are appended after walk
 * 1's; *@flags gets SE_KP_F_BIND, or SE_KP_F_NO_ORIGIN when no origin
 * shows the file (then nothing of walk 2 is kept).
 *
 * The origin is the host's root mount when it is of this filesystem (the
 * common case: a host directory bound into a container or a namespace),
 * found in a few reads whatever the number of mounts; else a mount of the
 * whole filesystem (se_kp_scan). A host whose root mount is itself a
 * subtree (a btrfs subvolume as /) names its own files as readlink does:
 * walk 2 is skipped for that mount.
 */
static __always_inline void se_kp_bind(struct se_kpath *kp, struct se_kp_walk *w, __u32 host,
				       __u16 *flags)
{
	__u64 hr = se_kp_host_root(host), origin = 0, oroot = w->bind_sroot;
	__u16 count1 = w->count, len1 = kp->len;
	__u32 ns = 0;
	int i, r = -1;

	if (hr && hr == w->bind_mnt) {
		kp->bind_from = 0;
		return;
	}
	kp->bind_at = w->bind_at;
	kp->bind_from = count1;
	if (hr && se_kp_ptr(hr + SE_OFF_VFSMOUNT_MNT_SB) == w->bind_sb) {
		origin = SE_KP_MOUNT(hr);
		oroot = se_kp_ptr(hr + SE_OFF_VFSMOUNT_MNT_ROOT);
		ns = host;
	} else {
		origin = se_kp_scan(w->bind_sb, w->bind_sroot, host, kp->mntns, &ns);
	}
	if (!origin || !oroot) {
		*flags |= SE_KP_F_NO_ORIGIN;
		return;
	}
	w->sig = se_kp_mix(w->sig, origin);
	w->dentry = w->bind_dentry;
	w->vfsmnt = origin + SE_OFF_MOUNT_MNT;
	w->mnt_root = oroot;
	w->flags = 0;
	for (i = 0; i < SE_KP_BIND_DEPTH; i++) {
		r = se_kp_step(kp, w, 0);
		if (r <= 0)
			break;
	}
	/*
	 * Stopped (r 0) elsewhere than at a mount's root: escaped, the
	 * filesystem's root met before the origin's, so the origin (the
	 * host's root, a subtree itself) does not show the file. Walk 2's
	 * components go.
	 */
	if (r == 0 && w->dentry != w->mnt_root) {
		kp->len = len1;
		w->count = count1;
		*flags |= SE_KP_F_NO_ORIGIN;
		return;
	}
	kp->origin_ns = ns;
	*flags |= SE_KP_F_BIND | (w->flags & SE_KP_F_FAULT);
	/* Out of steps or stopped early: the origin name's top is unknown. */
	if (r != 0)
		*flags |= SE_KP_F_TRUNCATED;
}

#endif /* !SE_HEADERS */

/*
 * Fill @kp (a map value: names[] is too big for the stack) with the path at
 * @path, the address of a struct path (a file's f_path, a task's root or
 * cwd), whose inode is @inode (for dev and ino; 0: both 0); @path 0, or one
 * that cannot be read, gives count 0 and SE_KP_F_FAULT. @host is the host's mount namespace (inum; 0: none
 * known), where walk 2 looks first for a file's origin. A concurrent
 * rename may mix old and new names (the kernel retries under rename_lock;
 * a BPF program cannot take it). Bounded loops: the verifier walks each of
 * the SE_KP_DEPTH and SE_KP_BIND_DEPTH steps (6.18 accepts it).
 */
static __always_inline void se_kpath_walk_at(struct se_kpath *kp, __u64 path, __u64 inode,
					     __u32 host)
{
	__u64 task = bpf_get_current_task();
	__u64 fs = se_kp_ptr(task + SE_OFF_TASK_STRUCT_FS);
	struct se_kp_walk w = {};
	__u16 flags;
	int i, r = -1;

	kp->count = kp->root_at = kp->len = 0;
	kp->bind_at = kp->bind_from = 0;
	kp->origin_ns = 0;
	se_kp_ids(kp, task, inode);
	w.dentry = path ? se_kp_ptr(path + SE_OFF_PATH_DENTRY) : 0;
	w.vfsmnt = path ? se_kp_ptr(path + SE_OFF_PATH_MNT) : 0;
	w.mnt_root = w.vfsmnt ? se_kp_ptr(w.vfsmnt + SE_OFF_VFSMOUNT_MNT_ROOT) : 0;
	if (!w.dentry || !w.vfsmnt || !w.mnt_root) {
		kp->flags = SE_KP_F_TRUNCATED | SE_KP_F_FAULT;
		return;
	}
	/* Without fs (an exiting task) the root is never met: no SE_KP_F_ROOT. */
	w.root_dentry = fs ? se_kp_ptr(fs + SE_OFF_FS_STRUCT_ROOT + SE_OFF_PATH_DENTRY) : 0;
	w.root_mnt = fs ? se_kp_ptr(fs + SE_OFF_FS_STRUCT_ROOT + SE_OFF_PATH_MNT) : 0;
	if (se_kp_unlinked(w.dentry))
		w.flags |= SE_KP_F_UNLINKED;
	for (i = 0; i < SE_KP_DEPTH; i++) {
		r = se_kp_step(kp, &w, 1);
		if (r <= 0)
			break;
	}
	/* Out of steps (r == 1) or stopped early: the top is unknown. */
	if (r != 0)
		w.flags |= SE_KP_F_TRUNCATED;
	/*
	 * Stopped (r 0) elsewhere than at a mount's root: escaped. At the
	 * root of its filesystem, in a mount showing a subtree of it (a file
	 * moved out of what its bind mount shows), walk 2 starts from that
	 * root, and all of walk 1's components lie below it. (Tested here,
	 * once, not in each step; and on pointers, not on w.flags: see
	 * se_kp_subtree.)
	 */
	if (r == 0 && w.dentry != w.mnt_root)
		se_kp_subtree(kp, &w);
	kp->count = w.count;
	flags = w.flags;
	/* Only after a complete walk 1 (see struct se_kpath); kp->bind_from
	 * is 1 when it met a subtree mount (se_kp_subtree). */
#ifndef SE_HEADERS
	if (r == 0 && kp->bind_from) {
		se_kp_bind(kp, &w, host, &flags);
		kp->count = w.count;
	} else {
		kp->bind_from = 0;
	}
#else
	(void)host;
	kp->bind_from = 0;
#endif
	kp->flags = flags;
	kp->sig = se_kp_mix(w.sig, flags);
}

/* The walk of an open file (NULL: SE_KP_F_FAULT). */
static __always_inline void se_kpath_walk(struct se_kpath *kp, __u64 file, __u32 host)
{
	se_kpath_walk_at(kp, file ? file + SE_OFF_FILE_F_PATH : 0,
			 file ? se_kp_ptr(file + SE_OFF_FILE_F_INODE) : 0, host);
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
