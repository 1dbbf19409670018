/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel-detector: the reference DetectorService. Options and
 * environment, signals, the periodic summary; the server (server.c) and the
 * scorer (score.c) do the work, all on this thread. /metrics and /healthz
 * (telemetry.c) answer on their own threads from the snapshot this loop
 * publishes after each poll.
 *
 * Output: one JSON line per anomaly on stdout; everything else logfmt on
 * stderr (common/log.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "log.h"
#include "malloc_tune.h"
#include "score.h"
#include "server.h"
#include "telemetry.h"

#define PROG "sentinel-detector"
#define POLL_MS 200 /* how soon a signal is noticed */

struct options {
	struct server_opts srv;
	const char *scorer;
	int summary_interval_s;
	const char *metrics_bind;
	int metrics_port; /* 0: no metrics server */
};

static volatile sig_atomic_t stop_signal;

/* Where the previous summary left off: rates are per interval. */
static struct {
	uint64_t events;
	double t;
} last;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Your own scorers go here (see score.h), e.g.
 *	scorer_register(&my_scorer);
 */
static void register_scorers(void)
{
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [options]\n"
		"Reference sentinel.v1.DetectorService: scores the events agents stream, answers\n"
		"each one, and prints every anomaly as a JSON line on stdout.\n\n"
		"  -p, --port N                 listen port (env DETECTOR_PORT, default 50051;\n"
		"                               0: any free port, logged)\n"
		"  -b, --bind ADDR              listen address (env DETECTOR_BIND, default\n"
		"                               0.0.0.0; [::] for IPv6 and IPv4)\n"
		"      --metrics-port N         serve /metrics and /healthz over HTTP on N (env\n"
		"                               DETECTOR_METRICS_PORT, default 9103; 0: off)\n"
		"      --metrics-bind ADDR      its address (env DETECTOR_METRICS_BIND, default\n"
		"                               0.0.0.0)\n"
		"      --scorer NAME            scoring (env DETECTOR_SCORER, default reference)\n"
		"      --summary-interval S     summary log line every S seconds (default 10,\n"
		"                               0: off)\n"
		"      --max-message-bytes N    larger requests fail RESOURCE_EXHAUSTED\n"
		"                               (default 4194304)\n"
		"      --max-streams N          concurrent streams per connection (default 1024)\n"
		"      --max-memory-mb N        gRPC's memory for all connections, MiB (env\n"
		"                               DETECTOR_MAX_MEMORY_MB, default 128, 0: no\n"
		"                               limit); past it streams are reset and\n"
		"                               connections closed. Keep it well under the\n"
		"                               container's memory limit\n"
		"      --max-connection-age-s S close connections after S s (+-10%%, then a\n"
		"                               grace) so clients re-resolve and spread over\n"
		"                               replicas (default 300, 0: never)\n"
		"      --max-connection-age-grace-s S  (default 10)\n"
		"      --tls-cert FILE          serve TLS with this PEM certificate chain (env\n"
		"                               DETECTOR_TLS_CERT); needs --tls-key\n"
		"      --tls-key FILE           PEM private key (env DETECTOR_TLS_KEY)\n"
		"      --tls-client-ca FILE     mTLS: require client certificates signed by\n"
		"                               these CAs (env DETECTOR_TLS_CLIENT_CA)\n"
		"      --log-level LEVEL        debug|info|warn|error (env DETECTOR_LOG_LEVEL)\n"
		"  -V, --version                print the version\n"
		"  -h, --help                   this text\n\n"
		"Scorers:\n");
	for (size_t i = 0; scorer_at(i); i++)
		fprintf(out, "  %-12s %s\n", scorer_at(i)->name,
			scorer_at(i)->help ? scorer_at(i)->help : "");
	fprintf(out, "\nReference rules (env): DETECTOR_SENSITIVE_PREFIXES (default\n"
		     "/etc,/bin,/usr,/sbin,/boot), DETECTOR_HIGH_WRITE_BYTES (default 10485760),\n"
		     "DETECTOR_ALLOWED_COMMS (default empty).\n");
}

/* Strict decimal in [min, max]; @what names the option or variable. */
static int parse_int(const char *what, const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		fprintf(stderr, PROG ": %s: expected an integer from %ld to %ld, got '%s'\n", what,
			min, max, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

enum {
	OPT_SCORER = 256,
	OPT_SUMMARY,
	OPT_MAX_MSG,
	OPT_MAX_STREAMS,
	OPT_MAX_MEMORY,
	OPT_MAX_AGE,
	OPT_MAX_AGE_GRACE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_LOG_LEVEL,
	OPT_METRICS_PORT,
	OPT_METRICS_BIND,
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"port", required_argument, NULL, 'p'},
		{"bind", required_argument, NULL, 'b'},
		{"scorer", required_argument, NULL, OPT_SCORER},
		{"summary-interval", required_argument, NULL, OPT_SUMMARY},
		{"max-message-bytes", required_argument, NULL, OPT_MAX_MSG},
		{"max-streams", required_argument, NULL, OPT_MAX_STREAMS},
		{"max-memory-mb", required_argument, NULL, OPT_MAX_MEMORY},
		{"max-connection-age-s", required_argument, NULL, OPT_MAX_AGE},
		{"max-connection-age-grace-s", required_argument, NULL, OPT_MAX_AGE_GRACE},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"tls-client-ca", required_argument, NULL, OPT_TLS_CA},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
		{"metrics-bind", required_argument, NULL, OPT_METRICS_BIND},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *port = getenv("DETECTOR_PORT"), *level = getenv("DETECTOR_LOG_LEVEL");
	const char *mport = getenv("DETECTOR_METRICS_PORT");
	const char *mem = getenv("DETECTOR_MAX_MEMORY_MB");
	struct server_opts *s = &o->srv;
	enum log_level lv;
	int c, rc = 0;

	s->bind = env_or("DETECTOR_BIND", "0.0.0.0");
	s->port = 50051;
	s->max_message_bytes = 4 << 20;
	s->max_streams = 1024;
	s->max_memory_mb = 128;
	s->max_connection_age_s = 300;
	s->max_connection_age_grace_s = 10;
	s->tls_cert = env_or("DETECTOR_TLS_CERT", NULL);
	s->tls_key = env_or("DETECTOR_TLS_KEY", NULL);
	s->tls_client_ca = env_or("DETECTOR_TLS_CLIENT_CA", NULL);
	o->scorer = env_or("DETECTOR_SCORER", "reference");
	o->summary_interval_s = 10;
	o->metrics_bind = env_or("DETECTOR_METRICS_BIND", "0.0.0.0");
	o->metrics_port = 9103;
	if (port && *port && parse_int("DETECTOR_PORT", port, 0, 65535, &s->port) != 0)
		return -1;
	if (mport && *mport &&
	    parse_int("DETECTOR_METRICS_PORT", mport, 0, 65535, &o->metrics_port) != 0)
		return -1;
	if (mem && *mem &&
	    parse_int("DETECTOR_MAX_MEMORY_MB", mem, 0, 1 << 20, &s->max_memory_mb) != 0)
		return -1;
	while ((c = getopt_long(argc, argv, "p:b:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': rc = parse_int("--port", optarg, 0, 65535, &s->port); break;
		case 'b': s->bind = optarg; break;
		case OPT_SCORER: o->scorer = optarg; break;
		case OPT_SUMMARY:
			rc = parse_int("--summary-interval", optarg, 0, 86400,
				       &o->summary_interval_s);
			break;
		case OPT_MAX_MSG:
			rc = parse_int("--max-message-bytes", optarg, 1024, 1 << 30,
				       &s->max_message_bytes);
			break;
		case OPT_MAX_STREAMS:
			rc = parse_int("--max-streams", optarg, 1, 1 << 20, &s->max_streams);
			break;
		case OPT_MAX_MEMORY:
			rc = parse_int("--max-memory-mb", optarg, 0, 1 << 20, &s->max_memory_mb);
			break;
		case OPT_MAX_AGE:
			rc = parse_int("--max-connection-age-s", optarg, 0, 86400 * 30,
				       &s->max_connection_age_s);
			break;
		case OPT_MAX_AGE_GRACE:
			rc = parse_int("--max-connection-age-grace-s", optarg, 0, 86400,
				       &s->max_connection_age_grace_s);
			break;
		case OPT_TLS_CERT: s->tls_cert = optarg; break;
		case OPT_TLS_KEY: s->tls_key = optarg; break;
		case OPT_TLS_CA: s->tls_client_ca = optarg; break;
		case OPT_LOG_LEVEL: level = optarg; break;
		case OPT_METRICS_PORT:
			rc = parse_int("--metrics-port", optarg, 0, 65535, &o->metrics_port);
			break;
		case OPT_METRICS_BIND: o->metrics_bind = optarg; break;
		case 'V': printf(PROG " %s\n", SENTINEL_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rc)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!*s->bind) {
		fprintf(stderr, PROG ": --bind: empty address\n");
		return -1;
	}
	if (!*o->metrics_bind) {
		fprintf(stderr, PROG ": --metrics-bind: empty address\n");
		return -1;
	}
	if (!s->tls_cert != !s->tls_key) {
		fprintf(stderr, PROG ": TLS needs both --tls-cert and --tls-key\n");
		return -1;
	}
	if (s->tls_client_ca && !s->tls_cert) {
		fprintf(stderr, PROG ": --tls-client-ca needs --tls-cert and --tls-key\n");
		return -1;
	}
	if (level && *level) {
		if (log_parse_level(level, &lv) != 0) {
			fprintf(stderr,
				PROG ": log level: expected debug|info|warn|error, got '%s'\n",
				level);
			return -1;
		}
		log_set_level(lv);
	}
	return 0;
}

static int init_scorer(struct options *o)
{
	const struct scorer_ops *ops = scorer_find(o->scorer);
	char err[512] = "";

	if (!ops) {
		fprintf(stderr, PROG ": unknown scorer '%s' (see --help)\n", o->scorer);
		return -1;
	}
	o->srv.scorer = ops;
	if (ops->init && ops->init(&o->srv.scorer_state, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": scorer %s: %s\n", ops->name, err);
		return -1;
	}
	return 0;
}

static double mono_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

static void summary(struct server *srv, int final)
{
	struct server_stats st;
	double now = mono_s(), dt = now - last.t, p50, p99;

	server_get_stats(srv, &st);
	server_latency_ms(srv, final, &p50, &p99);
	log_info(final ? "detector stopped" : "summary",
		 "events=%llu events_per_s=%.1f anomalies=%llu reports=%llu streams_active=%u "
		 "streams_opened=%llu decode_errors=%llu latency_p50_ms=%.1f latency_p99_ms=%.1f",
		 (unsigned long long)st.events,
		 dt > 0 ? (double)(st.events - last.events) / dt : 0.0,
		 (unsigned long long)st.anomalies, (unsigned long long)st.reports,
		 st.streams_active, (unsigned long long)st.streams_opened,
		 (unsigned long long)st.decode_errors, p50, p99);
	last.events = st.events;
	last.t = now;
}

/*
 * Each connection is a file descriptor, and gRPC stops accepting for good
 * at the first EMFILE (see server_listener_failed()): take all the hard
 * limit allows, so idle or hostile connections run into the memory budget
 * and gRPC's timeouts first. Returns the limit in force.
 */
static unsigned long long raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open files limit", "to=%llu error=\"%s\"",
				 (unsigned long long)want, strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (unsigned long long)rl.rlim_cur;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct server *srv = NULL;
	struct telemetry *tel = NULL;
	struct server_stats st;
	char err[512] = "";
	double next_summary;
	unsigned long long nofile;
	int ret = 1;

	/* Before any thread: see malloc_tune.h (sanitizers' allocators refuse). */
	if (malloc_tune() != 0)
		log_debug("the C library refused the allocator settings");
	register_scorers();
	if (parse_options(argc, argv, &o) != 0)
		return 1;
	if (init_scorer(&o) != 0)
		return 1;
	/* Anomaly lines reach a pipe or file as they happen, whole. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_signals();
	nofile = raise_fd_limit();
	srv = server_start(&o.srv, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, PROG ": %s\n", err);
		goto cleanup;
	}
	log_info("detector listening",
		 "bind=%s port=%d tls=%s scorer=%s max_message_bytes=%d max_streams=%d "
		 "max_memory_mb=%d max_open_files=%llu max_connection_age_s=%d",
		 o.srv.bind, server_port(srv),
		 o.srv.tls_client_ca ? "mtls"
		 : o.srv.tls_cert    ? "on"
				     : "off",
		 o.srv.scorer->name, o.srv.max_message_bytes, o.srv.max_streams,
		 o.srv.max_memory_mb, nofile, o.srv.max_connection_age_s);
	if (o.metrics_port) {
		server_get_stats(srv, &st);
		tel = telemetry_start(o.metrics_bind, (unsigned)o.metrics_port, &st, err,
				      sizeof(err));
		if (!tel) {
			fprintf(stderr, PROG ": %s\n", err);
			goto cleanup;
		}
		log_info("metrics listening", "bind=%s port=%u paths=/metrics,/healthz",
			 o.metrics_bind, telemetry_port(tel));
	}
	last.t = mono_s();
	next_summary = last.t + o.summary_interval_s;
	while (!stop_signal) {
		server_poll(srv, POLL_MS);
		if (server_listener_failed()) {
			/* Alive but unreachable is the worst state: exit, and let the
			 * supervisor start a detector that accepts again. */
			log_error("gRPC stopped accepting connections: exiting",
				  "open_files_limit=%llu", nofile);
			break;
		}
		if (tel) {
			server_get_stats(srv, &st);
			telemetry_publish(tel, &st);
		}
		if (o.summary_interval_s && mono_s() >= next_summary) {
			summary(srv, 0);
			next_summary += o.summary_interval_s;
		}
	}
	if (stop_signal)
		log_info("stopping", "signal=%s", strsignal(stop_signal));
	telemetry_stop(tel);
	tel = NULL;
	server_stop(srv);
	summary(srv, 1);
	ret = stop_signal ? 0 : 1;
cleanup:
	telemetry_stop(tel);
	server_free(srv);
	if (o.srv.scorer && o.srv.scorer->destroy)
		o.srv.scorer->destroy(o.srv.scorer_state);
	return ret;
}
