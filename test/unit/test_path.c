/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "path.h"

struct resolve_case {
	const char *base, *rel, *want; /* want NULL: expect @err */
	int err;
};

static void check_resolve(const struct resolve_case *c, size_t cap)
{
	char out[256];
	int rc;

	memset(out, 'Z', sizeof(out));
	rc = path_resolve(c->base, c->rel, out, cap);
	if (c->want) {
		if (rc < 0 || strcmp(out, c->want))
			fail_msg("'%s' + '%s': rc %d '%s', want '%s'", c->base ? c->base : "(null)",
				 c->rel ? c->rel : "(null)", rc, rc < 0 ? "" : out, c->want);
		assert_int_equal(rc, strlen(c->want));
	} else {
		if (rc != c->err)
			fail_msg("'%s' + '%s': rc %d, want %d", c->base ? c->base : "(null)",
				 c->rel ? c->rel : "(null)", rc, c->err);
		if (cap)
			assert_string_equal(out, "");
	}
}

static void test_resolve(void **state)
{
	static const struct resolve_case cases[] = {
		{"/a/b", "../c", "/a/c", 0},
		{"/a/b", "c", "/a/b/c", 0},
		{"/a/b", ".", "/a/b", 0},
		{"/a/b", "..", "/a", 0},
		{"/a/b", "../..", "/", 0},
		{"/a/b", "../../..", "/", 0}, /* never above "/" */
		{"/a/b", "../../../../x", "/x", 0},
		{"/", "..", "/", 0},
		{"/base", "a//b/./c/", "/base/a/b/c", 0},
		{"/base//x/./y/../", "z", "/base/x/z", 0},
		{"/base", "/etc//passwd", "/etc/passwd", 0}, /* absolute: base ignored */
		{NULL, "/etc/passwd", "/etc/passwd", 0},
		{"relative", "/abs", "/abs", 0},
		{"/base", "/", "/", 0},
		{"/base", "//", "/", 0},
		{"/", "", "/", 0},
		{"/", ".", "/", 0},
		{"/", "./", "/", 0},
		/* trailing slashes are dropped, except for "/" itself */
		{"/a/b/", "", "/a/b", 0},
		{"/a", "b/", "/a/b", 0},
		{"/a", "b/.", "/a/b", 0},
		{"/a", "b//", "/a/b", 0},
		{"/a", "b/..", "/a", 0},
		{"/a", "b/../", "/a", 0},
		/* only "." and ".." are special */
		{"/a", "...", "/a/...", 0},
		{"/a", "..x/.y/x..", "/a/..x/.y/x..", 0},
		{"/a", "b c/\xff\n", "/a/b c/\xff\n", 0},
		{"relative", "x", NULL, -EINVAL},
		{"", "x", NULL, -EINVAL},
		{NULL, "x", NULL, -EINVAL},
		{NULL, "", NULL, -EINVAL},
		{"/a", NULL, NULL, -EINVAL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_resolve(&cases[i], 256);
}

static void test_resolve_cap(void **state)
{
	static const struct resolve_case fits = {"/ab", "c", "/ab/c", 0};
	static const struct resolve_case too_long = {"/ab", "c", NULL, -ENAMETOOLONG};
	/* Only the final result counts, not what was seen on the way. */
	static const struct resolve_case dotdot = {"/ab", "cdefghijklmn/../../x", "/x", 0};
	static const struct resolve_case dotdot2 = {"/aaaaaaaaaaaa", "../b", "/b", 0};
	static const struct resolve_case dotdot3 = {"/abc", "defgh/../ij", NULL, -ENAMETOOLONG};
	static const struct resolve_case stays = {"/aaaaaaaaaaaa", "b/..", NULL, -ENAMETOOLONG};
	static const struct resolve_case root = {"/", "", "/", 0};
	static const struct resolve_case root_long = {"/", "", NULL, -ENAMETOOLONG};

	(void)state;
	check_resolve(&fits, 6); /* exactly cap - 1 bytes */
	check_resolve(&fits, 100);
	check_resolve(&too_long, 5);
	check_resolve(&too_long, 4);
	check_resolve(&dotdot, 3);
	check_resolve(&dotdot2, 3);
	check_resolve(&dotdot3, 7);
	{
		static const struct resolve_case d3 = {"/abc", "defgh/../ij", "/abc/ij", 0};

		check_resolve(&d3, 8);
	}
	check_resolve(&stays, 8);
	check_resolve(&root, 2);
	check_resolve(&root_long, 1);
	check_resolve(&root_long, 0);
}

/* Longer than @cap: the leading components that fit, and a count of the rest. */
static void check_over(const char *base, uint32_t base_over, const char *rel, size_t cap,
		       const char *want, uint32_t want_over)
{
	char out[64];
	uint32_t over = 99;
	int rc;

	assert_true(cap <= sizeof(out));
	rc = path_resolve_over(base, base_over, rel, out, cap, &over);
	if (rc < 0)
		fail_msg("%s + %s (cap %zu): %d", base, rel, cap, rc);
	assert_string_equal(out, want);
	assert_int_equal(rc, strlen(want));
	assert_int_equal(over, want_over);
}

static void test_resolve_over(void **state)
{
	char out[8];
	uint32_t over;

	(void)state;
	check_over("/ab", 0, "cd/ef", 64, "/ab/cd/ef", 0);
	/* "/ab/cd" is 6 bytes: with cap 7 it fits, "ef" does not */
	check_over("/ab", 0, "cd/ef", 7, "/ab/cd", 1);
	/* once one is left out, nothing after it is kept (a true prefix) */
	check_over("/ab", 0, "cdefgh/i/j", 7, "/ab", 3);
	/* ".." cancels what was left out first, then kept components */
	check_over("/ab", 0, "cdefgh/i/../..", 7, "/ab", 0);
	check_over("/ab", 0, "cdefgh/../x", 7, "/ab/x", 0);
	check_over("/ab", 0, "cdefgh/../../..", 7, "/", 0);
	/* a base that was already cut: its left-out part is still there */
	check_over("/ab", 2, "c", 64, "/ab", 3);
	check_over("/ab", 2, "../c", 64, "/ab", 2);
	check_over("/ab", 2, "../../c", 64, "/ab/c", 0);
	/* an absolute name ignores the base, and what was cut from it */
	check_over("/ab", 2, "/x/y", 64, "/x/y", 0);
	/* bad arguments */
	assert_int_equal(path_resolve_over("rel", 0, "x", out, sizeof(out), &over), -EINVAL);
	assert_int_equal(over, 0);
	assert_int_equal(path_resolve_over("/", 0, NULL, out, sizeof(out), &over), -EINVAL);
	assert_int_equal(path_resolve_over("/", 0, "x", out, 1, &over), -EINVAL);
}

/* A PATH_MAX-sized name: 4095 bytes fit in 4096, 4096 do not. */
static void test_resolve_long(void **state)
{
	char base[4096], rel[8], out[4096];
	int rc;

	(void)state;
	memset(base, 'a', sizeof(base));
	base[0] = '/';
	base[4093] = '\0'; /* "/aaa...a", 4093 bytes */
	strcpy(rel, "b");
	rc = path_resolve(base, rel, out, sizeof(out));
	assert_int_equal(rc, 4095);
	assert_int_equal(strlen(out), 4095);
	assert_memory_equal(out, base, 4093);
	assert_string_equal(out + 4093, "/b");

	strcpy(rel, "bc");
	assert_int_equal(path_resolve(base, rel, out, sizeof(out)), -ENAMETOOLONG);
	assert_string_equal(out, "");
	strcpy(rel, "bc/..");
	assert_int_equal(path_resolve(base, rel, out, sizeof(out)), 4093);
}

static void realpath_of(const char *p, char *out)
{
	assert_non_null(realpath(p, out));
}

static void test_proc_fd(void **state)
{
	char dir[] = "/tmp/test_path.XXXXXX", file[PATH_MAX], real[PATH_MAX], out[PATH_MAX];
	int fd, pfd[2], rc;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/some file \xff", dir);
	fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	realpath_of(file, real);
	len = strlen(real);

	rc = path_proc_fd((uint32_t)getpid(), fd, out, sizeof(out));
	assert_int_equal(rc, len);
	assert_string_equal(out, real);

	/* exactly cap - 1 bytes fit; one fewer byte of room does not */
	rc = path_proc_fd((uint32_t)getpid(), fd, out, len + 1);
	assert_int_equal(rc, len);
	assert_string_equal(out, real);
	rc = path_proc_fd((uint32_t)getpid(), fd, out, len);
	assert_int_equal(rc, -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(path_proc_fd((uint32_t)getpid(), fd, out, 0), -ENAMETOOLONG);

	/* unlinked: the kernel's " (deleted)" suffix is passed through */
	assert_int_equal(unlink(file), 0);
	rc = path_proc_fd((uint32_t)getpid(), fd, out, sizeof(out));
	assert_int_equal(rc, len + strlen(" (deleted)"));
	assert_memory_equal(out, real, len);
	assert_string_equal(out + len, " (deleted)");

	/* closed fd */
	close(fd);
	assert_int_equal(path_proc_fd((uint32_t)getpid(), fd, out, sizeof(out)), -ENOENT);
	assert_int_equal(path_proc_fd((uint32_t)getpid(), -1, out, sizeof(out)), -EBADF);
	assert_int_equal(rmdir(dir), 0);

	/* non-files */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	rc = path_proc_fd((uint32_t)getpid(), pfd[0], out, sizeof(out));
	assert_true(rc > 7);
	assert_int_equal(strncmp(out, "pipe:[", 6), 0);
	assert_int_equal(out[rc - 1], ']');
	close(pfd[0]);
	close(pfd[1]);

	/* no such process (above the largest possible pid_max, 2^22) */
	assert_int_equal(path_proc_fd(0x7fffffff, 0, out, sizeof(out)), -ENOENT);
}

static void test_proc_cwd(void **state)
{
	char dir[] = "/tmp/test_path_cwd.XXXXXX", old[PATH_MAX], real[PATH_MAX], out[PATH_MAX];
	int rc;

	(void)state;
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(dir));
	realpath_of(dir, real);
	assert_int_equal(chdir(dir), 0);
	rc = path_proc_cwd((uint32_t)getpid(), out, sizeof(out));
	assert_int_equal(chdir(old), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rc, strlen(real));
	assert_string_equal(out, real);

	rc = path_proc_cwd((uint32_t)getpid(), out, sizeof(out));
	assert_int_equal(rc, strlen(old));
	assert_string_equal(out, old);
	assert_int_equal(path_proc_cwd(0x7fffffff, out, sizeof(out)), -ENOENT);
}

#define ID_A "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_DASH "pod0f1a2b3c-4d5e-6789-abcd-ef0123456789"
#define POD_UNDER "pod0f1a2b3c_4d5e_6789_abcd_ef0123456789"

struct cg_case {
	const char *text;
	int rc;
	const char *id;
};

static void test_container_id(void **state)
{
	static const struct cg_case cases[] = {
		/* docker, cgroup v1 */
		{"12:memory:/docker/" ID_A "\n11:cpu,cpuacct:/docker/" ID_A "\n"
		 "1:name=systemd:/docker/" ID_A "\n",
		 64, ID_A},
		/* docker, cgroup v2 with the cgroupfs driver / the systemd driver */
		{"0::/docker/" ID_A "\n", 64, ID_A},
		{"0::/system.slice/docker-" ID_A ".scope\n", 64, ID_A},
		/* kubernetes, containerd and cri-o, systemd driver */
		{"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD_UNDER
		 ".slice/cri-containerd-" ID_A ".scope\n",
		 64, ID_A},
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD_UNDER
		 ".slice/crio-" ID_A ".scope\n",
		 64, ID_A},
		/* kubernetes, cgroupfs driver, v1 and v2 */
		{"0::/kubepods/besteffort/" POD_DASH "/" ID_A "\n", 64, ID_A},
		{"11:memory:/kubepods/burstable/" POD_DASH "/" ID_A "\n"
		 "1:name=systemd:/kubepods/burstable/" POD_DASH "/" ID_A "\n",
		 64, ID_A},
		/* podman, rootful and rootless */
		{"0::/machine.slice/libpod-" ID_A ".scope/container\n", 64, ID_A},
		{"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A
		 ".scope\n",
		 64, ID_A},
		/* no final newline; a ':' in the path */
		{"0::/odd:dir/docker-" ID_A ".scope", 64, ID_A},
		/* nested (docker in docker): the innermost */
		{"0::/docker/" ID_B "/docker/" ID_A "\n", 64, ID_A},
		/* hybrid: unified line empty, v1 lines know */
		{"12:cpu:/docker/" ID_A "\n1:name=systemd:/docker/" ID_A "\n0::/\n", 64, ID_A},
		/* the unified line wins over v1 */
		{"1:name=systemd:/docker/" ID_B "\n0::/docker/" ID_A "\n", 64, ID_A},
		{"0::/docker/" ID_A "\n1:name=systemd:/docker/" ID_B "\n", 64, ID_A},
		/* not in a container */
		{"0::/init.scope\n", 0, NULL},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", 0, NULL},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
		 "app-org.gnome.Terminal.slice/"
		 "vte-spawn-0f1a2b3c-4d5e-6789-abcd-ef0123456789.scope\n",
		 0, NULL},
		{"0::/\n", 0, NULL},
		{"0::/", 0, NULL},
		{"0::/system.slice/containerd.service\n", 0, NULL},
		{"12:memory:/\n11:cpu:/user.slice\n0::/init.scope\n", 0, NULL},
		/* a pod's own cgroup is not a container */
		{"0::/kubepods/besteffort/" POD_DASH "\n", 0, NULL},
		{"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD_UNDER
		 ".slice\n",
		 0, NULL},
		/* hex runs of the wrong length or case */
		{"0::/docker/" ID_A "0\n", 0, NULL},
		{"0::/docker/3f4e5d6c7b8a99887766554433221100ffeeddccbbaa0011223344556677889\n", 0,
		 NULL},
		{"0::/docker/3F4E5D6C7B8A99887766554433221100FFEEDDCCBBAA00112233445566778899\n", 0,
		 NULL},
		/* the id is only looked for in the path */
		{"0:" ID_A ":/\n", 0, NULL},
		/* garbage */
		{"", -EINVAL, NULL},
		{"\n", -EINVAL, NULL},
		{"hello", -EINVAL, NULL},
		{"hello\n", -EINVAL, NULL},
		{"0:/x\n", -EINVAL, NULL},
		{"x::/\n", -EINVAL, NULL},
		{"::/\n", -EINVAL, NULL},
		{"0::relative\n", -EINVAL, NULL},
		{"0::\n", -EINVAL, NULL},
		{"0::/\ngarbage\n", -EINVAL, NULL},
		{"/docker/" ID_A "\n", -EINVAL, NULL},
	};
	char out[PATH_CONTAINER_ID_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(out, 'Z', sizeof(out));
		rc = path_container_id(cases[i].text, out, sizeof(out));
		if (rc != cases[i].rc)
			fail_msg("case %zu '%s': rc %d want %d", i, cases[i].text, rc, cases[i].rc);
		assert_string_equal(out, cases[i].id ? cases[i].id : "");
	}
	assert_int_equal(path_container_id(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(path_container_id("0::/docker/" ID_A "\n", out, 64), -ENAMETOOLONG);
	assert_int_equal(path_container_id("0::/docker/" ID_A "\n", out, 0), -ENAMETOOLONG);
}

static void test_proc_container_id(void **state)
{
	char text[16384], out[PATH_CONTAINER_ID_LEN + 1], want[PATH_CONTAINER_ID_LEN + 1];
	ssize_t n;
	int fd, rc;

	(void)state;
	/* whatever this test runs in, it must agree with the parser */
	fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	rc = path_proc_container_id((uint32_t)getpid(), out, sizeof(out));
	assert_true(rc == 0 || rc == 64);
	assert_int_equal(path_container_id(text, want, sizeof(want)), rc);
	assert_string_equal(out, want);

	assert_int_equal(path_proc_container_id(0x7fffffff, out, sizeof(out)), -ENOENT);
	assert_int_equal(path_proc_container_id((uint32_t)getpid(), out, 10), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),	     cmocka_unit_test(test_resolve_cap),
		cmocka_unit_test(test_resolve_over), cmocka_unit_test(test_resolve_long),
		cmocka_unit_test(test_proc_fd),	     cmocka_unit_test(test_proc_cwd),
		cmocka_unit_test(test_container_id), cmocka_unit_test(test_proc_container_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
