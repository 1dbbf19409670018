/* SPDX-License-Identifier: Apache-2.0 */
#include "pipeline.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "lineage.h"
#include "log.h"
#include "path.h"
#include "podmeta.h"
#include "procscan.h"

#define AT_FDCWD_ (-100)
#define CLOSE_RANGE_CLOEXEC_ (1U << 2)

/* From well under the 10 ms drain interval to the seconds of a stalled
 * reader: where the agent's own delay shows. */
const double pipeline_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					  0.05,	  0.1,	 0.25,	 0.5,	1,    2.5};
const unsigned pipeline_latency_n_bounds =
	sizeof(pipeline_latency_bounds) / sizeof(pipeline_latency_bounds[0]);

void pipeline_init(struct pipeline *pl, struct sink *sink)
{
	memset(pl, 0, sizeof(*pl));
	fdtable_init(&pl->fds);
	envelope_source_init(&pl->src);
	histogram_init(&pl->latency, pipeline_latency_bounds, pipeline_latency_n_bounds);
	pl->sink = sink;
	pl->alive = fdtable_proc_alive;
}

void pipeline_free(struct pipeline *pl)
{
	fdtable_free(&pl->fds);
	for (size_t i = 0; i < pl->n_totals; i++)
		free(pl->totals[i].name);
	free(pl->totals);
	pl->totals = NULL;
	pl->n_totals = 0;
}

void pipeline_set_probe(struct pipeline *pl, struct probe *probe)
{
	pl->probe = probe;
}

/* @rs's comm_masks entries; -ENOMEM when rules_comm_masks() failed (logged). */
static int comm_entries(const struct ruleset *rs, struct rules_comm_mask **cm, size_t *n)
{
	uint64_t type_mask[2], anycomm, comm_rules;

	*n = rules_comm_masks(rs, cm);
	rules_kernel_masks(rs, type_mask, &anycomm, &comm_rules);
	return !*n && comm_rules ? -ENOMEM : 0;
}

static void fill_comm_keys(const struct rules_comm_mask *cm, size_t n, uint32_t slot,
			   struct se_comm_key *keys, uint64_t *masks)
{
	for (size_t i = 0; i < n; i++) {
		memcpy(keys[i].comm, cm[i].comm, SE_COMM_LEN);
		keys[i].slot = slot;
		masks[i] = cm[i].mask;
	}
}

/*
 * Switches the kernel to @rs as generation @gen without a moment where an
 * event is judged by a mix of old and new: the new comms go into the slot
 * the old config does not read, the config switch follows, and only then
 * are the old comms deleted. Until the config is written the kernel still
 * has the old rules, so a failure before it changes nothing.
 */
static int push_filter(struct pipeline *pl, const struct ruleset *rs, uint32_t gen)
{
	struct se_config cfg = {0};
	struct rules_comm_mask *cm_new = NULL, *cm_old = NULL;
	struct se_comm_key *keys = NULL;
	uint64_t *masks = NULL;
	uint64_t type_mask[2], anycomm, comm_rules;
	size_t n_new = 0, n_old = 0;
	int err;

	err = comm_entries(rs, &cm_new, &n_new);
	if (err)
		goto cleanup;
	if (n_new > SE_MAX_COMMS) {
		log_error("too many distinct comms in the rules", "comms=%zu max=%d", n_new,
			  SE_MAX_COMMS);
		err = -E2BIG;
		goto cleanup;
	}
	if (pl->rules) {
		err = comm_entries(pl->rules, &cm_old, &n_old);
		if (err)
			goto cleanup;
	}
	keys = calloc(n_new + n_old + 1, sizeof(*keys));
	masks = calloc(n_new + n_old + 1, sizeof(*masks));
	if (!keys || !masks) {
		err = -ENOMEM;
		goto cleanup;
	}
	fill_comm_keys(cm_new, n_new, gen & 1, keys, masks);
	fill_comm_keys(cm_old, n_old, pl->gen & 1, keys + n_new, masks + n_new);
	rules_kernel_masks(rs, type_mask, &anycomm, &comm_rules);
	cfg.self_tgid = (uint32_t)getpid();
	cfg.gen = gen;
	cfg.type_mask[0] = type_mask[0];
	cfg.type_mask[1] = type_mask[1];
	cfg.anycomm_mask = anycomm;
	cfg.comm_rules = comm_rules;
	/* Both slots, then the config: the switch. */
	err = probe_set_filter(pl->probe, &cfg, keys, masks, n_new + n_old);
	if (err)
		goto cleanup;
	/* Only the new slot: drops the old comms, rewrites the same config. */
	if (n_old && probe_set_filter(pl->probe, &cfg, keys, masks, n_new) != 0)
		log_warn("removing the previous rules' comms failed; the next reload retries");
cleanup:
	free(cm_new);
	free(cm_old);
	free(keys);
	free(masks);
	return err;
}

void pipeline_set_tick(struct pipeline *pl, pipeline_tick_fn fn, void *ctx)
{
	pl->tick = fn;
	pl->tick_ctx = ctx;
}

void pipeline_set_table_limit(struct pipeline *pl, size_t max)
{
	pl->fds.max_entries = max;
}

void pipeline_set_liveness(struct pipeline *pl, fdtable_alive_fn fn, void *ctx)
{
	pl->alive = fn;
	pl->alive_ctx = ctx;
}

/* Point each rule bit of @rs at its by-name total, appending new names.
 * Two enabled rules may share a name; they then share the counter. */
static int map_rule_totals(struct pipeline *pl, const struct ruleset *rs,
			   uint32_t total_of_bit[SE_MAX_RULES])
{
	for (unsigned b = 0; b < rs->n_enabled; b++) {
		const char *name = rs->by_bit[b]->name;
		size_t i;

		for (i = 0; i < pl->n_totals; i++)
			if (strcmp(pl->totals[i].name, name) == 0)
				break;
		if (i == pl->n_totals) {
			struct rule_total *t = realloc(pl->totals, (i + 1) * sizeof(*t));

			if (!t)
				return -ENOMEM;
			pl->totals = t;
			t[i].name = strdup(name);
			if (!t[i].name)
				return -ENOMEM;
			t[i].matches = 0;
			pl->n_totals++;
		}
		total_of_bit[b] = (uint32_t)i;
	}
	return 0;
}

int pipeline_set_rules(struct pipeline *pl, const struct ruleset *rs)
{
	uint32_t total_of_bit[SE_MAX_RULES];
	uint32_t gen = pl->gen + 1;
	int err;

	/* Appending names is harmless if the switch then fails; the bit map
	 * is only committed with the rules. */
	err = map_rule_totals(pl, rs, total_of_bit);
	if (err) {
		log_error("out of memory for rule counters");
		return err;
	}
	if (pl->probe) {
		err = push_filter(pl, rs, gen);
		if (err)
			return err;
	}
	memcpy(pl->total_of_bit, total_of_bit, sizeof(total_of_bit));
	pl->rules = rs;
	pl->gen = gen;
	return 0;
}

/* ---- paths ---- */

static uint64_t path_mask(struct pipeline *pl, struct fd_entry *e)
{
	if (e->mask_gen != pl->gen) {
		e->path_mask = rules_path_mask(pl->rules, e->path);
		e->mask_gen = pl->gen;
	}
	return e->path_mask;
}

/*
 * Tell the kernel the verdict for the fd it named @seq, once per seq and
 * rules generation. After a reload the kernel asks again under the same seq
 * (its verdict is stale): posting anew is what moves the fd's filtering back
 * into the kernel, instead of every later event coming up pending.
 * @e is NULL when the fd did not fit in the table: @path is its name then,
 * and the verdict is posted without remembering it (the kernel stops asking
 * once it has it).
 */
static void post_verdict(struct pipeline *pl, struct fd_entry *e, const char *path, uint64_t seq)
{
	uint64_t mask = e ? path_mask(pl, e) : rules_path_mask(pl->rules, path);

	if (!pl->probe || (e && e->posted_seq == seq && e->posted_gen == pl->gen))
		return;
	if (probe_post_verdict(pl->probe, seq, mask, pl->gen) == 0) {
		if (e) {
			e->posted_seq = seq;
			e->posted_gen = pl->gen;
		}
		pl->stats.verdicts_posted++;
	} else {
		pl->stats.verdict_errors++;
	}
}

/*
 * An fd we never saw opened, or could not name: ask /proc and remember the
 * answer in *@e. The kernel tracks this fd (the record was not untracked),
 * so the entry is kept even when /proc has no answer - the process is
 * usually gone already - with a NULL path, for its exit to forget the
 * kernel's state; otherwise every short-lived process leaks an fds-map
 * entry. Returns the name (in the entry, or in @buf when the table is
 * full) or NULL.
 */
static const char *resolve_unknown(struct pipeline *pl, uint32_t tgid, int32_t fd, char *buf,
				   size_t cap, struct fd_entry **e)
{
	int n = path_proc_fd(tgid, fd, buf, cap);

	*e = fdtable_set(&pl->fds, tgid, fd, n > 0 ? buf : NULL, FDE_FROM_PROC);
	if (n <= 0)
		return NULL;
	return *e ? (*e)->path : buf;
}

/*
 * Lineage trusts only records it saw: note when the kernel's count of lost
 * records last moved (read after every drain and before each lineage
 * answer; one map lookup). Unreadable counts as a loss now.
 */
static void watch_loss(struct pipeline *pl)
{
	uint64_t lost;

	if (!pl->probe)
		return;
	if (probe_lost_records(pl->probe, &lost) != 0 || lost != pl->lost_records) {
		pl->lost_records = lost;
		pl->loss_seen_ns = clock_mono_ns();
	}
}

/*
 * The name of (@r's tgid, @fd) as of @r, from the table of the parent (or
 * further up), when lineage can tell the fd is still the one the process
 * had at its fork: the name the ancestor opened the file under. Copied into
 * the process's own entry (*@e; NULL when the table is full) for its later
 * records and its children. NULL, *@e untouched, when lineage cannot tell.
 */
static const char *inherited(struct pipeline *pl, const struct se_record *r, int32_t fd,
			     struct fd_entry **e)
{
	const struct fd_entry *a;
	struct fd_entry *n;

	/* Most callers (a dup of a pipe, say) get no answer: find that out
	 * before reading the kernel's loss count, a map lookup. A newer loss
	 * only makes lineage stricter, so a NULL here stays NULL. */
	a = lineage_find(&pl->fds, r->tgid, fd, r->ts_ns, pl->loss_seen_ns);
	if (!a)
		return NULL;
	/* A record lost before this one was read is counted by now. */
	watch_loss(pl);
	a = lineage_find(&pl->fds, r->tgid, fd, r->ts_ns, pl->loss_seen_ns);
	if (!a)
		return NULL;
	pl->stats.inherited++;
	/* fdtable_set copies the path; @a, another process's, stays valid. */
	n = fdtable_set(&pl->fds, r->tgid, fd, a->path, a->flags & FDE_CLOEXEC);
	*e = n;
	if (!n)
		return a->path; /* the table is full */
	n->path_over = a->path_over;
	n->set_ns = a->set_ns; /* this process has not changed it */
	return n->path;
}

/* The directory a relative name starts from, and how many of its
 * components did not fit (*over, see fd_entry.path_over). */
static const char *dir_of(struct pipeline *pl, const struct se_record *r, struct proc_entry *p,
			  int32_t dirfd, char *buf, size_t cap, uint32_t *over)
{
	struct fd_entry *d;
	const char *dir;

	*over = 0;
	if (dirfd == AT_FDCWD_) {
		dir = fdtable_cwd(p);
		if (dir)
			*over = p->cwd_over;
		return dir;
	}
	d = fdtable_get(&pl->fds, p->tgid, dirfd);
	if (d && d->path) {
		*over = d->path_over;
		return d->path;
	}
	if (path_proc_fd(p->tgid, dirfd, buf, cap) > 0)
		return buf;
	dir = inherited(pl, r, dirfd, &d);
	if (dir && d)
		*over = d->path_over;
	return dir;
}

/*
 * The absolute path an open or chdir named. Relative names are joined to
 * the cwd or dirfd as we track them; failing that, the kernel's own link
 * for the new fd (which already reflects later renames). A path longer
 * than @cap (only relative names reach there) is kept as its leading
 * components, *@over counting the rest: reported flagged as truncated,
 * and exact again if ".." climbs back.
 */
static int resolve_named(struct pipeline *pl, const struct se_path_record *pr, size_t size,
			 char *out, size_t cap, uint32_t *over)
{
	struct proc_entry *p = fdtable_proc(&pl->fds, pr->r.tgid, true);
	size_t maxlen = size > SE_PATH_RECORD_HDR ? size - SE_PATH_RECORD_HDR : 0;
	char dirbuf[PATH_MAX];
	const char *base = "/";
	uint32_t base_over = 0;

	*over = 0;
	if (!p)
		return -ENOMEM;
	if (!(pr->r.flags & SE_F_PATH_FAULT) && maxlen > 0 && pr->path_len > 0 &&
	    pr->path_len <= maxlen && pr->path[pr->path_len - 1] == '\0') {
		if (pr->path[0] != '/')
			base = dir_of(pl, &pr->r, p, pr->dirfd, dirbuf, sizeof(dirbuf), &base_over);
		if (base && path_resolve_over(base, base_over, pr->path, out, cap, over) > 0)
			return 0;
	}
	if (pr->r.kind == SE_OPEN)
		return path_proc_fd(pr->r.tgid, pr->r.fd, out, cap) > 0 ? 0 : -ENOENT;
	return path_proc_cwd(pr->r.tgid, out, cap) > 0 ? 0 : -ENOENT;
}

/* ---- records ---- */

static void on_open(struct pipeline *pl, const struct se_path_record *pr, size_t size)
{
	char path[PATH_MAX];
	struct fd_entry *e;
	uint32_t over;

	/* No kernel state (fds map full) means no close record will come:
	 * keep nothing, events on this fd are looked up each time. */
	if (pr->r.flags & SE_F_UNTRACKED) {
		fdtable_del(&pl->fds, pr->r.tgid, pr->r.fd);
		return;
	}
	if (resolve_named(pl, pr, size, path, sizeof(path), &over) != 0) {
		/* Name unknown: the first event on the fd asks /proc. The
		 * kernel tracks the fd, so keep an entry for the exit to
		 * forget (see resolve_unknown). */
		fdtable_set(&pl->fds, pr->r.tgid, pr->r.fd, NULL,
			    pr->r.flags & SE_F_CLOEXEC ? FDE_CLOEXEC : 0);
		return;
	}
	e = fdtable_set(&pl->fds, pr->r.tgid, pr->r.fd, path,
			pr->r.flags & SE_F_CLOEXEC ? FDE_CLOEXEC : 0);
	if (e) {
		e->path_over = over;
		e->set_ns = pr->r.ts_ns;
	}
	/* Post the verdict now, before the first read or write asks. */
	if (pr->r.flags & SE_F_PENDING)
		post_verdict(pl, e, path, pr->r.verdict);
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. One vDSO call per forwarded
 * event (~20 ns); filtered events never get here. */
static void observe_latency(struct pipeline *pl, uint64_t ts_ns)
{
	uint64_t now_ns = clock_mono_ns();

	histogram_observe(&pl->latency, now_ns > ts_ns ? (double)(now_ns - ts_ns) / 1e9 : 0.0);
}

/* @truncated: @filename is only the leading part of the name (PATH_MAX). */
static void forward(struct pipeline *pl, const struct se_record *r, struct proc_entry *p,
		    const char *filename, bool truncated, uint64_t mask)
{
	struct envelope env;
	int ev = r->kind == SE_WRITE;

	envelope_new_id(&pl->src, env.event_id);
	env.event_type = rules_event_name((enum rule_event)ev);
	env.ts_unix_nano = envelope_unix_ns(&pl->src, r->ts_ns);
	env.hostname = pl->src.hostname;
	env.pod = pl->src.pod;
	env.namespace_ = pl->src.namespace_;
	env.container_id = p ? fdtable_container_id(p) : "";
	if (pl->pods && env.container_id[0]) {
		/* A hash lookup per event of a container; the bundle is read once. */
		const struct podmeta_pod *pod =
			podmeta_lookup(pl->pods, env.container_id, r->ts_ns);

		env.pod = pod->name;
		env.namespace_ = pod->ns;
	}
	env.filename = filename;
	env.filename_truncated = truncated;
	if (truncated)
		pl->stats.truncated++;
	env.bytes = r->arg;
	memcpy(env.comm, r->comm, SE_COMM_LEN);
	env.comm[SE_COMM_LEN] = '\0';
	env.pid = r->tgid;
	env.tid = r->tid;
	env.rule_mask = mask;
	env.seq = pl->src.next_seq++;
	pl->stats.forwarded[ev]++;
	for (uint64_t m = mask; m; m &= m - 1) {
		int bit = __builtin_ctzll(m);

		pl->stats.rule_matches[bit]++;
		/* A record decided before a reload may carry an old rule bit. */
		if ((unsigned)bit < pl->rules->n_enabled)
			pl->totals[pl->total_of_bit[bit]].matches++;
	}
	observe_latency(pl, r->ts_ns);
	sink_emit(pl->sink, &env);
}

/* The fds map was full: the kernel keeps no state for this fd, so no close
 * will reach us. Ask /proc every time and cache nothing, or a reused fd
 * number would inherit a stale name. */
static void on_untracked_io(struct pipeline *pl, const struct se_record *r)
{
	char path[PATH_MAX];
	uint64_t mask;

	fdtable_del(&pl->fds, r->tgid, r->fd);
	if (path_proc_fd(r->tgid, r->fd, path, sizeof(path)) <= 0) {
		pl->stats.unresolved++;
		return;
	}
	mask = rules_match(pl->rules, (enum rule_event)(r->kind == SE_WRITE), r->comm,
			   rules_path_mask(pl->rules, path));
	if (!mask) {
		pl->stats.user_filtered++;
		return;
	}
	forward(pl, r, fdtable_proc(&pl->fds, r->tgid, false), path, false, mask);
}

/*
 * An fd named from /proc (at start-up) that the kernel did not track until
 * this event: had the process closed it meanwhile, no record would have
 * said so, and the number may now be a pipe or a socket. /proc is asked
 * again, once: the verdict posted now makes the kernel track it.
 */
static bool unconfirmed(const struct fd_entry *e, const struct se_record *r)
{
	return (r->flags & SE_F_PENDING) && (e->flags & FDE_FROM_PROC) && !e->posted_seq;
}

static void on_io(struct pipeline *pl, const struct se_record *r)
{
	char buf[PATH_MAX];
	const char *path = NULL;
	struct fd_entry *e;
	uint64_t mask;

	if (r->flags & SE_F_UNTRACKED) {
		on_untracked_io(pl, r);
		return;
	}
	e = fdtable_get(&pl->fds, r->tgid, r->fd);
	if (e && e->path && !unconfirmed(e, r))
		path = e->path;
	else
		path = resolve_unknown(pl, r->tgid, r->fd, buf, sizeof(buf), &e);
	if (!path)
		path = inherited(pl, r, r->fd, &e);
	if (!path) {
		/* The process or fd is gone before we could ask /proc. */
		pl->stats.unresolved++;
		return;
	}
	if (r->flags & SE_F_PENDING) {
		post_verdict(pl, e, path, r->verdict);
		mask = rules_match(pl->rules, (enum rule_event)(r->kind == SE_WRITE), r->comm,
				   e ? path_mask(pl, e) : rules_path_mask(pl->rules, path));
		log_debug("pending event decided in user space",
			  "tgid=%u fd=%d seq=%llx path=%s mask=%llx", r->tgid, r->fd,
			  (unsigned long long)r->verdict, path, (unsigned long long)mask);
		if (!mask) {
			pl->stats.user_filtered++;
			return;
		}
	} else {
		mask = r->verdict;
	}
	forward(pl, r, fdtable_proc(&pl->fds, r->tgid, false), path,
		e && e->path == path && e->path_over, mask);
}

static void forget(uint32_t tgid, int32_t fd, void *arg)
{
	struct pipeline *pl = arg;

	if (pl->probe)
		probe_forget_fd(pl->probe, tgid, fd);
}

/* Gone after exec, or maybe gone: entries from /proc are looked up again. */
static bool exec_closes(const struct fd_entry *e, void *arg)
{
	(void)arg;
	return e->flags & (FDE_CLOEXEC | FDE_FROM_PROC);
}

static bool in_range(const struct fd_entry *e, void *arg)
{
	const uint32_t *r = arg;

	return (uint32_t)e->fd >= r[0] && (uint32_t)e->fd <= r[1];
}

static bool any_fd(const struct fd_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

static void on_close_range(struct pipeline *pl, const struct se_record *r)
{
	struct proc_entry *p = fdtable_proc(&pl->fds, r->tgid, false);
	uint32_t range[2] = {(uint32_t)r->fd, (uint32_t)r->arg};
	struct fd_entry *e, *tmp;

	if (!p)
		return;
	if ((r->arg >> 32) & CLOSE_RANGE_CLOEXEC_) {
		HASH_ITER (hh, p->fds, e, tmp)
			if (in_range(e, range)) {
				e->flags |= FDE_CLOEXEC;
				e->set_ns = r->ts_ns;
			}
		return;
	}
	fdtable_remove_if(&pl->fds, p, in_range, range, forget, pl);
}

static void on_dup(struct pipeline *pl, const struct se_record *r)
{
	struct fd_entry *old = fdtable_get(&pl->fds, r->tgid, (int32_t)r->arg), *e;

	if (r->fd == (int32_t)r->arg)
		return;
	if (r->flags & SE_F_UNTRACKED) {
		fdtable_del(&pl->fds, r->tgid, r->fd);
		return;
	}
	/* A shell's `cmd >&3` in a child: the old fd is the parent's. */
	if (!old || !old->path)
		inherited(pl, r, (int32_t)r->arg, &old);
	if (!old || !old->path) {
		/* Pending: the kernel copied the old fd's state, so keep an
		 * entry for the exit to forget; else it dropped the new fd's. */
		if (r->flags & SE_F_PENDING)
			fdtable_set(&pl->fds, r->tgid, r->fd, NULL,
				    r->flags & SE_F_CLOEXEC ? FDE_CLOEXEC : 0);
		else
			fdtable_del(&pl->fds, r->tgid, r->fd);
		return;
	}
	/* fdtable_set copies the path; old stays valid (a different fd). */
	e = fdtable_set(&pl->fds, r->tgid, r->fd, old->path,
			r->flags & SE_F_CLOEXEC ? FDE_CLOEXEC : 0);
	if (e) {
		e->path_over = old->path_over;
		e->set_ns = r->ts_ns;
	}
	if (r->flags & SE_F_PENDING)
		post_verdict(pl, e, old->path, r->verdict);
}

static void on_chdir(struct pipeline *pl, const struct se_record *r, size_t size)
{
	struct proc_entry *p = fdtable_proc(&pl->fds, r->tgid, true);
	char path[PATH_MAX];
	struct fd_entry *e;
	uint32_t over;

	if (!p)
		return;
	if (r->kind == SE_CHDIR) {
		if (resolve_named(pl, (const struct se_path_record *)r, size, path, sizeof(path),
				  &over) == 0)
			fdtable_set_cwd(p, path, over);
		else
			fdtable_forget_cwd(p); /* never join to a stale one */
		return;
	}
	/* fchdir */
	e = fdtable_get(&pl->fds, r->tgid, r->fd);
	if (e && e->path)
		fdtable_set_cwd(p, e->path, e->path_over);
	else if (path_proc_cwd(r->tgid, path, sizeof(path)) > 0)
		fdtable_set_cwd(p, path, 0);
	else if (inherited(pl, r, r->fd, &e) && e)
		fdtable_set_cwd(p, e->path, e->path_over);
	else
		fdtable_forget_cwd(p);
}

/* Which fds a forked process changed, and whether it exec'd: what tells
 * lineage_find() an fd is still the parent's. Every change counts, even
 * one the table could not follow (untracked, unnamed). */
static void track_lineage(struct pipeline *pl, const struct se_record *r)
{
	struct proc_entry *p;
	uint32_t last;

	switch (r->kind) {
	case SE_OPEN:
	case SE_DUP:
	case SE_CLOSE:
	case SE_SETFD: last = (uint32_t)r->fd; break;
	case SE_CLOSE_RANGE: last = (uint32_t)r->arg; break;
	case SE_EXEC: last = 0; break;
	default: return;
	}
	p = fdtable_proc(&pl->fds, r->tgid, false);
	if (!p)
		return; /* no fork record: no lineage to guard */
	if (r->kind == SE_EXEC)
		lineage_exec(p);
	else if (r->fd >= 0)
		lineage_touch(p, (uint32_t)r->fd, last);
}

void pipeline_on_record(void *ctx, const struct se_record *r, size_t size)
{
	struct pipeline *pl = ctx;
	struct proc_entry *p;
	struct fd_entry *e;

	pl->stats.records++;
	if (pl->tick && pl->stats.records % PIPELINE_TICK_RECORDS == 0)
		pl->tick(pl->tick_ctx);
	track_lineage(pl, r);
	switch (r->kind) {
	case SE_READ:
	case SE_WRITE:
		pl->stats.io_records++;
		on_io(pl, r);
		break;
	case SE_OPEN:
		if (size >= SE_PATH_RECORD_HDR)
			on_open(pl, (const struct se_path_record *)r, size);
		break;
	case SE_CLOSE: fdtable_del(&pl->fds, r->tgid, r->fd); break;
	case SE_CLOSE_RANGE: on_close_range(pl, r); break;
	case SE_DUP: on_dup(pl, r); break;
	case SE_SETFD:
		e = fdtable_get(&pl->fds, r->tgid, r->fd);
		if (e) {
			e->flags = r->arg ? e->flags | FDE_CLOEXEC : e->flags & ~FDE_CLOEXEC;
			e->set_ns = r->ts_ns; /* what a child's exec keeps changed */
		}
		break;
	case SE_CHDIR:
	case SE_FCHDIR: on_chdir(pl, r, size); break;
	case SE_EXEC:
		p = fdtable_proc(&pl->fds, r->tgid, false);
		if (p)
			fdtable_remove_if(&pl->fds, p, exec_closes, NULL, forget, pl);
		break;
	case SE_FORK:
		if (lineage_fork(&pl->fds, r->tgid, (uint32_t)r->fd, r->ts_ns,
				 !(r->flags & SE_F_UNTRACKED), forget, pl) != 0)
			log_debug("no room in the fd table for a new process", "parent=%u child=%d",
				  r->tgid, r->fd);
		break;
	case SE_EXIT:
		p = fdtable_proc(&pl->fds, r->tgid, false);
		if (p) {
			fdtable_remove_if(&pl->fds, p, any_fd, NULL, forget, pl);
			fdtable_drop_proc(&pl->fds, r->tgid);
		}
		break;
	default: break;
	}
}

/* ---- fds from before the agent ---- */

static uint64_t scan_claim(void *ctx, uint32_t tgid, int32_t fd)
{
	struct pipeline *pl = ctx;
	uint64_t seq;

	return probe_claim_fd(pl->probe, tgid, fd, pl->gen, &seq) == 0 ? seq : 0;
}

static void scan_named(void *ctx, struct fd_entry *e, uint64_t seq)
{
	post_verdict(ctx, e, e->path, seq);
}

int pipeline_scan_proc(struct pipeline *pl, struct procscan_stats *st)
{
	const struct procscan_track track = {scan_claim, scan_named, pl};

	return procscan_run(&pl->fds, pl->probe ? &track : NULL, st);
}

/* ---- reclaiming what lost exit records left ---- */

/* Entries the kernel holds for fds user space never heard of. */
static void sweep_kernel(struct pipeline *pl)
{
	uint64_t t0 = clock_mono_ns();
	bool wrapped;
	int n;

	n = probe_sweep_fds(pl->probe, PIPELINE_SWEEP_KERNEL_KEYS, pl->alive, pl->alive_ctx,
			    &wrapped);
	if (n > 0) {
		pl->stats.reclaimed_kernel_fds += (uint64_t)n;
		log_debug("reclaimed kernel fds-map entries of gone processes", "fds=%d us=%llu", n,
			  (unsigned long long)((clock_mono_ns() - t0) / 1000));
	}
	if (wrapped || n < 0)
		pl->sweep_kernel = false;
}

void pipeline_sweep(struct pipeline *pl, uint64_t now_ns)
{
	struct fdtable_sweep_result res = {0};
	size_t n;

	if (!pl->sweep_left && !pl->sweep_kernel) {
		if (pl->sweep_start_ns &&
		    now_ns - pl->sweep_start_ns < PIPELINE_SWEEP_INTERVAL_MS * 1000000ull)
			return;
		pl->sweep_start_ns = now_ns;
		pl->sweep_left = pl->fds.n_procs;
		pl->sweep_kernel = pl->probe != NULL;
	}
	if (pl->sweep_kernel)
		sweep_kernel(pl);
	if (!pl->sweep_left)
		return;
	/* Exits during the pass shrink the table: never check one twice. */
	n = pl->sweep_left < PIPELINE_SWEEP_BATCH ? pl->sweep_left : PIPELINE_SWEEP_BATCH;
	fdtable_sweep(&pl->fds, n, pl->alive, pl->alive_ctx, forget, pl, &res);
	pl->sweep_left = res.checked < n ? 0 : pl->sweep_left - n;
	pl->stats.reclaimed_procs += res.procs;
	pl->stats.reclaimed_fds += res.fds;
	if (res.procs)
		log_debug("reclaimed the fd-table entries of gone processes", "procs=%zu fds=%zu",
			  res.procs, res.fds);
}

void pipeline_housekeep(struct pipeline *pl)
{
	watch_loss(pl);
	pipeline_sweep(pl, clock_mono_ns());
}
