/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path: file-name helpers - lexical resolution of the names processes pass
 * to open(), and what /proc says about a process's fds, cwd and container.
 * No stdio, no allocation. All functions return a length or -errno; on error
 * @out holds an empty string when @cap > 0.
 */
#ifndef SENTINEL_PATH_H
#define SENTINEL_PATH_H

#include <stddef.h>
#include <stdint.h>

#define PATH_CONTAINER_ID_LEN 64

/*
 * Join @rel onto absolute @base unless @rel is absolute, and normalise
 * lexically: collapse "//", drop ".", ".." removes the previous component
 * (never above "/"). Symlinks are not resolved (the kernel already did when
 * opening; we report the name the process used).
 *
 * The result never ends in '/' except for "/" itself: "a/b/" and "a/b/."
 * give ".../a/b", like "a/b". An empty @rel gives the normalised @base.
 * @base is only read when @rel is relative, and may then be NULL only if
 * that is an error. @out must not overlap @base or @rel.
 *
 * Writes a NUL-terminated result; returns its length (a result of cap - 1
 * bytes fits), -ENAMETOOLONG if it would not fit in @cap - judged on the
 * final result, so "/<long>/../x" still fits - or -EINVAL if @rel is NULL,
 * or relative and @base is not absolute.
 */
int path_resolve(const char *base, const char *rel, char *out, size_t cap);

/*
 * path_resolve() for paths that may be longer than @cap (Linux allows any
 * depth through relative names; only each name passed to a syscall is
 * bounded). Writes the longest prefix of the normalised path that fits,
 * ending at a component boundary, and sets *@over to the number of
 * components left out (0: the whole path). @base_over says how many
 * components of @base were already left out (a cwd kept this way): they are
 * still on the logical stack, so ".." in @rel cancels them first, and the
 * prefix stays exact. Returns the length written (>= 1), or -EINVAL as
 * path_resolve() (@cap must be at least 2).
 */
int path_resolve_over(const char *base, uint32_t base_over, const char *rel, char *out, size_t cap,
		      uint32_t *over);

/*
 * readlink("/proc/<tgid>/fd/<fd>"), NUL-terminated; returns the length
 * (cap - 1 fits) or -errno: -ENOENT for a closed fd or a gone process,
 * -ENAMETOOLONG if the link text does not fit, -EBADF for fd < 0. Link texts
 * for non-files like "pipe:[123]", "socket:[456]", "anon_inode:[eventfd]",
 * and "/x (deleted)" for unlinked files, are returned as the kernel gives
 * them.
 */
int path_proc_fd(uint32_t tgid, int fd, char *out, size_t cap);
/* readlink("/proc/<tgid>/cwd"), like path_proc_fd(). */
int path_proc_cwd(uint32_t tgid, char *out, size_t cap);

/*
 * Parse the text of /proc/<pid>/cgroup ("<id>:<controllers>:<path>" lines)
 * and extract a container id: the last run of exactly 64 lowercase hex
 * digits in a cgroup path (the last, so that nested containers give the
 * innermost). The unified line (0::) is preferred; otherwise the first v1
 * line that has one. This covers docker (/docker/<id>), systemd-driver
 * runtimes (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
 * libpod-<id>.scope), and kubepods (/kubepods/besteffort/pod<uid>/<id>);
 * pod UIDs (36 chars with '-' or '_') never match.
 *
 * Writes the 64 hex digits and a NUL (@cap >= 65, else -ENAMETOOLONG);
 * returns 64 when found, 0 when the process is not in a container (e.g.
 * "0::/init.scope", "0::/user.slice/...", "0::/"), -EINVAL on garbage (no
 * line of the form above, or NULL).
 */
int path_container_id(const char *cgroup_text, char *out, size_t cap);
/* The container id in one cgroup path ([@path, @path + @len), e.g. the
 * cgroup_mkdir tracepoint's "/libpod_parent/libpod-<id>"), by the rule
 * above; returns likewise (64 or 0; -ENAMETOOLONG when @cap < 65). */
int path_cgroup_container_id(const char *path, size_t len, char *out, size_t cap);
/* Convenience: read /proc/<tgid>/cgroup and call the above. Returns like it,
 * or -errno (-ENOENT: no such process). */
int path_proc_container_id(uint32_t tgid, char *out, size_t cap);

#endif
