/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nameop: the names of a rename or link (struct se_nameop_record, event.h)
 * resolved to host-rooted paths, as the kernel resolved them for the call.
 *
 * The kernel sends each side as the string the call was given and the walk
 * of the directory it was looked up from (the process's root, cwd or a
 * directory fd). What a BPF program cannot do is the lookup of the string's
 * components, symlinks among them: that is done here, after the call, by
 * opening the parent directory with openat2(RESOLVE_IN_ROOT) from the
 * process's root (as the host sees it: @hostroot, "/proc/1/root" in the
 * agent), so absolute symlinks resolve inside a container's root as they
 * did for the process, and reading back the path the kernel gives the
 * opened directory. The last component is the call's own (a rename or link
 * never follows it).
 *
 * Racy by nature, and said so: a component renamed or a symlink changed
 * between the call and this lookup gives the name as it is now. When the
 * lookup fails (the parent is gone, a magic link such as /proc/self/fd/N,
 * a walk cut short), the name is the lexical join of the walked directory
 * and the string, flagged lexical: symlinks in it are not followed.
 *
 * Not thread-safe only in that @out is the caller's; no state of its own.
 */
#ifndef SENTINEL_NAMEOP_H
#define SENTINEL_NAMEOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "kpath.h"

/* The longest resolved name with its NUL: a walked directory and a string,
 * each up to 4 KiB. */
#define NAMEOP_PATH_MAX (KPATH_MAX + SE_NAMEOP_STR)

enum nameop_how {
	NAMEOP_LOOKUP = 0, /* the parent looked up from the process's root */
	NAMEOP_FILE,	   /* the fd's file itself (linkat AT_EMPTY_PATH): the walk's name */
	NAMEOP_LEXICAL,	   /* the lookup failed: the walk and the string joined by text */
	NAMEOP_TRUNCATED,  /* the walk was cut short: only the leaf-most part is known */
	NAMEOP_UNREADABLE, /* the kernel could not read the string or walk the directory */
};

struct nameop_name {
	char path[NAMEOP_PATH_MAX]; /* host-rooted ("" when UNREADABLE; relative when TRUNCATED) */
	enum nameop_how how;
	unsigned mntns; /* the process's mount namespace (inum), from the walk */
};

/* "lookup", "file", "lexical", "truncated", "unreadable". */
const char *nameop_how_name(enum nameop_how how);

/*
 * Where names are looked up: the host's root and mount table as this
 * process reaches them ("/proc/1/root" and /proc/1/mountinfo in a pod with
 * hostPID, else its own: the agent runs in the host's mount namespace, or
 * init's root is out of its reach), the host's mount namespace, and the
 * last process found in another namespace (a container's: its files are
 * looked up through /proc/PID/root, which shows its mounts). Owned by the
 * caller; nameop_init() fills it (and logs which root).
 */
struct nameop {
	const char *hostroot;
	char host_minfo[32];
	unsigned host_mntns; /* inum; 0 unknown: every name is taken as the host's */
	unsigned ns_cache;   /* a mount namespace ... */
	uint32_t ns_pid;     /* ... and a process last seen in it */
};

void nameop_init(struct nameop *n);

/*
 * Resolve side @sd of a record the kernel sent (every field read with its
 * bounds checked: a malformed side is UNREADABLE) for the call of thread
 * @tid of process @tgid. @follow: the call followed a symlink in the last
 * component too (nameop_follows()). Never fails; @out->how says how far
 * it got.
 */
void nameop_resolve(struct nameop *n, const struct se_nameop_side *sd, bool follow, uint32_t tgid,
		    uint32_t tid, struct nameop_name *out);

/*
 * Whether side @side (0 old, 1 new) of record @r names its file through a
 * symlink in its last component, as the kernel did: truncate(2) (and an
 * io_uring O_TRUNC open reported by name) follows, linkat(2) and io_uring's
 * LINKAT follow the old name with AT_SYMLINK_FOLLOW (`ln -L`); a rename,
 * link(2) and a new name never do.
 */
bool nameop_follows(const struct se_record *r, int side);

#endif
