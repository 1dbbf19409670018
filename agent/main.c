/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-agent: wiring. Loads config and rules, starts the probe, runs the
 * reader thread (kernel -> pipeline -> sink) and the control loop.
 *
 * Threads: the main thread handles signals and rules-file changes (it loads
 * and validates new rules and hands them over); the reader thread owns the
 * probe's buffers, the file names, the sink and the rules in force.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cgroups.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "malloc_tune.h"
#include "pipeline.h"
#include "podmeta.h"
#include "probe.h"
#include "reload.h"
#include "rules.h"
#include "rulewatch.h"
#include "sink.h"
#include "telemetry.h"

#define DEFAULT_CONFIG "/etc/sentinel-ebpf/agent-config.yaml"
#define DEFAULT_RULES "/etc/sentinel-ebpf/rules.yaml"

struct options {
	const char *config;
	const char *rules;
	const char *mode;
	int check;
};

struct agent {
	struct agent_config cfg;
	struct ruleset *rules; /* in force; the reader thread's while it runs */
	const char *rules_path;
	bool rules_may_miss;	 /* the default path: missing means built-in rules */
	bool rules_builtin;	 /* in force because that file was missing */
	struct rulewatch *watch; /* NULL: live reload off, SIGHUP only */
	int watch_err;
	struct reload_box box;
	struct reload_counts reloads;
	struct probe *probe;
	struct sink *sink;
	struct pipeline pl;
	struct podmeta *pods; /* NULL: pods.enabled false */
	struct telemetry *tel;
	pthread_t reader;
	atomic_int stop;
	int reader_err;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sentinel-agent [options]\n"
		     "Traces file reads and writes with eBPF, keeps those matching the rules and\n"
		     "forwards them to a detector (grpc) or prints them as JSON lines (stdout).\n\n"
		     "  -c, --config FILE  agent config (default: $AGENT_CONFIG, else\n"
		     "                     " DEFAULT_CONFIG " if it exists, else built-in)\n"
		     "  -r, --rules FILE   rules (default: rulesFile from the config; built-in\n"
		     "                     rules when that is the default path and missing)\n"
		     "  -m, --mode MODE    stream mode: stdout | grpc (overrides stream.mode)\n"
		     "      --check        validate config and rules, print the effective\n"
		     "                     settings, exit 0 (valid) or 1 (invalid)\n"
		     "  -V, --version      print the version\n"
		     "  -h, --help         this text\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"rules", required_argument, NULL, 'r'},
		{"mode", required_argument, NULL, 'm'},
		{"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:r:m:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'r': o->rules = optarg; break;
		case 'm': o->mode = optarg; break;
		case 'k': o->check = 1; break;
		case 'V': printf("sentinel-agent %s\n", SENTINEL_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sentinel-agent: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int load_config(struct agent *a, const struct options *o)
{
	const char *path = o->config ? o->config : getenv("AGENT_CONFIG");
	char err[1024];

	if (!path && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (!path) {
		config_defaults(&a->cfg);
		log_info("no config file; using built-in defaults");
	} else if (config_load_file(&a->cfg, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "sentinel-agent: %s\n", err);
		return -1;
	}
	if (o->mode && config_parse_stream_mode(o->mode, &a->cfg.stream.mode) != 0) {
		fprintf(stderr, "sentinel-agent: --mode: expected stdout or grpc, got '%s'\n",
			o->mode);
		return -1;
	}
	log_set_level(a->cfg.log_level);
	return 0;
}

static void rules_path(struct agent *a, const struct options *o)
{
	const char *path = o->rules ? o->rules : a->cfg.rules_file;

	if (!path || !*path)
		path = DEFAULT_RULES;
	a->rules_path = path;
	/* Only the default location may be missing; a path someone gave must load. */
	a->rules_may_miss = !o->rules && strcmp(path, DEFAULT_RULES) == 0;
}

static void free_rules(struct ruleset *rs)
{
	if (rs)
		rules_free(rs);
	free(rs);
}

/* Into a new heap ruleset: the rules file, or the built-in rules that stand
 * in for a missing default file; refused when no rule is enabled, unless
 * the config allows it. */
static struct ruleset *read_rules(struct agent *a, bool builtin, char *err, size_t errcap)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	int rc;

	if (!rs) {
		snprintf(err, errcap, "%s: out of memory", a->rules_path);
		return NULL;
	}
	if (builtin)
		rc = rules_load_string(rs, rules_default_text(), "<built-in rules>", err, errcap);
	else
		rc = rules_load_file(rs, a->rules_path, err, errcap);
	if (rc != 0) {
		free(rs);
		return NULL;
	}
	if (rules_require_some(rs, err, errcap) != 0) {
		if (!a->cfg.allow_empty_rules) {
			free_rules(rs);
			return NULL;
		}
		log_warn("no enabled rule: the agent watches nothing (allowEmptyRules: true)",
			 "rules_file=%s", a->rules_path);
	}
	return rs;
}

static int load_rules(struct agent *a)
{
	char err[1024];

	a->rules_builtin = a->rules_may_miss && access(a->rules_path, F_OK) != 0;
	if (a->rules_builtin)
		log_info("no rules file; using built-in rules", "rules_file=%s", a->rules_path);
	a->rules = read_rules(a, a->rules_builtin, err, sizeof(err));
	if (!a->rules) {
		fprintf(stderr, "sentinel-agent: invalid rules: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Watch the rules file's directory, also when the built-in rules stand in
 * for a missing default file (creating it later loads it). Opened before
 * the rules are loaded, so a change in between is noticed.
 */
static void open_watch(struct agent *a)
{
	a->watch_err = rulewatch_open(&a->watch, a->rules_path);
}

static void log_watch(struct agent *a)
{
	if (a->watch)
		log_info("watching the rules file for changes", "rules_file=%s dir=%s",
			 a->rules_path, rulewatch_dir(a->watch));
	else if (a->watch_err == -ENOENT)
		log_info("rules directory does not exist; live reload is off (SIGHUP reloads)",
			 "rules_file=%s", a->rules_path);
	else
		log_warn("cannot watch the rules file; live reload is off (SIGHUP reloads)",
			 "rules_file=%s errno=%d", a->rules_path, -a->watch_err);
}

/*
 * Reader thread: apply the rules the control thread posted, between two
 * drains, and reply. Records still in the buffer were decided under the old
 * rules (their masks are the old rules' bits): they go through first, with
 * the old rules. The old ruleset is freed once the pipeline no longer points
 * at it; on failure the pipeline and the kernel still have the old one.
 */
static void apply_pending_rules(struct agent *a)
{
	struct ruleset *rs = reload_box_take(&a->box), *old = a->rules;
	int err;

	if (!rs)
		return;
	probe_drain(a->probe, 0);
	err = pipeline_set_rules(&a->pl, rs);
	if (!err) {
		a->rules = rs;
		free_rules(old);
	}
	reload_box_reply(&a->box, err, a->pl.gen);
}

static void *reader_main(void *arg)
{
	struct agent *a = arg;
	int interval = (int)a->cfg.probe.drain_interval_ms;

	while (!atomic_load(&a->stop)) {
		int n;

		apply_pending_rules(a);
		n = probe_drain(a->probe, interval);

		if (n < 0 && n != -EINTR) {
			log_error("reading kernel buffers failed", "errno=%d", -n);
			a->reader_err = n;
			break;
		}
		sink_flush(a->sink);
		telemetry_tick(a->tel, false);
	}
	reload_box_close(&a->box);
	return NULL;
}

/* The node's cgroup layout (which hierarchy's ids the records carry); the
 * unified one, named from /proc, when /proc/self/cgroup cannot tell. */
static void cgroup_layout(struct cgroups_layout *lay)
{
	char err[256];

	if (cgroups_layout_read(lay, err, sizeof(err)) == 0)
		return;
	log_warn("cannot tell the node's cgroup layout: container ids come from /proc only",
		 "error=\"%s\"", err);
	*lay = (struct cgroups_layout){.mode = CGROUPS_V2};
}

/* Cgroups made before the probe attached (after: the kernel tells). */
static void scan_cgroups(struct agent *a, const struct cgroups_layout *lay)
{
	long n = lay->mount[0] ? containers_scan(&a->pl.containers, lay->mount) : -ENOENT;

	log_info("cgroup layout", "mode=%s hierarchy=%d controller=%s mount=%s cgroups_scanned=%ld",
		 cgroups_mode_name(lay->mode), lay->hierarchy,
		 lay->controller[0] ? lay->controller : "unified",
		 lay->mount[0] ? lay->mount : "none", n < 0 ? 0 : n);
	if (n < 0)
		log_warn("cgroups made before start cannot be listed: their processes' containers "
			 "come from /proc while they live",
			 "mount=%s errno=%ld", lay->mount[0] ? lay->mount : "none", -n);
}

static int start_probe(struct agent *a)
{
	struct cgroups_layout lay;
	struct probe_opts po = {
		.transport = a->cfg.probe.transport == PROBE_TRANSPORT_RINGBUF ? PROBE_RINGBUF
			     : a->cfg.probe.transport == PROBE_TRANSPORT_PERF  ? PROBE_PERF
									       : 0,
		.ringbuf_kib = a->cfg.probe.ringbuf_kib,
		.perf_pages = a->cfg.probe.perf_pages_per_cpu,
		.file_entries = a->cfg.probe.fd_table_size,
		/* Another kernel's BTF, for a node whose kernel has none built in
		 * (as BTFHub provides), and for tests. */
		.btf_path = getenv("SENTINEL_BTF_PATH"),
		.self_tgid = (uint32_t)getpid(),
		.rate_limit = {a->cfg.probe.rate_limit.events_per_s, a->cfg.probe.rate_limit.burst,
			       a->cfg.probe.rate_limit.report_s},
	};
	uint64_t t0 = clock_mono_ns();
	int err;

	cgroup_layout(&lay);
	po.cgroup_subsys = lay.subsys_enum;
	po.cgroup_hierarchy = lay.hierarchy;
	err = probe_open(&a->probe, &po, pipeline_on_record, &a->pl);
	if (err)
		return err;
	pipeline_set_probe(&a->pl, a->probe);
	err = pipeline_set_rules(&a->pl, a->rules);
	if (err)
		return err;
	err = probe_attach(a->probe);
	if (err)
		return err;
	scan_cgroups(a, &lay);
	log_info("probe attached", "transport=%s programs=%u rules=%u startup_ms=%llu",
		 probe_transport_name(a->probe), probe_program_count(a->probe), a->rules->n_enabled,
		 (unsigned long long)((clock_mono_ns() - t0) / 1000000));
	if (po.rate_limit.events_per_s)
		log_info("per-process rate limit on", "events_per_second=%u burst=%u report_s=%u",
			 po.rate_limit.events_per_s,
			 po.rate_limit.burst ? po.rate_limit.burst : po.rate_limit.events_per_s,
			 po.rate_limit.report_s);
	return 0;
}

/* The kernel's losses by class (probe_loss_classes) for the summary line:
 * "dropped_read_matched=N ..." in the table's order. */
static void loss_fields(const uint64_t k[SE_CTR_MAX], char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < probe_n_loss_classes && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, " %s=%llu", probe_loss_classes[i].summary,
				      (unsigned long long)k[probe_loss_classes[i].ctr]);
}

/* " PREFIX_file_read=N PREFIX_file_write=N" from @v (by enum ev_type),
 * appended at @buf's end. */
static void type_fields(const char *prefix, const uint64_t v[EV_TYPES], char *buf, size_t cap)
{
	size_t o = strlen(buf);

	for (int t = 0; t < EV_TYPES && o < cap; t++)
		o += (size_t)snprintf(buf + o, cap - o, " %s_%s=%llu", prefix,
				      ev_type_name((unsigned)t), (unsigned long long)v[t]);
}

static void summary(struct agent *a)
{
	uint64_t k[SE_CTR_MAX] = {0};
	char losses[768];
	const struct pipeline_stats *s = &a->pl.stats;

	/* What the last interval suppressed, per process, before the totals. */
	telemetry_rate_limit_report(a->tel);
	probe_read_counters(a->probe, k);
	loss_fields(k, losses, sizeof(losses));
	type_fields("sink_errors", a->sink->errors, losses, sizeof(losses));
	log_info("stopped",
		 "seen=%llu forwarded=%llu filtered_kernel=%llu io_records=%llu "
		 "pending=%llu filtered_user=%llu names=%llu walks=%llu dropped_buffer=%llu "
		 "dropped_perf=%llu unresolved=%llu unresolved_read=%llu unresolved_write=%llu "
		 "truncated=%llu rate_limited=%llu sink_errors=%llu reloads_ok=%llu "
		 "reloads_invalid=%llu reloads_error=%llu%s",
		 (unsigned long long)k[SE_CTR_SEEN],
		 (unsigned long long)(s->forwarded[0] + s->forwarded[1]),
		 (unsigned long long)k[SE_CTR_FILTERED], (unsigned long long)s->io_records,
		 (unsigned long long)k[SE_CTR_PENDING], (unsigned long long)s->user_filtered,
		 (unsigned long long)s->names, (unsigned long long)k[SE_CTR_WALKS],
		 (unsigned long long)probe_buffer_drops(k),
		 (unsigned long long)probe_perf_lost(a->probe),
		 (unsigned long long)(s->unresolved[0] + s->unresolved[1]),
		 (unsigned long long)s->unresolved[0], (unsigned long long)s->unresolved[1],
		 (unsigned long long)s->truncated, (unsigned long long)probe_rate_limited(k),
		 (unsigned long long)sink_errors_total(a->sink),
		 (unsigned long long)atomic_load(&a->reloads.n[RELOAD_SUCCESS]),
		 (unsigned long long)atomic_load(&a->reloads.n[RELOAD_INVALID]),
		 (unsigned long long)atomic_load(&a->reloads.n[RELOAD_ERROR]), losses);
}

static void reload_done(struct agent *a, enum reload_result r)
{
	atomic_fetch_add(&a->reloads.n[r], 1);
}

/*
 * Control thread: re-read the rules file and hand it to the reader. A file
 * event reloads only when the bytes changed; SIGHUP (@forced) always does.
 * A missing file (mid-swap, an editor's rename, or removed) keeps the rules
 * in force and is not counted, unless SIGHUP asked: then it is invalid,
 * except while the built-in rules stand in for the missing default file,
 * which a SIGHUP re-applies as a start-up would.
 */
static void reload_rules(struct agent *a, bool forced)
{
	const char *trigger = forced ? "sighup" : "file";
	enum rulewatch_status st;
	bool builtin = false;
	struct ruleset *rs;
	char err[1024], q[1100], qsrc[300];
	uint32_t gen = 0;
	unsigned n_enabled;
	int rc;

	err[0] = '\0';
	if (a->watch)
		st = rulewatch_check(a->watch, forced, err, sizeof(err));
	else
		st = access(a->rules_path, F_OK) == 0 ? RULEWATCH_NEW : RULEWATCH_MISSING;
	switch (st) {
	case RULEWATCH_SAME:
		log_debug("rules file event, content unchanged", "rules_file=%s", a->rules_path);
		return;
	case RULEWATCH_MISSING:
		if (forced && a->rules_builtin) {
			builtin = true;
			break;
		}
		if (!forced) {
			log_info("rules file missing; keeping the rules in force", "rules_file=%s",
				 a->rules_path);
			return;
		}
		snprintf(err, sizeof(err), "%s: %s", a->rules_path, strerror(ENOENT));
		goto invalid;
	case RULEWATCH_ERROR: goto invalid;
	case RULEWATCH_NEW: break;
	}
	rs = read_rules(a, builtin, err, sizeof(err));
	if (!rs)
		goto invalid;
	n_enabled = rs->n_enabled;
	log_quote(qsrc, sizeof(qsrc), rs->source);
	rc = reload_box_post(&a->box, rs, &gen);
	if (rc) {
		free_rules(rs);
		/* Not in force: the next change event tries again. */
		if (a->watch)
			rulewatch_forget(a->watch);
		log_error("rules reload failed; keeping the rules in force",
			  "rules_file=%s trigger=%s errno=%d", a->rules_path, trigger, -rc);
		reload_done(a, RELOAD_ERROR);
		return;
	}
	a->rules_builtin = builtin;
	log_info("rules reloaded", "rules=%u gen=%u source=%s trigger=%s", n_enabled, gen, qsrc,
		 trigger);
	reload_done(a, RELOAD_SUCCESS);
	return;

invalid:
	log_error("rules reload rejected; keeping the rules in force",
		  "rules_file=%s trigger=%s error=%s", a->rules_path, trigger,
		  log_quote(q, sizeof(q), err));
	reload_done(a, RELOAD_INVALID);
}

/* How long the control loop may sleep: until the rules settle, and no
 * longer than readiness is watched. */
static int wait_ms(struct agent *a)
{
	int ms = a->watch ? rulewatch_timeout_ms(a->watch) : -1;

	return ms < 0 || ms > TELEMETRY_READY_WATCH_MS ? TELEMETRY_READY_WATCH_MS : ms;
}

/* Main thread, until SIGINT/SIGTERM: signals (SIGHUP reloads), changes
 * in the rules file's directory, settled for RULEWATCH_SETTLE_MS, and
 * readiness said in the log (telemetry_watch_ready). */
static int control_loop(struct agent *a, int sigfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	int n;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = a->watch ? rulewatch_fd(a->watch) : -1,
					 .events = POLLIN};
		n = poll(pfd, 2, wait_ms(a));
		if (n < 0 && errno != EINTR) {
			log_error("waiting for signals failed", "errno=%d", errno);
			return -1;
		}
		if (n > 0 && (pfd[0].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGHUP) {
				log_info("stopping", "signal=%s", strsignal((int)si.ssi_signo));
				return 0;
			}
			log_info("SIGHUP: reloading the rules", "rules_file=%s", a->rules_path);
			reload_rules(a, true);
		}
		if (n > 0 && (pfd[1].revents & POLLIN))
			rulewatch_consume(a->watch);
		if (a->watch && rulewatch_timeout_ms(a->watch) == 0)
			reload_rules(a, false);
		telemetry_watch_ready(a->tel, clock_mono_ns());
	}
}

static int start_telemetry(struct agent *a)
{
	static const char *reload_names[RELOAD_RESULT_MAX];
	const struct agent_config *c = &a->cfg;
	struct telemetry_opts o = {
		.health_bind = c->health.bind_address,
		.health_port = c->health.port,
		.metrics_enabled = c->metrics.enabled,
		.metrics_bind = c->metrics.bind_address,
		.metrics_port = c->metrics.port,
		.stall_s = c->health.stall_s,
		.grpc = c->stream.mode == STREAM_GRPC,
		.detector_grace_s = c->health.detector_grace_s,
		.max_kernel_drop_ratio = c->health.max_kernel_drop_ratio,
		.reloads = a->reloads.n,
		.reload_names = reload_names,
		.n_reload = RELOAD_RESULT_MAX,
	};
	struct telemetry_sources src = {.pl = &a->pl, .sink = a->sink};
	char err[256], q[300];

	for (int i = 0; i < RELOAD_RESULT_MAX; i++)
		reload_names[i] = reload_result_name((enum reload_result)i);
	a->tel = telemetry_start(&o, &src, err, sizeof(err));
	if (!a->tel) {
		log_error("cannot serve health and metrics", "error=%s",
			  log_quote(q, sizeof(q), err));
		return -1;
	}
	return 0;
}

static struct sink *make_sink(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	struct sink_grpc_opts o = {
		.endpoint = c->grpc.endpoint,
		.batch_size = c->stream.batch_size,
		.queue_length = c->stream.queue_length,
		.flush_ms = 5,
		.shutdown_grace_ms = 5000,
		.ack_timeout_s = c->grpc.ack_timeout_s,
		.tls = c->grpc.tls.enabled,
		.ca_file = c->grpc.tls.ca_file,
		.cert_file = c->grpc.tls.cert_file,
		.key_file = c->grpc.tls.key_file,
		.agent_id = a->pl.src.agent_id,
	};

	if (c->stream.mode == STREAM_STDOUT)
		return sink_stdout_new(STDOUT_FILENO);
	return sink_grpc_new(&o);
}

/* Containers' pods from their runtime's bundles (podmeta.h), when enabled. */
static int start_pods(struct agent *a)
{
	int err;

	if (!a->cfg.pods.enabled)
		return 0;
	err = podmeta_new(&a->pods, (const char *const *)a->cfg.pods.bundle_paths,
			  a->cfg.pods.n_bundle_paths, 16384);
	if (err) {
		log_error("pod lookup: cannot start", "errno=%d", -err);
		return -1;
	}
	a->pl.pods = a->pods;
	log_info("pod lookup from OCI bundles", "paths=%zu", a->cfg.pods.n_bundle_paths);
	return 0;
}

static int run(struct agent *a)
{
	sigset_t set;
	int err, sigfd;

	/* Every thread inherits the blocked set; only the signalfd takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		log_error("signalfd failed", "errno=%d", errno);
		return -1;
	}

	reload_box_init(&a->box);
	pipeline_init(&a->pl, NULL);
	err = start_pods(a);
	if (err)
		goto out_pipeline;
	a->sink = make_sink(a);
	if (!a->sink) {
		err = -1;
		goto out_pipeline;
	}
	a->pl.sink = a->sink;
	err = start_telemetry(a);
	if (err)
		goto out;
	err = start_probe(a);
	if (err)
		goto out;
	telemetry_attached(a->tel, a->probe);
	pipeline_set_tick(&a->pl, telemetry_pipeline_tick, a->tel);
	err = pthread_create(&a->reader, NULL, reader_main, a);
	if (err) {
		log_error("starting reader thread failed", "errno=%d", err);
		goto out;
	}
	/* Events flow from here; "agent ready" follows when /readyz says so. */
	log_info("agent running", "mode=%s pid=%d agent_id=%s",
		 config_stream_mode_name(a->cfg.stream.mode), (int)getpid(), a->pl.src.agent_id);
	telemetry_watch_ready(a->tel, clock_mono_ns());
	control_loop(a, sigfd);
	atomic_store(&a->stop, 1);
	pthread_join(a->reader, NULL);
	/* Detach, then drain what the probe emitted before it went quiet. */
	probe_detach(a->probe);
	telemetry_detached(a->tel);
	while (probe_drain(a->probe, 0) > 0)
		;
	sink_flush(a->sink);
	summary(a);
	err = a->reader_err;
out:
	/* The metrics handlers read the pipeline's rule names: stop them first. */
	telemetry_stop(a->tel);
	probe_close(a->probe);
	sink_destroy(a->sink);
out_pipeline:
	pipeline_free(&a->pl);
	podmeta_free(a->pods);
	reload_box_destroy(&a->box);
	close(sigfd);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct agent a;
	int rc;

	/* Before any thread: see malloc_tune.h (sanitizers' allocators refuse). */
	if (malloc_tune() != 0)
		log_debug("the C library refused the allocator settings");
	memset(&a, 0, sizeof(a));
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (load_config(&a, &o) != 0) {
		config_free(&a.cfg);
		return 1;
	}
	rules_path(&a, &o);
	if (!o.check)
		open_watch(&a);
	if (load_rules(&a) != 0) {
		rc = 1;
	} else if (o.check) {
		config_print(&a.cfg, stdout);
		rules_print(a.rules, stdout);
		rc = 0;
	} else {
		log_watch(&a);
		rc = run(&a) == 0 ? 0 : 1;
	}
	rulewatch_close(a.watch);
	free_rules(a.rules);
	config_free(&a.cfg);
	return rc;
}
