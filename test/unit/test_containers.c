/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the node's cgroup layout (agent/cgroups.c) and container ids
 * by cgroup id (agent/containers.c): learnt from the kernel's records, from
 * a scan of a hierarchy, and the /proc fallback for ids never learnt. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroups.h"
#include "containers.h"

#define ID_A "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa00"
#define ID_B "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"

/* This VM's files: hybrid, podman with cgroupfs. */
static const char hybrid_self[] = "13:misc:/\n12:rdma:/\n11:net_cls,net_prio:/\n"
				  "10:perf_event:/\n9:name=systemd:/init.scope\n8:pids:/\n"
				  "7:blkio:/\n4:memory:/\n1:cpu:/\n2:cpuacct:/\n0::/init.scope\n";
static const char hybrid_mounts[] =
	"25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"30 25 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
	"31 30 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
	"35 30 0:31 / /sys/fs/cgroup/pids rw shared:14 - cgroup cgroup rw,pids\n"
	"36 30 0:32 /sub /mnt/memsub rw shared:15 - cgroup cgroup rw,memory\n"
	"37 30 0:32 / /sys/fs/cgroup/my\\040memory rw shared:15 - cgroup cgroup rw,memory\n";

static void test_layout_hybrid(void **state)
{
	struct cgroups_layout l;
	char err[256];

	(void)state;
	assert_int_equal(cgroups_layout_parse(hybrid_self, hybrid_mounts, &l, err, sizeof(err)), 0);
	assert_int_equal(l.mode, CGROUPS_HYBRID);
	assert_string_equal(l.controller, "memory"); /* preferred over pids */
	assert_int_equal(l.hierarchy, 4);
	assert_string_equal(l.subsys_enum, "memory_cgrp_id");
	/* The mount of the hierarchy's root, not a bind of a subtree; the
	 * mount point unescaped. */
	assert_string_equal(l.mount, "/sys/fs/cgroup/my memory");
	assert_string_equal(cgroups_mode_name(l.mode), "hybrid");
}

static void test_layout_v2_v1(void **state)
{
	struct cgroups_layout l;
	char err[256];

	(void)state;
	assert_int_equal(
		cgroups_layout_parse("0::/system.slice/x.service\n",
				     "40 1 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &l,
				     err, sizeof(err)),
		0);
	assert_int_equal(l.mode, CGROUPS_V2);
	assert_int_equal(l.hierarchy, 0);
	assert_null(l.subsys_enum);
	assert_string_equal(l.mount, "/sys/fs/cgroup");
	/* Read from inside a cgroup namespace, the host's mount of the root
	 * shows as "/../.."; "/..x" or a subtree is not the root. */
	assert_int_equal(cgroups_layout_parse("0::/\n",
					      "40 1 0:25 /..x /a rw - cgroup2 cgroup2 rw\n"
					      "41 1 0:25 /kubepods /b rw - cgroup2 cgroup2 rw\n"
					      "42 1 0:25 /../.. /c rw - cgroup2 cgroup2 rw\n",
					      &l, err, sizeof(err)),
			 0);
	assert_string_equal(l.mount, "/c");

	/* v1 only, cpu and cpuacct in one hierarchy, no memory: cpu; blkio's
	 * kernel name is io. No mount: no scan, still a layout. */
	assert_int_equal(
		cgroups_layout_parse("3:cpu,cpuacct:/a\n5:blkio:/a\n", NULL, &l, err, sizeof(err)),
		0);
	assert_int_equal(l.mode, CGROUPS_V1);
	assert_string_equal(l.controller, "cpu");
	assert_int_equal(l.hierarchy, 3);
	assert_string_equal(l.mount, "");
	assert_int_equal(cgroups_layout_parse("5:blkio:/a\n", NULL, &l, err, sizeof(err)), 0);
	assert_string_equal(l.subsys_enum, "io_cgrp_id");
}

static void test_layout_bad(void **state)
{
	struct cgroups_layout l;
	char err[256] = "";

	(void)state;
	assert_int_equal(cgroups_layout_parse(NULL, NULL, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "<hierarchy id>:<controllers>:<path>"));
	assert_int_equal(cgroups_layout_parse("garbage\n", NULL, &l, err, sizeof(err)), -EINVAL);
	assert_int_equal(cgroups_layout_parse("x:memory:/\n", NULL, &l, err, sizeof(err)), -EINVAL);
	/* Only hierarchies that name no container-bearing controller. */
	assert_int_equal(cgroups_layout_parse("9:name=systemd:/\n", NULL, &l, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "neither the unified hierarchy"));
}

/* The kernel's records: an id learnt answers without /proc, for any tgid,
 * also one long gone; a rename replaces the answer. */
static void test_learn(void **state)
{
	struct containers c;
	const char *p = "/libpod_parent/libpod-" ID_A;

	(void)state;
	containers_init(&c);
	containers_learn(&c, 1001, p, strlen(p));
	containers_learn(&c, 1002, "/system.slice/sshd.service", 26);
	assert_string_equal(containers_id(&c, 0x7ffffff0, 1001, 1), ID_A);
	assert_string_equal(containers_id(&c, 0x7ffffff1, 1002, 2), "");
	assert_string_equal(containers_id(&c, 0x7ffffff0, 1001, 3), ID_A); /* the last answer */
	assert_int_equal(c.fallback, 0);
	assert_int_equal(c.learnt, 2);
	/* Only the path's bytes count, not what follows them. */
	containers_learn(&c, 1003, "/docker/" ID_B "trailing", 8 + 64);
	assert_string_equal(containers_id(&c, 1, 1003, 4), ID_B);
	containers_learn(&c, 1001, "/renamed", 8);
	assert_string_equal(containers_id(&c, 1, 1001, 5), "");
	containers_free(&c);
}

/* An id never learnt: /proc/<tgid>/cgroup, per process; a process already
 * gone is unknown, counted once per cgroup it was seen in. */
static void test_fallback(void **state)
{
	struct containers c;

	(void)state;
	containers_init(&c);
	/* This test process: its answer, whatever it is, is what /proc says,
	 * and it does not count as unknown. */
	containers_id(&c, (uint32_t)getpid(), 77, 1);
	assert_int_equal(c.fallback, 1);
	assert_int_equal(c.unknown, 0);
	containers_id(&c, (uint32_t)getpid(), 77, 2); /* cached */
	assert_int_equal(c.fallback, 1);
	containers_id(&c, (uint32_t)getpid(), 77, 2 + CONTAINERS_TTL_NS); /* too old */
	assert_int_equal(c.fallback, 2);
	/* No such process. */
	assert_string_equal(containers_id(&c, 0x7fffffff, 78, 1), "");
	assert_int_equal(c.unknown, 1);
	containers_id(&c, 0x7fffffff, 78, 1 + CONTAINERS_TTL_NS);
	assert_int_equal(c.unknown, 1);
	containers_id(&c, 0x7fffffff, 79, 2 + CONTAINERS_TTL_NS); /* another cgroup */
	assert_int_equal(c.unknown, 2);
	containers_free(&c);
}

/* The scan of a hierarchy's mount: every directory by its inode, with its
 * path from the mount. */
static void test_scan(void **state)
{
	char root[] = "/tmp/test_containers.XXXXXX", d1[256], d2[256], d3[256];
	struct containers c;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(d1, sizeof(d1), "%s/kubepods", root);
	snprintf(d2, sizeof(d2), "%s/kubepods/pod1234", root);
	snprintf(d3, sizeof(d3), "%s/kubepods/pod1234/" ID_A, root);
	assert_int_equal(mkdir(d1, 0700), 0);
	assert_int_equal(mkdir(d2, 0700), 0);
	assert_int_equal(mkdir(d3, 0700), 0);
	containers_init(&c);
	assert_int_equal(containers_scan(&c, root), 4);
	assert_int_equal(stat(d3, &st), 0);
	assert_string_equal(containers_id(&c, 0x7ffffff0, st.st_ino, 1), ID_A);
	assert_int_equal(stat(d2, &st), 0);
	assert_string_equal(containers_id(&c, 0x7ffffff0, st.st_ino, 1), "");
	assert_int_equal(c.fallback, 0);
	assert_true(containers_scan(&c, "/nonexistent/cgroup") < 0);
	containers_free(&c);
	rmdir(d3);
	rmdir(d2);
	rmdir(d1);
	rmdir(root);
}

/* Bounded: the oldest cgroup goes first; it then falls back to /proc. */
static void test_bound(void **state)
{
	struct containers c;
	const char *p = "/docker/" ID_A;

	(void)state;
	containers_init(&c);
	for (uint64_t i = 1; i <= CONTAINERS_MAX + 1; i++)
		containers_learn(&c, i, p, strlen(p));
	assert_int_equal(c.n_cgroups, CONTAINERS_MAX);
	assert_string_equal(containers_id(&c, 0x7ffffff0, CONTAINERS_MAX + 1, 1), ID_A);
	assert_string_equal(containers_id(&c, 0x7ffffff0, 1, 1), ""); /* evicted: /proc */
	assert_int_equal(c.fallback, 1);
	containers_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_hybrid), cmocka_unit_test(test_layout_v2_v1),
		cmocka_unit_test(test_layout_bad),    cmocka_unit_test(test_learn),
		cmocka_unit_test(test_fallback),      cmocka_unit_test(test_scan),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
