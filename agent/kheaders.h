/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which kernel headers libbcc will compile the probe against, found and
 * logged before it compiles, so that a container without them fails with a
 * message that says what to install or mount.
 *
 * This mirrors libbcc's own search (src/cc/frontends/clang/loader.cc,
 * ClangLoader::parse, and get_proc_kheaders, as in libbcc 0.26):
 *
 *   1. $BCC_KERNEL_SOURCE, if set (even empty);
 *   2. else, with K = /lib/modules/$(uname -r): K/source when K/build and
 *      K/source are both directories (headers split in two trees, as Debian
 *      packages them; the -I paths then also point into K/build), else
 *      K/$BCC_KERNEL_MODULES_SUFFIX, default K/build;
 *   3. that tree is used if it has include/linux/kconfig.h. Otherwise libbcc
 *      falls back on the kernel's own headers (CONFIG_IKHEADERS):
 *      ${TMPDIR:-/tmp}/kheaders-$(uname -r) if an earlier run extracted it,
 *      else /sys/kernel/kheaders.tar.xz (after "modprobe kheaders" when it
 *      is a module) extracted there with tar.
 *
 * Directory tests follow symlinks, as libbcc's stat() does: a link such as
 * /lib/modules/R/build -> /usr/src/linux-headers-R whose target is not in
 * the container's file system counts as absent, and is named as dangling.
 */
#ifndef SENTINEL_KHEADERS_H
#define SENTINEL_KHEADERS_H

#include <limits.h>
#include <stddef.h>

enum kheaders_kind {
	KHEADERS_NONE = 0,  /* nothing usable found: libbcc will still try modprobe kheaders */
	KHEADERS_TREE,	    /* a headers tree ($BCC_KERNEL_SOURCE or /lib/modules/R/...) */
	KHEADERS_EXTRACTED, /* ${TMPDIR:-/tmp}/kheaders-R from an earlier extraction */
	KHEADERS_ARCHIVE,   /* /sys/kernel/kheaders.tar.xz, extracted by libbcc */
};

/* What the search looks at; kheaders_env_default() fills in the real ones. */
struct kheaders_env {
	const char *modules_dir;    /* "/lib/modules" */
	const char *release;	    /* uname -r */
	const char *kernel_source;  /* $BCC_KERNEL_SOURCE, NULL if unset */
	const char *modules_suffix; /* $BCC_KERNEL_MODULES_SUFFIX, NULL if unset */
	const char *sys_archive;    /* "/sys/kernel/kheaders.tar.xz" */
	const char *tmpdir;	    /* $TMPDIR, else "/tmp" */
};

struct kheaders_info {
	enum kheaders_kind kind;
	char via[PATH_MAX];    /* the tree libbcc tries first, as it names it */
	char path[PATH_MAX];   /* resolved: the tree with the version (K/build when split) */
	char source[PATH_MAX]; /* resolved K/source when split, else "" */
	char version[128];     /* the headers' kernel release, "" if unknown */
	char running[128];     /* uname -r */
	char problem[2048];    /* why `via` is not usable, dangling links named; "" if it is */
};

/* Fills @e from the environment and uname(); @release_buf holds the release. */
void kheaders_env_default(struct kheaders_env *e, char *release_buf, size_t cap);

/* Runs libbcc's search over @e. Returns 0 if headers were found, -1 if not
 * (@out->kind == KHEADERS_NONE; @out->problem says why). */
int kheaders_find(const struct kheaders_env *e, struct kheaders_info *out);

/* The release string of `#define UTS_RELEASE "..."` in @text
 * (include/generated/utsrelease.h). 0 on success, -1 if absent or too long. */
int kheaders_parse_utsrelease(const char *text, char *out, size_t cap);

/* A release from a headers directory's name: linux-headers-6.1.0-56-amd64,
 * kernels/5.14.0-362.el9.x86_64, /lib/modules/6.18.4/build, kheaders-6.6.1
 * give the release. 0 on success, -1 if the name holds none. */
int kheaders_version_from_name(const char *path, char *out, size_t cap);

enum kheaders_path_state {
	KHEADERS_PATH_OK = 0,	/* @path exists */
	KHEADERS_PATH_MISSING,	/* @where: the first component that does not exist */
	KHEADERS_PATH_DANGLING, /* @where: a symlink on the way whose @target does not resolve */
};

/* Walks @path (absolute or relative) component by component. */
enum kheaders_path_state kheaders_check_path(const char *path, char *where, size_t wcap,
					     char *target, size_t tcap);

/* Finds the headers for the running kernel and logs them: info "kernel
 * headers" (path, version, running), a warning when the versions differ,
 * an error saying what to do when there are none. What it found goes to
 * *@out. Returns 0 if found, -1 if not (libbcc may still manage through
 * modprobe kheaders). */
int kheaders_report(struct kheaders_info *out);

/* After a failed compile with no headers found (@k from kheaders_report):
 * says so, and what to do. */
void kheaders_report_compile_failure(const struct kheaders_info *k);

#endif /* SENTINEL_KHEADERS_H */
