/* SPDX-License-Identifier: Apache-2.0 */
#include "telemetry.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "clock.h"
#include "dropwin.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "podmeta.h"

#define NS_PER_S 1000000000ull

/* A process in the rate limit report's top list. */
struct rl_top {
	uint32_t tgid;
	uint64_t total;
	char comm[SE_COMM_LEN + 1];
};

/* Reader thread: a process's suppressed count as last reported. */
struct rl_seen {
	uint32_t tgid;
	uint64_t reported;
	bool touched; /* seen in the current pass */
	UT_hash_handle hh;
};

/* Everything a scrape shows, copied from the reader thread's counters. */
struct snapshot {
	uint64_t kernel[SE_CTR_MAX];
	bool kernel_ok; /* the counters map could be read */
	uint64_t perf_lost;
	struct pipeline_stats pl;
	unsigned rules_enabled;
	uint64_t names, names_evicted, containers_learnt, containers_fallback, containers_unknown;
	struct podmeta_stats pods;
	bool pods_on;
	uint64_t pod_entries;
	struct histogram latency;
	uint64_t sink_emitted, sink_errors[EV_TYPES];
	struct sink_grpc_stats grpc;
	bool grpc_ever_up;
	uint64_t grpc_last_up_ns;  /* last publish that saw the stream up */
	double drop_ratio;	   /* over the last DROPWIN_S */
	struct rule_total *totals; /* names borrowed from the pipeline */
	size_t n_totals;
	bool rl_on; /* the probe has a rate limit */
	uint64_t rl_procs;
	struct rl_top rl_top[TELEMETRY_RL_TOP];
	unsigned n_rl_top;
};

struct telemetry {
	struct telemetry_opts o;
	struct telemetry_sources src;
	struct probe *probe; /* set once attached, before the reader starts */
	bool perf;	     /* perf transport: perf_lost is meaningful */
	uint64_t start_ns;
	struct http_server *health, *metrics;
	atomic_bool attached;
	atomic_ullong heartbeat_ns;

	/* telemetry_watch_ready's thread only */
	int ready_said;	       /* -1 nothing said yet, else the last readiness said */
	uint64_t ready_chg_ns; /* when it last changed (first: when the probes attached) */

	/* reader thread only */
	uint64_t last_publish_ns;
	struct dropwin drops;
	bool grpc_ever_up;
	uint64_t grpc_last_up_ns;
	uint64_t rl_every_ns; /* rate limit report interval; 0: no limit, no report */
	uint64_t rl_last_ns;
	struct rl_seen *rl_seen;
	uint64_t rl_procs; /* processes in the kernel's map at the last report */
	struct rl_top rl_top[TELEMETRY_RL_TOP];
	unsigned n_rl_top;

	pthread_mutex_t lock; /* guards snap */
	struct snapshot snap;
	size_t totals_cap;
};

/* ---- reader thread: snapshots ---- */

static void fill(struct telemetry *t, struct snapshot *s, uint64_t now)
{
	struct pipeline *pl = t->src.pl;

	memset(s->kernel, 0, sizeof(s->kernel));
	s->kernel_ok = t->probe && probe_read_counters(t->probe, s->kernel) == 0;
	s->perf_lost = t->probe ? probe_perf_lost(t->probe) : 0;
	s->pl = pl->stats;
	s->rules_enabled = pl->rules ? pl->rules->n_enabled : 0;
	s->names = pl->names.n;
	s->names_evicted = pl->names.evicted;
	s->containers_learnt = pl->containers.learnt;
	s->containers_fallback = pl->containers.fallback;
	s->containers_unknown = pl->containers.unknown;
	s->pods_on = pl->pods != NULL;
	if (pl->pods) {
		s->pods = *podmeta_stats(pl->pods);
		s->pod_entries = podmeta_entries(pl->pods);
	}
	s->latency = pl->latency;
	s->sink_emitted = t->src.sink->emitted;
	memcpy(s->sink_errors, t->src.sink->errors, sizeof(s->sink_errors));
	if (t->o.grpc) {
		sink_grpc_get_stats(t->src.sink, &s->grpc);
		if (s->grpc.connected) {
			t->grpc_ever_up = true;
			t->grpc_last_up_ns = now;
		}
	}
	s->grpc_ever_up = t->grpc_ever_up;
	s->grpc_last_up_ns = t->grpc_last_up_ns;
	/* Lost = kernel buffer full + perf ring overwritten; handled = read. */
	s->drop_ratio = dropwin_ratio(&t->drops, now, probe_buffer_drops(s->kernel) + s->perf_lost,
				      s->pl.records);
	s->rl_on = t->rl_every_ns != 0;
	s->rl_procs = t->rl_procs;
	memcpy(s->rl_top, t->rl_top, sizeof(s->rl_top));
	s->n_rl_top = t->n_rl_top;
}

/* ---- reader thread: rate limit report ---- */

struct rl_pass {
	struct telemetry *t;
	struct rl_top top[TELEMETRY_RL_TOP]; /* by total, descending */
	unsigned n_top;
	uint64_t procs;
	unsigned logged, more_procs;
	uint64_t more_suppressed;
};

/* kill(0) is one syscall and needs no /proc; the agent runs in the host's
 * PID namespace (hostPID), where the kernel's tgids are these pids. A zombie
 * still counts as alive: its count is final only once it has been reaped. */
static bool pid_alive(uint32_t tgid)
{
	return kill((pid_t)tgid, 0) == 0 || errno == EPERM;
}

static void top_insert(struct rl_pass *ps, const struct probe_rl_entry *e)
{
	unsigned i;

	/* The kernel's map may hand out an entry twice in one pass. */
	for (i = 0; i < ps->n_top && ps->top[i].tgid != e->tgid; i++)
		;
	if (i == ps->n_top) {
		if (ps->n_top < TELEMETRY_RL_TOP)
			ps->n_top++;
		else if (e->suppressed <= ps->top[--i].total)
			return;
	}
	ps->top[i].tgid = e->tgid;
	ps->top[i].total = e->suppressed;
	memcpy(ps->top[i].comm, e->comm, sizeof(ps->top[i].comm));
	for (; i > 0 && ps->top[i].total > ps->top[i - 1].total; i--) {
		struct rl_top x = ps->top[i];

		ps->top[i] = ps->top[i - 1];
		ps->top[i - 1] = x;
	}
}

static void rl_visit(void *ctx, const struct probe_rl_entry *e)
{
	struct rl_pass *ps = ctx;
	struct telemetry *t = ps->t;
	struct probe_rl_entry fin = *e;
	struct rl_seen *u, none = {.tgid = e->tgid};
	bool gone = !pid_alive(e->tgid);
	uint64_t delta;
	char q[80];

	/* Gone before this second read: nothing can add to the count after
	 * it, so it is final, and the entry can go. */
	if (gone && probe_rate_limited_take(t->probe, e->tgid, &fin) != 0)
		fin = *e;
	HASH_FIND(hh, t->rl_seen, &e->tgid, sizeof(e->tgid), u);
	if (!u && !gone) {
		u = calloc(1, sizeof(*u));
		if (u) {
			u->tgid = e->tgid;
			HASH_ADD(hh, t->rl_seen, tgid, sizeof(u->tgid), u);
		}
	}
	if (!u)
		u = &none; /* reported in full, and not remembered */
	/* Lower than reported: the kernel's LRU dropped the entry and a new
	 * one started from 0. */
	if (fin.suppressed < u->reported)
		u->reported = 0;
	delta = fin.suppressed - u->reported;
	if (delta && ps->logged < TELEMETRY_RL_LOG_MAX) {
		log_warn("events suppressed by rate limit",
			 "pid=%u comm=%s suppressed=%llu total=%llu", fin.tgid,
			 log_quote(q, sizeof(q), fin.comm), (unsigned long long)delta,
			 (unsigned long long)fin.suppressed);
		ps->logged++;
	} else if (delta) {
		ps->more_procs++;
		ps->more_suppressed += delta;
	}
	u->reported = fin.suppressed;
	u->touched = true;
	top_insert(ps, &fin);
	ps->procs++;
	if (gone && u != &none) {
		HASH_DEL(t->rl_seen, u);
		free(u);
	}
}

void telemetry_rate_limit_report(struct telemetry *t)
{
	struct rl_pass ps = {.t = t};
	struct rl_seen *u = NULL, *tmp = NULL;
	int err;

	if (!t->rl_every_ns || !t->probe)
		return;
	err = probe_rate_limited_each(t->probe, rl_visit, &ps);
	if (err < 0)
		log_warn("reading the rate limit's per-process counts failed", "errno=%d", -err);
	if (ps.more_procs)
		log_warn("events suppressed by rate limit in more processes",
			 "processes=%u suppressed=%llu", ps.more_procs,
			 (unsigned long long)ps.more_suppressed);
	/* Not in the kernel's map any more (LRU): forget them too. */
	HASH_ITER (hh, t->rl_seen, u, tmp) {
		if (!u->touched) {
			HASH_DEL(t->rl_seen, u);
			free(u);
		} else {
			u->touched = false;
		}
	}
	t->rl_procs = ps.procs;
	memcpy(t->rl_top, ps.top, sizeof(t->rl_top));
	t->n_rl_top = ps.n_top;
}

void telemetry_tick(struct telemetry *t, bool force)
{
	struct pipeline *pl = t->src.pl;
	uint64_t now = clock_mono_ns();
	struct snapshot s;

	atomic_store_explicit(&t->heartbeat_ns, now, memory_order_relaxed);
	if (t->rl_every_ns && now - t->rl_last_ns >= t->rl_every_ns) {
		t->rl_last_ns = now;
		telemetry_rate_limit_report(t);
		force = true;
	}
	if (!force && now - t->last_publish_ns < TELEMETRY_PUBLISH_MS * 1000000ull)
		return;
	t->last_publish_ns = now;
	fill(t, &s, now);
	pthread_mutex_lock(&t->lock);
	if (pl->n_totals > t->totals_cap) {
		struct rule_total *n = realloc(t->snap.totals, pl->n_totals * sizeof(*n));

		if (n) {
			t->snap.totals = n;
			t->totals_cap = pl->n_totals;
		}
	}
	s.totals = t->snap.totals;
	s.n_totals = pl->n_totals <= t->totals_cap ? pl->n_totals : t->totals_cap;
	if (s.n_totals) /* none with no rule (allowEmptyRules): both may be NULL */
		memcpy(s.totals, pl->totals, s.n_totals * sizeof(*s.totals));
	t->snap = s;
	pthread_mutex_unlock(&t->lock);
}

void telemetry_pipeline_tick(void *t)
{
	telemetry_tick(t, false);
}

/* ---- health ---- */

int telemetry_alive(struct telemetry *t, uint64_t now_ns, char *why, size_t cap)
{
	uint64_t hb = atomic_load_explicit(&t->heartbeat_ns, memory_order_relaxed);

	if (now_ns > hb && now_ns - hb > (uint64_t)t->o.stall_s * NS_PER_S) {
		snprintf(why, cap, "reader thread stalled for %llus",
			 (unsigned long long)((now_ns - hb) / NS_PER_S));
		return 0;
	}
	snprintf(why, cap, "ok");
	return 1;
}

static int detector_ready(struct telemetry *t, const struct snapshot *s, uint64_t now, char *why,
			  size_t cap)
{
	uint64_t since = s->grpc_ever_up ? s->grpc_last_up_ns : t->start_ns;
	unsigned long long down_s = now > since ? (now - since) / NS_PER_S : 0;

	if (s->grpc.connected && s->grpc.ack_stalled) {
		snprintf(why, cap,
			 "detector does not acknowledge: sent events unanswered for %llus (a reply "
			 "with seq N acknowledges every event up to N)",
			 (unsigned long long)(s->grpc.unacked_ns / NS_PER_S));
		return 0;
	}
	if (s->grpc.connected)
		return 1;
	if (!s->grpc_ever_up) {
		snprintf(why, cap, "detector unreachable for %llus (never connected)", down_s);
		return 0;
	}
	if (now - since > (uint64_t)t->o.detector_grace_s * NS_PER_S) {
		snprintf(why, cap, "detector unreachable for %llus", down_s);
		return 0;
	}
	return 1;
}

int telemetry_ready(struct telemetry *t, uint64_t now_ns, char *why, size_t cap)
{
	double ratio;
	int ok = 1;

	if (!atomic_load(&t->attached)) {
		snprintf(why, cap, "probes not attached");
		return 0;
	}
	if (!telemetry_alive(t, now_ns, why, cap))
		return 0;
	pthread_mutex_lock(&t->lock);
	if (t->o.grpc)
		ok = detector_ready(t, &t->snap, now_ns, why, cap);
	ratio = t->snap.drop_ratio;
	pthread_mutex_unlock(&t->lock);
	if (!ok)
		return 0;
	if (ratio > t->o.max_kernel_drop_ratio) {
		snprintf(why, cap,
			 "kernel drop rate %.2f%% above threshold %.2f%% over the last %ds",
			 ratio * 100, t->o.max_kernel_drop_ratio * 100, DROPWIN_S);
		return 0;
	}
	snprintf(why, cap, "ok");
	return 1;
}

void telemetry_watch_ready(struct telemetry *t, uint64_t now_ns)
{
	char why[TELEMETRY_WHY_MAX], q[TELEMETRY_WHY_MAX + 16];
	int ready = telemetry_ready(t, now_ns, why, sizeof(why));
	unsigned long long for_ms = (now_ns - t->ready_chg_ns) / 1000000ULL;

	if (ready == t->ready_said)
		return;
	if (ready && t->ready_said < 0) {
		log_info("agent ready", "since_start_ms=%llu",
			 (unsigned long long)((now_ns - t->start_ns) / 1000000ULL));
	} else if (ready) {
		log_info("agent ready", "not_ready_ms=%llu", for_ms);
	} else {
		if (t->ready_said < 0 && for_ms < TELEMETRY_READY_SETTLE_MS)
			return;
		log_warn("agent not ready", "reason=%s", log_quote(q, sizeof(q), why));
	}
	t->ready_said = ready;
	t->ready_chg_ns = now_ns;
}

static void on_healthz(void *ctx, struct http_reply *r)
{
	char why[TELEMETRY_WHY_MAX];

	if (!telemetry_alive(ctx, clock_mono_ns(), why, sizeof(why)))
		r->status = 503;
	fprintf(r->body, "%s\n", why);
}

static void on_readyz(void *ctx, struct http_reply *r)
{
	char why[TELEMETRY_WHY_MAX];

	if (!telemetry_ready(ctx, clock_mono_ns(), why, sizeof(why)))
		r->status = 503;
	fprintf(r->body, "%s\n", why);
}

/* ---- metrics ---- */

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	metrics_family(f, name, "counter", help);
	metrics_u64(f, name, METRICS_NO_LABELS, v);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	metrics_family(f, name, "gauge", help);
	metrics_u64(f, name, METRICS_NO_LABELS, v);
}

static void one_label(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	struct metrics_labels l = {{{label, value}}};

	metrics_u64(f, name, &l, v);
}

/* A counter family with one series per event type, @v indexed by enum
 * ev_type. */
static void by_type(FILE *f, const char *name, const char *help, const uint64_t v[EV_TYPES])
{
	metrics_family(f, name, "counter", help);
	for (int t = 0; t < EV_TYPES; t++)
		one_label(f, name, "event_type", ev_type_name((unsigned)t), v[t]);
}

/* The same from one field of the queue's per-type counts. */
static void queue_by_type(FILE *f, const char *name, const char *help,
			  const struct sendq_type_stats st[EV_TYPES], size_t field)
{
	uint64_t v[EV_TYPES];

	for (int t = 0; t < EV_TYPES; t++)
		memcpy(&v[t], (const char *)&st[t] + field, sizeof(v[t]));
	by_type(f, name, help, v);
}

/* One series per loss class (probe_loss_classes): for a file whose verdict
 * is decided, written = events_total + dropped{verdict="matched"} +
 * rate_limited, per event type. */
static void render_kernel_losses(FILE *f, const struct snapshot *s)
{
	const char *n = "sentinel_agent_kernel_dropped_total";
	const char *rl = "sentinel_agent_rate_limited_total";

	metrics_family(f, n, "counter",
		       "Kernel-side losses: buffer_full = records lost because the ring or perf "
		       "buffer was full, by event_type (internal: records that are not events) "
		       "and verdict (matched: the file matched a rule; pending: awaiting its "
		       "verdict); uninspected = native AIO iocbs of an io_submit past those its "
		       "entry decided (33 files never seen before), not looked at.");
	for (unsigned i = 0; i < probe_n_loss_classes; i++) {
		const struct probe_loss_class *c = &probe_loss_classes[i];

		if (strcmp(c->reason, "rate_limited") != 0)
			metrics_u64(f, n,
				    METRICS_LABELS({"reason", c->reason},
						   {"event_type", ev_type_name(c->type)},
						   {"verdict", c->verdict}),
				    s->kernel[c->ctr]);
	}
	metrics_family(f, rl, "counter",
		       "Events that matched the rules but were suppressed in the kernel by the "
		       "per-process rate limit, by event_type.");
	for (unsigned i = 0; i < probe_n_loss_classes; i++)
		if (strcmp(probe_loss_classes[i].reason, "rate_limited") == 0)
			one_label(f, rl, "event_type", ev_type_name(probe_loss_classes[i].type),
				  s->kernel[probe_loss_classes[i].ctr]);
}

static void render_kernel(FILE *f, const struct telemetry *t, const struct snapshot *s)
{
	if (s->kernel_ok) {
		counter(f, "sentinel_agent_kernel_seen_total",
			"File events of traced processes the probe looked at (reads, writes, "
			"truncations, mappings, each side of a byte mover).",
			s->kernel[SE_CTR_SEEN]);
		counter(f, "sentinel_agent_kernel_filtered_total",
			"Of those, events dropped in the kernel because no rule matches.",
			s->kernel[SE_CTR_FILTERED]);
		counter(f, "sentinel_agent_kernel_walks_total",
			"File paths the kernel walked (a file's first event, or after a rename, "
			"mount change or rules reload).",
			s->kernel[SE_CTR_WALKS]);
		render_kernel_losses(f, s);
	}
	if (t->perf)
		counter(f, "sentinel_agent_perf_lost_total",
			"Records the perf buffers overwrote before they were read.", s->perf_lost);
	counter(f, "sentinel_agent_records_total", "Kernel records read by the agent.",
		s->pl.records);
}

/* comm is whatever the process set (prctl): bytes that are not printable
 * ASCII become \xNN, so the label is valid UTF-8 (the format's escaping
 * then doubles the backslash). */
static const char *label_comm(char *buf, size_t cap, const char *comm)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)comm; *p && o + 5 < cap; p++) {
		if (*p >= ' ' && *p < 0x7f)
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
	}
	buf[o] = '\0';
	return buf;
}

static void render_rate_limit(FILE *f, const struct snapshot *s)
{
	const char *n = "sentinel_agent_rate_limited_process_total";
	char pid[16], comm[4 * SE_COMM_LEN + 1];

	if (!s->rl_on)
		return;
	gauge(f, "sentinel_agent_rate_limited_processes",
	      "Processes with events suppressed by the rate limit, at the last report.",
	      s->rl_procs);
	metrics_family(f, n, "counter",
		       "Events suppressed by the rate limit, per process, for the top processes "
		       "at the last report (a bounded set; a process's series ends when it has "
		       "exited).");
	for (unsigned i = 0; i < s->n_rl_top; i++) {
		snprintf(pid, sizeof(pid), "%u", s->rl_top[i].tgid);
		metrics_u64(f, n,
			    METRICS_LABELS({"pid", pid}, {"comm", label_comm(comm, sizeof(comm),
									     s->rl_top[i].comm)}),
			    s->rl_top[i].total);
	}
}

/* By event type and, like the kernel's losses, by verdict: matched events
 * are certainly a watched file's; pending ones may be any file's. */
static void render_unresolved(FILE *f, const struct snapshot *s)
{
	const char *n = "sentinel_agent_unresolved_total";

	metrics_family(f, n, "counter",
		       "Events dropped because the file's name (sent once per file by the kernel) "
		       "was lost with a full buffer or evicted, by event_type and verdict "
		       "(matched: the kernel had matched the file; pending: undecided); the file "
		       "is named again at its next event.");
	for (int t = 0; t < EV_TYPES; t++) {
		const char *type = ev_type_name((unsigned)t);
		uint64_t m = s->pl.unresolved_matched[t];

		metrics_u64(f, n, METRICS_LABELS({"event_type", type}, {"verdict", "matched"}), m);
		metrics_u64(f, n, METRICS_LABELS({"event_type", type}, {"verdict", "pending"}),
			    s->pl.unresolved[t] - m);
	}
}

static void render_pipeline(FILE *f, const struct snapshot *s)
{
	const char *n;

	by_type(f, "sentinel_agent_events_total",
		"Events that matched a rule and were handed to the sink.", s->pl.forwarded);
	counter(f, "sentinel_agent_user_filtered_total",
		"Events decided in user space (fd verdict pending) that matched no rule.",
		s->pl.user_filtered);
	render_unresolved(f, s);
	n = "sentinel_agent_rule_matches_total";
	metrics_family(f, n, "counter", "Forwarded events by matching rule (by rule name).");
	for (size_t i = 0; i < s->n_totals; i++)
		one_label(f, n, "rule", s->totals[i].name, s->totals[i].matches);
	gauge(f, "sentinel_agent_rules_enabled", "Enabled rules in force.", s->rules_enabled);
	counter(f, "sentinel_agent_file_names_total",
		"File names the kernel resolved and sent (a file's first event, or after a "
		"rename, mount change or rules reload).",
		s->pl.names);
	gauge(f, "sentinel_agent_file_names", "File names held (least recently used go first).",
	      s->names);
	counter(f, "sentinel_agent_file_names_evicted_total",
		"File names evicted to make room (their file, if still used, is named again).",
		s->names_evicted);
	counter(f, "sentinel_agent_container_cgroups_learnt_total",
		"Cgroups whose container id was learnt from the kernel (cgroup_mkdir, "
		"cgroup_rename) or the start-up scan of the hierarchy.",
		s->containers_learnt);
	counter(f, "sentinel_agent_container_fallback_total",
		"Reads of /proc/<pid>/cgroup for a record whose cgroup was never learnt "
		"(its cgroup record lost, or made before start with no mount to scan).",
		s->containers_fallback);
	counter(f, "sentinel_agent_container_unknown_total",
		"Of those, processes already gone (their events carry no container id).",
		s->containers_unknown);
	if (s->pods_on) {
		static const char *const results[PODMETA_RESULTS] = {
			[PODMETA_FOUND] = "found",
			[PODMETA_NO_POD] = "no_pod",
			[PODMETA_MISSING] = "missing",
			[PODMETA_INVALID] = "invalid",
		};

		n = "sentinel_agent_pod_lookups_total";
		metrics_family(f, n, "counter",
			       "Containers' OCI bundles read for their pod: found, no pod "
			       "annotations, no bundle, not JSON/unreadable (the last two asked "
			       "again later).");
		for (int i = 0; i < PODMETA_RESULTS; i++)
			one_label(f, n, "result", results[i], s->pods.reads[i]);
		gauge(f, "sentinel_agent_pod_cache_entries", "Containers whose pod is cached.",
		      s->pod_entries);
	}
	counter(f, "sentinel_agent_names_truncated_total",
		"Events forwarded with only the leaf-most part of a file name too long or "
		"too deep for the kernel's walk (flagged filename_truncated).",
		s->pl.truncated);
	n = "sentinel_agent_rename_names_total";
	metrics_family(f, n, "counter",
		       "Names of renames and links (both of each) and of truncate(2) by how they "
		       "were resolved: "
		       "looked up from the process's root, the fd's own file, joined by text "
		       "when the lookup failed (lexical), a walk cut short, unreadable.");
	for (int i = 0; i <= NAMEOP_UNREADABLE; i++)
		one_label(f, n, "how", nameop_how_name(i), s->pl.nameop_names[i]);
	n = "sentinel_agent_event_latency_seconds";
	metrics_family(f, n, "histogram",
		       "Kernel timestamp of the syscall to the event being handed to the sink.");
	metrics_histogram(f, n, METRICS_NO_LABELS, &s->latency);
}

static void render_sink(FILE *f, const struct telemetry *t, const struct snapshot *s)
{
	by_type(f, "sentinel_agent_sink_errors_total",
		"Events the sink lost (stdout: write failed; grpc: could not be queued, or "
		"still queued at shutdown).",
		s->sink_errors);
	if (!t->o.grpc)
		return;
	gauge(f, "sentinel_agent_queue_depth", "Events queued for the detector, unsent or unacked.",
	      s->grpc.queue_depth);
	queue_by_type(f, "sentinel_agent_queue_dropped_total",
		      "Queued events dropped because the queue was full, the oldest not yet sent "
		      "first.",
		      s->grpc.type, offsetof(struct sendq_type_stats, dropped));
	queue_by_type(f, "sentinel_agent_queue_dropped_sent_total",
		      "Of the dropped, events already sent but unanswered (may have reached the "
		      "detector).",
		      s->grpc.type, offsetof(struct sendq_type_stats, dropped_unacked));
	counter(f, "sentinel_agent_grpc_sent_total", "Events written to a detector stream.",
		s->grpc.sent);
	queue_by_type(f, "sentinel_agent_grpc_acked_total", "Events the detector answered.",
		      s->grpc.type, offsetof(struct sendq_type_stats, acked));
	counter(f, "sentinel_agent_grpc_resent_total",
		"Events sent again after a stream broke before they were answered.",
		s->grpc.resent);
	counter(f, "sentinel_agent_grpc_reconnects_total",
		"Detector streams opened after the first.", s->grpc.reconnects);
	gauge(f, "sentinel_agent_grpc_connected", "1 while a detector stream is up.",
	      s->grpc.connected ? 1 : 0);
	counter(f, "sentinel_agent_grpc_connect_failures_total",
		"Failed attempts to reach the detector (the channel fell into TRANSIENT_FAILURE).",
		s->grpc.connect_failures);
	metrics_family(f, "sentinel_agent_grpc_unacked_seconds", "gauge",
		       "How long events sent to the detector have waited for any answer (0: none "
		       "owed).");
	metrics_double(f, "sentinel_agent_grpc_unacked_seconds", METRICS_NO_LABELS,
		       (double)s->grpc.unacked_ns / NS_PER_S);
	gauge(f, "sentinel_agent_grpc_ack_stalled",
	      "1 while the detector leaves sent events unanswered past grpc.ackTimeoutSeconds.",
	      s->grpc.ack_stalled ? 1 : 0);
	counter(f, "sentinel_agent_detector_anomalies_total",
		"Events the detector answered as anomalies.", s->grpc.anomalies);
	queue_by_type(f, "sentinel_agent_grpc_rejected_total",
		      "Events the detector refused every time, sent alone: dropped (logged with "
		      "seq).",
		      s->grpc.type, offsetof(struct sendq_type_stats, rejected));
	counter(f, "sentinel_agent_grpc_names_not_utf8_total",
		"Envelopes whose file name or comm was not UTF-8: sent as text with U+FFFD, "
		"exact bytes in data filename_hex or comm_hex.",
		s->grpc.not_utf8);
}

static void render_reloads(FILE *f, const struct telemetry *t)
{
	const char *n = "sentinel_agent_rules_reload_total";

	if (!t->o.n_reload)
		return;
	metrics_family(f, n, "counter",
		       "Rule reloads by result: success, invalid (file rejected), error (could "
		       "not be applied; old rules kept).");
	for (unsigned i = 0; i < t->o.n_reload; i++)
		one_label(f, n, "result", t->o.reload_names[i], atomic_load(&t->o.reloads[i]));
}

static void on_metrics(void *ctx, struct http_reply *r)
{
	struct telemetry *t = ctx;
	struct metrics_labels version = {{{"version", SENTINEL_VERSION}}};

	r->content_type = METRICS_CONTENT_TYPE;
	metrics_family(r->body, "sentinel_agent_build_info", "gauge", "Always 1; the version.");
	metrics_u64(r->body, "sentinel_agent_build_info", &version, 1);
	/* Rendering under the lock is cheap (the body is memory, no I/O) and
	 * keeps the reader from replacing the snapshot halfway through. */
	pthread_mutex_lock(&t->lock);
	render_kernel(r->body, t, &t->snap);
	render_rate_limit(r->body, &t->snap);
	render_pipeline(r->body, &t->snap);
	render_sink(r->body, t, &t->snap);
	pthread_mutex_unlock(&t->lock);
	render_reloads(r->body, t);
	metrics_process(r->body);
}

/* ---- lifecycle ---- */

struct telemetry *telemetry_start(const struct telemetry_opts *o,
				  const struct telemetry_sources *src, char *err, size_t errcap)
{
	struct telemetry *t = calloc(1, sizeof(*t));
	const struct http_route health[] = {
		{"/healthz", on_healthz, t},
		{"/readyz", on_readyz, t},
	};
	const struct http_route metrics[] = {{"/metrics", on_metrics, t}};

	if (!t) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	t->o = *o;
	t->src = *src;
	t->start_ns = clock_mono_ns();
	atomic_init(&t->heartbeat_ns, t->start_ns);
	t->ready_said = -1;
	pthread_mutex_init(&t->lock, NULL);
	histogram_init(&t->snap.latency, pipeline_latency_bounds, pipeline_latency_n_bounds);
	t->health = http_start("health", o->health_bind, o->health_port, health, 2, 2, err, errcap);
	if (!t->health)
		goto fail;
	if (o->metrics_enabled) {
		t->metrics = http_start("metrics", o->metrics_bind, o->metrics_port, metrics, 1, 2,
					err, errcap);
		if (!t->metrics)
			goto fail;
	}
	log_info("health and metrics listening", "health=%s:%u metrics=%s:%u", o->health_bind,
		 http_port(t->health), o->metrics_enabled ? o->metrics_bind : "off",
		 t->metrics ? http_port(t->metrics) : 0);
	return t;
fail:
	telemetry_stop(t);
	return NULL;
}

unsigned telemetry_health_port(const struct telemetry *t)
{
	return t->health ? http_port(t->health) : 0;
}

unsigned telemetry_metrics_port(const struct telemetry *t)
{
	return t->metrics ? http_port(t->metrics) : 0;
}

void telemetry_attached(struct telemetry *t, struct probe *probe)
{
	t->probe = probe;
	t->perf = strcmp(probe_transport_name(probe), "perf") == 0;
	if (probe_rate_limit(probe)->events_per_s) {
		t->rl_every_ns = (uint64_t)probe_rate_limit(probe)->report_s * NS_PER_S;
		t->rl_last_ns = clock_mono_ns();
	}
	t->ready_chg_ns = clock_mono_ns(); /* the settle time of telemetry_watch_ready */
	atomic_store(&t->attached, true);
}

void telemetry_detached(struct telemetry *t)
{
	atomic_store(&t->attached, false);
}

void telemetry_stop(struct telemetry *t)
{
	struct rl_seen *u, *tmp;

	if (!t)
		return;
	HASH_ITER (hh, t->rl_seen, u, tmp) {
		HASH_DEL(t->rl_seen, u);
		free(u);
	}
	http_stop(t->health);
	http_stop(t->metrics);
	pthread_mutex_destroy(&t->lock);
	free(t->snap.totals);
	free(t);
}
