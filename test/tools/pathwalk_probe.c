/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-pathwalk-probe - the in-kernel path walk (probes/pathwalk.h) on
 * real BPF, for test/integration/test_pathwalk.sh.
 *
 * Compiles pathwalk.h + event.h (embedded as the agent embeds its probe)
 * and a raw tracepoint on sys_exit that, for each successful write(2) of
 * one process, walks the written fd's struct file. Prints one line per
 * write, decoded by agent/kpath.c:
 *
 *   fd=N count=C root_at=R dev=MAJ:MIN ino=I mntns=M bind_at=B bind_from=F origin_ns=O
 *   flags=a,b<TAB>host=P<TAB>via=P<TAB>inroot=P
 *
 * (one line; host is the name rules match, at the origin for flags=bind;
 * via the name readlink shows, through the bind mount) and <TAB>fspath=P
 * with flags=escaped
 * (paths with bytes outside 0x21-0x7e as \xNN; "error=..." instead of the
 * fields for a record kpath_decode refused). Exits when the process does.
 *
 * The SE_OFF_* offsets come from the running kernel's BTF, as the agent
 * gets them (agent/btfoff.c); with --pahole from pahole instead, an
 * independent reading; or as -DSE_OFF_...=N arguments, which then must be
 * complete. --print-offsets prints them and exits.
 *
 * --bench: no output per write (the walk's cost alone); runs until SIGTERM
 * so bpftool can read the program's run time first. --no-walk: compile the
 * walk out (the baseline). Prints "ready prog_id=N" once attached.
 *
 * The host's mount namespace (where walk 2 looks for a bind-mounted file's
 * origin first) is this tool's own, as the agent's is where init's cannot
 * be read; --host-mntns=N names another (0: none).
 */
#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

#include <ctype.h>
#include <errno.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfoff.h"
#include "kpath.h"

#define PROG "sentinel-pathwalk-probe"
#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define MAX_FLAGS 256
#define LOG_SIZE (1 << 22)

extern const char sentinel_pathwalk_text[];

/* The offsets pathwalk.h needs (SE_OFF_<STRUCT>_<MEMBER>), for --pahole;
 * a third column "opt": a member some kernels lack (no flag then). */
static const char *const offsets[][3] = {
	{"file", "f_path"},
	{"file", "f_inode"},
	{"path", "dentry"},
	{"path", "mnt"},
	{"dentry", "d_name"},
	{"dentry", "d_parent"},
	{"dentry", "d_hash"},
	{"qstr", "name"},
	{"qstr", "len"},
	{"qstr", "hash_len"}, /* the signature (se_kpath.sig) */
	{"hlist_bl_node", "pprev"},
	{"vfsmount", "mnt_root"},
	{"vfsmount", "mnt_sb"},
	{"mount", "mnt"},
	{"mount", "mnt_parent"},
	{"mount", "mnt_mountpoint"},
	{"mount", "mnt_ns"},
	{"mount", "mnt_next_for_sb", "opt"}, /* one of these two: s_mounts' list */
	{"mount", "mnt_instance", "opt"},
	{"task_struct", "files"},
	{"task_struct", "fs"},
	{"task_struct", "nsproxy"},
	{"files_struct", "fdt"},
	{"fdtable", "fd"},
	{"fdtable", "max_fds"},
	{"fs_struct", "root"},
	{"inode", "i_ino"},
	{"inode", "i_sb"},
	{"super_block", "s_dev"},
	{"super_block", "s_root"},
	{"super_block", "s_mounts"},
	{"nsproxy", "mnt_ns"},
	{"nsproxy", "pid_ns_for_children"},
	{"pid_namespace", "parent"},
	{"pid_namespace", "child_reaper"},
	{"mnt_namespace", "ns"},
	{"ns_common", "inum"},
};
#define NOFFSETS (sizeof(offsets) / sizeof(offsets[0]))

/* The program: every successful write(2) of PW_TGID walks its fd's file. */
static const char prog_text[] =
	"#include <uapi/linux/ptrace.h>\n"
	"#define PW_NR_WRITE 1\n"
	"struct pw_rec {\n"
	"	__s32 fd;\n"
	"	__u32 pad;\n"
	"	struct se_kpath kp;\n"
	"};\n"
	"BPF_PERCPU_ARRAY(pw_scratch, struct pw_rec, 1);\n"
	"#if !PW_BENCH\n"
	"BPF_RINGBUF_OUTPUT(pw_events, 256);\n"
	"#endif\n"
	"\n"
	"RAW_TRACEPOINT_PROBE(sys_exit)\n"
	"{\n"
	"	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];\n"
	"	int zero = 0;\n"
	"	struct pw_rec *rec;\n"
	"	__u64 file;\n"
	"\n"
	"	if ((bpf_get_current_pid_tgid() >> 32) != PW_TGID || (long)ctx->args[1] <= 0)\n"
	"		return 0;\n"
	"	if (se_kp_ptr((__u64)&regs->orig_ax) != PW_NR_WRITE)\n"
	"		return 0;\n"
	"	rec = pw_scratch.lookup(&zero);\n"
	"	if (!rec)\n"
	"		return 0;\n"
	"	rec->fd = (__s32)se_kp_ptr((__u64)&regs->di);\n"
	"	file = se_fd_file(rec->fd);\n"
	"#if PW_WALK\n"
	"	se_kpath_walk(&rec->kp, file, PW_HOST_MNTNS);\n"
	"#else\n"
	"	rec->kp.ino = file;\n"
	"	rec->kp.len = 0;\n"
	"#endif\n"
	"#if !PW_BENCH\n"
	"	pw_events.ringbuf_output(rec, 8 + se_kpath_size(&rec->kp), 0);\n"
	"#endif\n"
	"	return 0;\n"
	"}\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * The name a pahole member line declares ("\tstruct dentry *  d_parent;
 * /\* 24 8 *\/"), without [N] or :bits, into @id; NULL for other lines.
 */
static const char *member_name(const char *line, char *id, size_t cap)
{
	const char *c = strstr(line, "/*"), *start, *end;

	if (!c)
		return NULL;
	while (c > line && isspace((unsigned char)c[-1]))
		c--;
	if (c == line || c[-1] != ';')
		return NULL;
	start = c - 1;
	while (start > line && !strchr(" \t*)", start[-1]))
		start--;
	end = start + strcspn(start, "[:;");
	if (start == end || (size_t)(end - start) >= cap)
		return NULL;
	memcpy(id, start, (size_t)(end - start));
	id[end - start] = '\0';
	return id;
}

/*
 * Byte offset of @member in struct @type, from pahole's view of the
 * kernel's BTF, or -1 (none, or more than one). pahole expands anonymous
 * structs and unions in place with offsets from the outer struct's start
 * (file.f_path, dentry.d_name and qstr.len sit in such unions on 6.18).
 * It also expands named inner blocks ("union {...} d_u;"), whose members
 * are not reachable by their own names: those found inside one are
 * dropped at its closing line, the first that names it.
 */
static long member_offset(const char *type, const char *member)
{
	char cmd[256], line[1024], id[128];
	long found[8];
	int nfound = 0, depth = 0, mark[16];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "pahole -C %s " BTF_PATH " 2>/dev/null", type);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *t = line + strspn(line, " \t");

		if (*t == '}' && depth > 0) {
			const char *after = t + 1 + strspn(t + 1, " ");

			/* "} name;" closes a named block: what it holds is not ours */
			if (--depth > 0 && depth < 16 && *after != ';' &&
			    strncmp(after, "__attribute__", 13))
				nfound = mark[depth];
		} else if (strchr(t, '{') && !strstr(t, "/*")) {
			if (depth < 16)
				mark[depth] = nfound;
			depth++;
		} else if (depth > 0 && member_name(t, id, sizeof(id)) && !strcmp(id, member) &&
			   nfound < 8) {
			found[nfound++] = strtol(strstr(t, "/*") + 2, NULL, 10);
		}
	}
	pclose(f);
	return nfound == 1 ? found[0] : -1;
}

/* "-DSE_OFF_FILE_F_PATH=64" for each offset, into @flags. */
static int pahole_flags(char **flags)
{
	static char text[NOFFSETS][128];
	int n = 0;

	for (unsigned i = 0; i < NOFFSETS; i++) {
		long off = member_offset(offsets[i][0], offsets[i][1]);
		char name[96], *p;

		if (off < 0 && offsets[i][2])
			continue;
		if (off < 0) {
			fprintf(stderr,
				PROG
				": no offset for %s.%s from pahole (apt-get install dwarves)\n",
				offsets[i][0], offsets[i][1]);
			return -1;
		}
		snprintf(name, sizeof(name), "SE_OFF_%s_%s", offsets[i][0], offsets[i][1]);
		for (p = name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		snprintf(text[i], sizeof(text[i]), "-D%s=%ld", name, off);
		flags[n++] = text[i];
	}
	return n;
}

/*
 * The agent's own -D flags (agent/btfoff.c), into @flags; -1 on error. The
 * strings belong to the btfoff, kept until exit.
 */
static int btfoff_flags(char **flags, struct btfoff **out)
{
	char err[512];
	size_t n, nc;
	const struct btfoff_want *want = btfoff_probe_wants(&n);
	struct btfoff *b = btfoff_load(NULL, err, sizeof(err));
	const char *const *c;

	if (!b || btfoff_resolve(b, want, n, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": struct offsets from BTF: %s\n", err);
		btfoff_free(b);
		return -1;
	}
	c = btfoff_cflags(b, &nc);
	if (nc > MAX_FLAGS) {
		btfoff_free(b);
		return -1;
	}
	for (size_t i = 0; i < nc; i++)
		flags[i] = (char *)c[i];
	*out = b;
	return (int)nc;
}

/* A path on one line: bytes outside 0x21-0x7e and backslash as \xNN. */
static void print_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static void print_flags(unsigned f)
{
	static const char *const names[] = {"truncated", "unlinked", "root",	 "escaped",
					    "fault",	 "bind",     "no_origin"};
	const char *sep = "";

	printf("flags=");
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & (1u << i)) {
			printf("%s%s", sep, names[i]);
			sep = ",";
		}
	if (!*sep)
		printf("-");
}

static int on_record(void *ctx, void *data, size_t size)
{
	static struct kpath kp;
	int32_t fd;
	int err;

	(void)ctx;
	if (size < 8) {
		printf("error=short record size=%zu\n", size);
		return 0;
	}
	memcpy(&fd, data, sizeof(fd));
	err = kpath_decode((char *)data + 8, size - 8, &kp);
	if (err) {
		printf("fd=%d error=%s size=%zu\n", fd, strerror(-err), size);
		return 0;
	}
	printf("fd=%d count=%u root_at=%u dev=%u:%u ino=%llu mntns=%u bind_at=%u bind_from=%u "
	       "origin_ns=%u ",
	       fd, kp.count, kp.root_at, kp.dev_major, kp.dev_minor, (unsigned long long)kp.ino,
	       kp.mntns, kp.bind_at, kp.bind_from, kp.origin_ns);
	print_flags(kp.flags);
	printf("\thost=");
	print_escaped(kp.host);
	printf("\tvia=");
	print_escaped(kp.flags & SE_KP_F_BIND ? kp.via : kp.host);
	printf("\tinroot=");
	print_escaped(kp.in_root);
	if (kp.flags & SE_KP_F_ESCAPED) {
		printf("\tfspath=");
		print_escaped(kp.fs_path);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static void *compile(int tgid, int walk, int bench, long host_mntns, char **offs, int noffs)
{
	char d_tgid[32], d_walk[32], d_bench[32], d_host[48];
	const char *cflags[MAX_FLAGS + 4] = {d_tgid, d_walk, d_bench, d_host};
	size_t n1 = strlen(sentinel_pathwalk_text), n2 = strlen(prog_text);
	char *text = malloc(n1 + n2 + 1);
	void *mod;

	if (!text)
		return NULL;
	memcpy(text, sentinel_pathwalk_text, n1);
	memcpy(text + n1, prog_text, n2 + 1);
	snprintf(d_tgid, sizeof(d_tgid), "-DPW_TGID=%d", tgid);
	snprintf(d_walk, sizeof(d_walk), "-DPW_WALK=%d", walk);
	snprintf(d_bench, sizeof(d_bench), "-DPW_BENCH=%d", bench);
	snprintf(d_host, sizeof(d_host), "-DPW_HOST_MNTNS=%ldU", host_mntns);
	for (int i = 0; i < noffs; i++)
		cflags[4 + i] = offs[i];
	mod = bpf_module_create_c_from_string(text, 0, cflags, 4 + noffs, true, NULL);
	free(text);
	return mod;
}

/* Load with the verifier's log; prints its last line (the totals). */
static int load(void *mod, const char *fn)
{
	char *log = malloc(LOG_SIZE), *last;
	int fd;

	if (!log)
		return -ENOMEM;
	log[0] = '\0';
	fd = bcc_func_load(mod, BPF_PROG_TYPE_RAW_TRACEPOINT, fn, bpf_function_start(mod, fn),
			   (int)bpf_function_size(mod, fn), bpf_module_license(mod),
			   bpf_module_kern_version(mod), 1, log, LOG_SIZE, NULL, -1);
	if (fd < 0) {
		fprintf(stderr, "%s\n" PROG ": loading %s: %s\n", log, fn, strerror(-fd));
	} else {
		/* "processed N insns (limit 1000000) ..." */
		last = strstr(log, "processed ");
		if (last)
			fprintf(stderr, PROG ": verifier: %.*s\n", (int)strcspn(last, "\n"), last);
	}
	free(log);
	return fd;
}

static int usage(int rc)
{
	fprintf(stderr, "usage: " PROG " [--bench] [--no-walk] [--host-mntns=N] "
			"[--pahole | -DSE_OFF_X=N...] PID\n"
			"       " PROG " [--pahole] --print-offsets\n");
	return rc;
}

static int run(int tgid, int bench, int prog_fd, void *mod)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	struct ring_buffer *rb = NULL;
	int link = bpf_attach_raw_tracepoint(prog_fd, "sys_exit");

	if (link < 0) {
		fprintf(stderr, PROG ": attaching to sys_exit: %s\n", strerror(errno));
		return 1;
	}
	if (!bench) {
		rb = bpf_new_ringbuf(bpf_table_fd(mod, "pw_events"), on_record, NULL);
		if (!rb) {
			fprintf(stderr, PROG ": opening the ring buffer failed\n");
			close(link);
			return 1;
		}
	}
	bpf_obj_get_info(prog_fd, &info, &len);
	printf("ready prog_id=%u\n", info.id);
	fflush(stdout);
	/* --bench waits for SIGTERM: bpftool reads the run time meanwhile. */
	while (!stop && (bench || kill(tgid, 0) == 0)) {
		if (rb)
			bpf_poll_ringbuf(rb, 50);
		else
			usleep(50000);
	}
	if (rb) {
		bpf_poll_ringbuf(rb, 0);
		bpf_free_ringbuf(rb);
	}
	close(link);
	return 0;
}

/* Compile, load, attach, and print until the process is gone. */
static int trace(int tgid, int walk, int bench, long host_mntns, char **offs, int noffs)
{
	struct sigaction sa = {.sa_handler = on_signal};
	void *mod;
	int prog_fd, rc;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	mod = compile(tgid, walk, bench, host_mntns, offs, noffs);
	if (!mod) {
		fprintf(stderr, PROG ": compiling the BPF text failed\n");
		return 1;
	}
	prog_fd = load(mod, "raw_tracepoint__sys_exit");
	if (prog_fd < 0) {
		bpf_module_destroy(mod);
		return 1;
	}
	rc = run(tgid, bench, prog_fd, mod);
	close(prog_fd);
	bpf_module_destroy(mod);
	return rc;
}

int main(int argc, char **argv)
{
	char *offs[MAX_FLAGS];
	int noffs = 0, walk = 1, bench = 0, print = 0, pahole = 0, tgid = 0, rc;
	struct btfoff *b = NULL;
	struct stat ns;
	long host_mntns = stat("/proc/self/ns/mnt", &ns) == 0 ? (long)ns.st_ino : 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bench"))
			bench = 1;
		else if (!strcmp(argv[i], "--no-walk"))
			walk = 0;
		else if (!strcmp(argv[i], "--print-offsets"))
			print = 1;
		else if (!strcmp(argv[i], "--pahole"))
			pahole = 1;
		else if (!strncmp(argv[i], "--host-mntns=", 13))
			host_mntns = strtol(argv[i] + 13, NULL, 10);
		else if (!strncmp(argv[i], "-D", 2) && noffs < MAX_FLAGS)
			offs[noffs++] = argv[i];
		else if (!tgid && atoi(argv[i]) > 0)
			tgid = atoi(argv[i]);
		else
			return usage(2);
	}
	if (!noffs)
		noffs = pahole ? pahole_flags(offs) : btfoff_flags(offs, &b);
	if (noffs < 0)
		return 1;
	if (print) {
		for (int i = 0; i < noffs; i++)
			printf("%s\n", offs[i]);
		rc = 0;
	} else {
		rc = tgid ? trace(tgid, walk, bench, host_mntns, offs, noffs) : usage(2);
	}
	btfoff_free(b);
	return rc;
}
