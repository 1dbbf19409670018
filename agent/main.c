/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-agent: wiring. Loads config and rules, starts the probe, runs the
 * reader thread (kernel -> pipeline -> sink) and waits for a signal.
 *
 * Threads: the main thread only handles signals; the reader thread owns the
 * probe's buffers, the fd table and the sink.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "probe.h"
#include "procscan.h"
#include "rules.h"
#include "sink.h"

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
	struct ruleset rules;
	struct probe *probe;
	struct sink *sink;
	struct pipeline pl;
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

static int load_rules(struct agent *a, const struct options *o)
{
	const char *path = o->rules ? o->rules : a->cfg.rules_file;
	char err[1024];
	int rc;

	if (!path || !*path)
		path = DEFAULT_RULES;
	/* Only the default location may be missing; a path someone gave must load. */
	if (!o->rules && strcmp(path, DEFAULT_RULES) == 0 && access(path, F_OK) != 0) {
		log_info("no rules file; using built-in rules", "rules_file=%s", path);
		rc = rules_load_string(&a->rules, rules_default_text(), "<built-in rules>", err,
				       sizeof(err));
	} else {
		rc = rules_load_file(&a->rules, path, err, sizeof(err));
	}
	if (rc != 0) {
		fprintf(stderr, "sentinel-agent: invalid rules: %s\n", err);
		return -1;
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct agent *a = arg;
	int interval = (int)a->cfg.probe.drain_interval_ms;

	while (!atomic_load(&a->stop)) {
		int n = probe_drain(a->probe, interval);

		if (n < 0 && n != -EINTR) {
			log_error("reading kernel buffers failed", "errno=%d", -n);
			a->reader_err = n;
			break;
		}
		sink_flush(a->sink);
	}
	return NULL;
}

static int start_probe(struct agent *a)
{
	struct probe_opts po = {
		.transport = a->cfg.probe.transport == PROBE_TRANSPORT_RINGBUF ? PROBE_RINGBUF
			     : a->cfg.probe.transport == PROBE_TRANSPORT_PERF  ? PROBE_PERF
									       : 0,
		.ringbuf_kib = a->cfg.probe.ringbuf_kib,
		.perf_pages = a->cfg.probe.perf_pages_per_cpu,
		.fd_entries = a->cfg.probe.fd_table_size,
		.self_tgid = (uint32_t)getpid(),
	};
	struct procscan_stats scan = {0};
	struct timespec t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = probe_open(&a->probe, &po, pipeline_on_record, &a->pl);
	if (err)
		return err;
	pipeline_set_probe(&a->pl, a->probe);
	err = pipeline_set_rules(&a->pl, &a->rules);
	if (err)
		return err;
	err = probe_attach(a->probe);
	if (err)
		return err;
	/* After attaching: what opens from now on is in the buffer. */
	procscan_run(&a->pl.fds, &scan);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("probe attached",
		 "transport=%s programs=%u rules=%u procs_scanned=%zu fds_scanned=%zu "
		 "startup_ms=%ld",
		 probe_transport_name(a->probe), probe_program_count(a->probe), a->rules.n_enabled,
		 scan.procs, scan.fds,
		 (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}

static void summary(struct agent *a)
{
	uint64_t k[SE_CTR_MAX] = {0};
	const struct pipeline_stats *s = &a->pl.stats;

	probe_read_counters(a->probe, k);
	log_info("stopped",
		 "seen=%llu forwarded=%llu filtered_kernel=%llu io_records=%llu "
		 "pending=%llu filtered_user=%llu dropped_buffer=%llu dropped_perf=%llu "
		 "untracked_fds=%llu unresolved=%llu sink_errors=%llu",
		 (unsigned long long)k[SE_CTR_SEEN],
		 (unsigned long long)(s->forwarded[0] + s->forwarded[1]),
		 (unsigned long long)k[SE_CTR_FILTERED], (unsigned long long)s->io_records,
		 (unsigned long long)k[SE_CTR_PENDING], (unsigned long long)s->user_filtered,
		 (unsigned long long)k[SE_CTR_DROP_BUFFER],
		 (unsigned long long)probe_perf_lost(a->probe),
		 (unsigned long long)k[SE_CTR_DROP_FDMAP], (unsigned long long)s->unresolved,
		 (unsigned long long)a->sink->errors);
}

static int wait_for_stop(struct agent *a, sigset_t *set)
{
	int sig = 0;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			return -1;
		if (sig == SIGHUP) {
			log_info("SIGHUP: rule reload is not supported yet; ignoring");
			continue;
		}
		log_info("stopping", "signal=%s", strsignal(sig));
		atomic_store(&a->stop, 1);
		return 0;
	}
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

static int run(struct agent *a)
{
	sigset_t set;
	int err;

	/* Every thread inherits the blocked set; only sigwait() takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pipeline_init(&a->pl, NULL);
	a->sink = make_sink(a);
	if (!a->sink) {
		pipeline_free(&a->pl);
		return -1;
	}
	a->pl.sink = a->sink;
	err = start_probe(a);
	if (err)
		goto out;
	err = pthread_create(&a->reader, NULL, reader_main, a);
	if (err) {
		log_error("starting reader thread failed", "errno=%d", err);
		goto out;
	}
	log_info("agent ready", "mode=%s pid=%d agent_id=%s",
		 config_stream_mode_name(a->cfg.stream.mode), (int)getpid(), a->pl.src.agent_id);
	wait_for_stop(a, &set);
	pthread_join(a->reader, NULL);
	/* Detach, then drain what the probe emitted before it went quiet. */
	probe_detach(a->probe);
	while (probe_drain(a->probe, 0) > 0)
		;
	sink_flush(a->sink);
	summary(a);
	err = a->reader_err;
out:
	probe_close(a->probe);
	pipeline_free(&a->pl);
	sink_destroy(a->sink);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct agent a;
	int rc;

	memset(&a, 0, sizeof(a));
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (load_config(&a, &o) != 0 || load_rules(&a, &o) != 0) {
		config_free(&a.cfg);
		return 1;
	}
	if (o.check) {
		config_print(&a.cfg, stdout);
		rules_print(&a.rules, stdout);
		rc = 0;
	} else {
		rc = run(&a) == 0 ? 0 : 1;
	}
	rules_free(&a.rules);
	config_free(&a.cfg);
	return rc;
}
