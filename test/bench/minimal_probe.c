/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-minimal-probe - the floor for the agent's overhead benchmarks.
 *
 * The smallest BPF program on the hook the agent uses: it bumps a per-CPU
 * counter and nothing else, so "agent cost - this cost" is what the agent's
 * own logic costs. Two hooks:
 *
 *   (default)     RAW_TRACEPOINT_PROBE(sys_exit), every syscall exit, like
 *                 the agent;
 *   --tracepoint  TRACEPOINT_PROBE(syscalls, sys_enter_write), only write(2).
 *
 * Prints "ready" once attached, runs until SIGINT/SIGTERM, then prints
 * {"probe":"...","count":N,"seconds":S} and exits.
 */
#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

#include <errno.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpulist.h"

#define PROG "sentinel-minimal-probe"

static const char bpf_text[] = "BPF_PERCPU_ARRAY(counter, u64, 1);\n"
			       "\n"
			       "static __always_inline void bump(void)\n"
			       "{\n"
			       "	int zero = 0;\n"
			       "	u64 *v = counter.lookup(&zero);\n"
			       "\n"
			       "	if (v)\n"
			       "		(*v)++; /* per-CPU slot: no atomic needed */\n"
			       "}\n"
			       "\n"
			       "#ifdef SE_TRACEPOINT\n"
			       "TRACEPOINT_PROBE(syscalls, sys_enter_write)\n"
			       "{\n"
			       "	bump();\n"
			       "	return 0;\n"
			       "}\n"
			       "#else\n"
			       "RAW_TRACEPOINT_PROBE(sys_exit)\n"
			       "{\n"
			       "	bump();\n"
			       "	return 0;\n"
			       "}\n"
			       "#endif\n";

/* Count of possible CPUs: what a per-CPU map lookup returns values for. */
static int possible_cpus(void)
{
	return cpulist_read("/sys/devices/system/cpu/possible", NULL, 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int tracepoint = 0, prog_type, prog_fd, attach_fd, map_fd, ncpus, sig, rc = 1;
	const char *cflags[] = {"-DSE_TRACEPOINT"};
	const char *fn, *label;
	uint64_t *vals, sum = 0;
	sigset_t set;
	double t0;
	char *log;
	void *mod;
	int zero = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tracepoint")) {
			tracepoint = 1;
		} else if (!strcmp(argv[i], "--raw")) {
			tracepoint = 0;
		} else {
			fprintf(stderr, "usage: " PROG " [--raw|--tracepoint]\n"
					"  --raw         raw_tracepoint/sys_exit (default)\n"
					"  --tracepoint  tracepoint/syscalls/sys_enter_write\n");
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (tracepoint) {
		prog_type = BPF_PROG_TYPE_TRACEPOINT;
		fn = "tracepoint__syscalls__sys_enter_write";
		label = "tracepoint/syscalls/sys_enter_write";
	} else {
		prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
		fn = "raw_tracepoint__sys_exit";
		label = "raw_tracepoint/sys_exit";
	}
	ncpus = possible_cpus();
	if (ncpus <= 0) {
		fprintf(stderr, PROG ": reading possible CPUs: %s\n", strerror(-ncpus));
		return 1;
	}

	/* Blocked before attaching, so an early signal is not lost; sigwait takes it. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	/* one text; -DSE_TRACEPOINT (passed only in that mode) picks the hook */
	mod = bpf_module_create_c_from_string(bpf_text, 0, cflags, tracepoint ? 1 : 0, true, NULL);
	if (!mod) {
		fprintf(stderr, PROG ": compiling the BPF text failed "
				     "(kernel headers at /lib/modules/$(uname -r)/build?)\n");
		return 1;
	}
	log = malloc(1 << 16);
	if (!log) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out_mod;
	}
	log[0] = '\0';
	prog_fd = bcc_func_load(mod, prog_type, fn, bpf_function_start(mod, fn),
				bpf_function_size(mod, fn), bpf_module_license(mod),
				bpf_module_kern_version(mod), 0, log, 1 << 16, NULL, -1);
	if (prog_fd < 0) {
		fprintf(stderr, PROG ": loading %s: %s\n%s\n", fn, strerror(-prog_fd), log);
		goto out_log;
	}
	if (tracepoint)
		attach_fd = bpf_attach_tracepoint(prog_fd, "syscalls", "sys_enter_write");
	else
		attach_fd = bpf_attach_raw_tracepoint(prog_fd, "sys_exit");
	if (attach_fd < 0) {
		fprintf(stderr, PROG ": attaching %s failed: %s\n", label, strerror(errno));
		goto out_prog;
	}
	map_fd = bpf_table_fd(mod, "counter");
	vals = calloc(ncpus, sizeof(*vals));
	if (map_fd < 0 || !vals) {
		fprintf(stderr, PROG ": counter map missing or out of memory\n");
		goto out_attach;
	}

	t0 = now_s();
	printf("ready\n");
	fflush(stdout);
	while (sigwait(&set, &sig))
		;

	/* one value per possible CPU, even offline ones */
	if (bpf_lookup_elem(map_fd, &zero, vals) < 0) {
		fprintf(stderr, PROG ": reading the counter: %s\n", strerror(errno));
	} else {
		for (int i = 0; i < ncpus; i++)
			sum += vals[i];
		printf("{\"probe\":\"%s\",\"count\":%llu,\"seconds\":%.3f}\n", label,
		       (unsigned long long)sum, now_s() - t0);
		rc = 0;
	}
	free(vals);
out_attach:
	/* closing the link/perf fd detaches; bcc's helper also cleans tracefs state */
	if (tracepoint)
		bpf_detach_tracepoint("syscalls", "sys_enter_write");
	close(attach_fd);
out_prog:
	close(prog_fd);
out_log:
	free(log);
out_mod:
	bpf_module_destroy(mod);
	return rc;
}
