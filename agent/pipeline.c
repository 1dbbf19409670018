/* SPDX-License-Identifier: Apache-2.0 */
#include "pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "podmeta.h"

/* From well under the 10 ms drain interval to the seconds of a stalled
 * reader: where the agent's own delay shows. */
const double pipeline_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					  0.05,	  0.1,	 0.25,	 0.5,	1,    2.5};
const unsigned pipeline_latency_n_bounds =
	sizeof(pipeline_latency_bounds) / sizeof(pipeline_latency_bounds[0]);

void pipeline_init(struct pipeline *pl, struct sink *sink)
{
	memset(pl, 0, sizeof(*pl));
	names_init(&pl->names, 0);
	containers_init(&pl->containers);
	envelope_source_init(&pl->src);
	histogram_init(&pl->latency, pipeline_latency_bounds, pipeline_latency_n_bounds);
	pl->sink = sink;
	nameop_init(&pl->lookup);
}

void pipeline_free(struct pipeline *pl)
{
	names_free(&pl->names);
	containers_free(&pl->containers);
	for (size_t i = 0; i < pl->n_totals; i++)
		free(pl->totals[i].name);
	free(pl->totals);
	pl->totals = NULL;
	pl->n_totals = 0;
}

void pipeline_set_names_capacity(struct pipeline *pl, size_t cap)
{
	pl->names.cap = cap ? cap : NAMES_DEFAULT_CAPACITY;
}

void pipeline_set_probe(struct pipeline *pl, struct probe *probe)
{
	pl->probe = probe;
}

/* @rs's comm_masks entries; -ENOMEM when rules_comm_masks() failed (logged). */
static int comm_entries(const struct ruleset *rs, struct rules_comm_mask **cm, size_t *n)
{
	uint64_t type_mask[EV_TYPES], anycomm, comm_rules;

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
	uint64_t type_mask[EV_TYPES], anycomm, comm_rules;
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
	_Static_assert(sizeof(cfg.type_mask) == sizeof(type_mask),
		       "one kernel mask per event type");
	memcpy(cfg.type_mask, type_mask, sizeof(cfg.type_mask));
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

/* ---- names and verdicts ---- */

/* Every enabled rule's bit: the path part of a name whose place is unknown. */
static uint64_t all_rules(const struct pipeline *pl)
{
	unsigned k = pl->rules->n_enabled;

	return k >= SE_MAX_RULES ? ~0ull : (1ull << k) - 1;
}

/*
 * Which rules' path part @n matches. A truncated name (deeper or longer
 * than the kernel's walk) holds only its leaf-most components: where it
 * lies is unknown, so it matches every rule, as if under every watched
 * place. Otherwise a deep tree under a watched directory would hide the
 * writes in it; reporting a deep file that is not watched is the lesser
 * error, and the event says filename_truncated.
 */
static uint64_t path_mask(struct pipeline *pl, struct name *n)
{
	if (n->mask_gen != pl->gen) {
		n->path_mask = n->truncated ? all_rules(pl) : rules_path_mask(pl->rules, n->path);
		n->mask_gen = pl->gen;
	}
	return n->path_mask;
}

/*
 * Tell the kernel the verdict for the file it named @n->seq, once: the
 * kernel names a file again after a reload (a new seq), so a name is
 * decided for one rules generation only.
 */
static void post_verdict(struct pipeline *pl, struct name *n)
{
	if (!pl->probe || n->posted)
		return;
	if (probe_post_verdict(pl->probe, n->seq, path_mask(pl, n), pl->gen) == 0) {
		n->posted = true;
		pl->stats.verdicts_posted++;
	} else {
		pl->stats.verdict_errors++;
	}
}

static void on_name(struct pipeline *pl, const struct se_name_record *nr, size_t size)
{
	struct kpath kp;
	struct name *n;

	pl->stats.names++;
	if (kpath_decode(&nr->kp, size - offsetof(struct se_name_record, kp), &kp) != 0) {
		pl->stats.names_invalid++;
		log_warn("the kernel sent a malformed file name; the file's events will be "
			 "unresolved",
			 "seq=%" PRIx64 " tgid=%u fd=%d", (uint64_t)nr->r.seq, nr->r.tgid,
			 nr->r.fd);
		return;
	}
	n = names_add(&pl->names, nr->r.seq, &kp, (uint32_t)nr->r.arg);
	if (!n) {
		log_error("out of memory for a file name", "seq=%" PRIx64, (uint64_t)nr->r.seq);
		return;
	}
	/* Post now, before the file's first event asks. */
	post_verdict(pl, n);
}

/* ---- events ---- */

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC, as is @now_ns: one vDSO call per
 * forwarded event (~20 ns), shared with the sinks (envelope.seen_ns);
 * filtered events never get here. */
static void observe_latency(struct pipeline *pl, uint64_t ts_ns, uint64_t now_ns)
{
	histogram_observe(&pl->latency, now_ns > ts_ns ? (double)(now_ns - ts_ns) / 1e9 : 0.0);
}

/* The call that moved the bytes (data.syscall), whether the bytes are only
 * what it asked for (data.bytes_unconfirmed: no completion to confirm
 * them, SE_F_UNCONFIRMED), and what a detector needs
 * beyond the name to tell files apart: the device and inode (a tmpfs over
 * /etc/x is not the host's /etc/x), the mount namespace, the name as the
 * process sees it (chroot, container), and the name through the bind mount
 * it used when filename is its origin's. */
static void name_data(struct envelope *env, const struct name *n, const struct se_record *r)
{
	env->n_extra = 0;
	envelope_extra(env, "syscall", probe_syscall_name(r->syscall));
	if (r->flags & SE_F_UNCONFIRMED)
		envelope_extra(env, "bytes_unconfirmed", "true");
	if (r->flags & SE_F_BYTES_UNKNOWN)
		envelope_extra(env, "bytes_unknown", "true");
	envelope_extra(env, "dev", n->dev);
	envelope_extra(env, "ino", n->ino);
	envelope_extra(env, "mntns", n->mntns);
	if (n->in_root)
		envelope_extra_path(env, ENVELOPE_FILENAME_IN_ROOT, n->in_root);
	if (n->via)
		envelope_extra_path(env, ENVELOPE_FILENAME_VIA, n->via);
	if (n->unlinked)
		envelope_extra(env, "filename_unlinked", "true");
}

/* Sends @env (its filename and data filled in by the caller) for record @r,
 * which rules @mask matched. */
static void forward(struct pipeline *pl, const struct se_record *r, struct envelope *e,
		    uint64_t mask)
{
	struct envelope env = *e;
	enum ev_type ev = probe_event_type(r->kind);

	envelope_new_id(&pl->src, env.event_id);
	env.type = ev;
	env.event_type = ev_type_name(env.type);
	env.ts_unix_nano = envelope_unix_ns(&pl->src, r->ts_ns);
	env.hostname = pl->src.hostname;
	env.pod = pl->src.pod;
	env.namespace_ = pl->src.namespace_;
	env.container_id = containers_id(&pl->containers, r->tgid, r->cgroup, r->ts_ns);
	if (pl->pods && env.container_id[0]) {
		/* A hash lookup per event of a container; the bundle is read once. */
		const struct podmeta_pod *pod =
			podmeta_lookup(pl->pods, env.container_id, r->ts_ns);

		env.pod = pod->name;
		env.namespace_ = pod->ns;
	}
	if (env.filename_truncated)
		pl->stats.truncated++;
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
	env.seen_ns = clock_mono_ns();
	observe_latency(pl, r->ts_ns, env.seen_ns);
	sink_emit(pl->sink, &env);
}

static void on_io(struct pipeline *pl, const struct se_record *r)
{
	enum ev_type ev = probe_event_type(r->kind);
	struct name *n = names_get(&pl->names, r->seq);
	struct envelope env;
	uint64_t mask;

	if (!n) {
		/* seq 0: the kernel could not send the name (buffer full) and
		 * keeps no state, so the next event names the file. Another
		 * seq was evicted here: have the kernel name the file again. */
		pl->stats.unresolved[ev]++;
		if (!(r->flags & SE_F_PENDING))
			pl->stats.unresolved_matched[ev]++;
		if (pl->probe && r->seq)
			probe_forget_file(pl->probe, r->file);
		return;
	}
	if (r->flags & SE_F_PENDING) {
		post_verdict(pl, n);
		mask = rules_match(pl->rules, ev, r->comm, path_mask(pl, n));
		log_debug("pending event decided in user space",
			  "tgid=%u fd=%d seq=%" PRIx64 " path=%s mask=%" PRIx64, r->tgid, r->fd,
			  (uint64_t)r->seq, n->path, mask);
		if (!mask) {
			pl->stats.user_filtered++;
			return;
		}
	} else {
		mask = r->mask;
	}
	env.filename = n->path;
	env.filename_truncated = n->truncated;
	name_data(&env, n, r);
	env.bytes = r->arg;
	forward(pl, r, &env, mask);
}

/* ---- renames and links ---- */

/*
 * The rules' path part a rename's, link's or truncate(2)'s name matches:
 * every rule when its place is unknown (see path_mask()): truncated,
 * unreadable, or lexical. A lexical name is the text through whatever the
 * lookup could not find any more: a symlinked directory removed right
 * after the call (`mv x lnk/f; rm lnk`, faster than any lookup) would
 * otherwise pass a rename into a watched place off under the link's name.
 * The cost: renames out of a directory removed at once (a build's temp
 * dir) match too, flagged filename_resolution or source_resolution
 * "lexical".
 */
static uint64_t nameop_mask(struct pipeline *pl, const struct nameop_name *nm)
{
	if (nm->how == NAMEOP_TRUNCATED || nm->how == NAMEOP_UNREADABLE ||
	    nm->how == NAMEOP_LEXICAL)
		return all_rules(pl);
	return rules_path_mask(pl->rules, nm->path);
}

/*
 * A rename or link: the new name in filename, the old one in data.source,
 * both resolved (nameop.h); a rule matches if either name is under it (a
 * watched name given away matters as much as one taken). A truncate(2):
 * its one name in filename; so has an io_uring read or write of a
 * registered slot its linked open fills (the bytes asked for: no
 * completion confirms them). Decided here, never in the kernel.
 */
static void on_nameop(struct pipeline *pl, const struct se_nameop_record *nr)
{
	const struct se_record *r = &nr->r;
	struct nameop_name *src = &pl->nameop[0], *dst = &pl->nameop[1];
	/* RENAME_NOREPLACE 1, RENAME_EXCHANGE 2 (both names now hold the
	 * other's file), RENAME_WHITEOUT 4 */
	static const char *const rename_flags[] = {
		"",
		"noreplace",
		"exchange",
		"noreplace,exchange",
		"whiteout",
		"noreplace,whiteout",
		"exchange,whiteout",
		"noreplace,exchange,whiteout",
	};
	bool two = r->kind == SE_RENAME || r->kind == SE_LINK;
	bool io = r->kind == SE_READ || r->kind == SE_WRITE;
	struct envelope env = {0};
	uint64_t mask, paths;

	nameop_resolve(&pl->lookup, &nr->side[1], nameop_follows(r, 1), r->tgid, r->tid, dst);
	pl->stats.nameop_names[dst->how]++;
	paths = nameop_mask(pl, dst);
	if (two) {
		nameop_resolve(&pl->lookup, &nr->side[0], nameop_follows(r, 0), r->tgid, r->tid,
			       src);
		pl->stats.nameop_names[src->how]++;
		paths |= nameop_mask(pl, src);
	}
	mask = rules_match(pl->rules, probe_event_type(r->kind), r->comm, paths);
	if (!mask) {
		pl->stats.user_filtered++;
		return;
	}
	env.filename = dst->path;
	env.filename_truncated = dst->how == NAMEOP_TRUNCATED;
	env.bytes = io ? r->arg : 0;
	env.n_extra = 0;
	envelope_extra(&env, "syscall", probe_syscall_name(r->syscall));
	if (r->flags & SE_F_BYTES_UNKNOWN)
		envelope_extra(&env, "bytes_unknown", "true");
	/* io_uring, at submission: the bytes (as name_data says them), or
	 * whether the rename or link happens at all */
	if (r->flags & SE_F_UNCONFIRMED)
		envelope_extra(&env, io ? "bytes_unconfirmed" : "unconfirmed", "true");
	if (two)
		envelope_extra_path(&env, ENVELOPE_SOURCE, src->path);
	if (dst->how != NAMEOP_LOOKUP)
		envelope_extra(&env, "filename_resolution", nameop_how_name(dst->how));
	if (two && src->how != NAMEOP_LOOKUP)
		envelope_extra(&env, "source_resolution", nameop_how_name(src->how));
	if (r->kind == SE_RENAME && (r->arg & 7))
		envelope_extra(&env, "rename_flags", rename_flags[r->arg & 7]);
	snprintf(pl->nameop_mntns, sizeof(pl->nameop_mntns), "%u", dst->mntns);
	envelope_extra(&env, "mntns", pl->nameop_mntns);
	forward(pl, r, &env, mask);
}

void pipeline_on_record(void *ctx, const struct se_record *r, size_t size)
{
	struct pipeline *pl = ctx;

	if (size < sizeof(*r))
		return; /* the probe never hands over less: a guard, not a path */
	pl->stats.records++;
	if (pl->tick && pl->stats.records % PIPELINE_TICK_RECORDS == 0)
		pl->tick(pl->tick_ctx);
	if (r->kind == SE_RENAME || r->kind == SE_LINK || (r->flags & SE_F_BY_NAME)) {
		if (size >= sizeof(struct se_nameop_record))
			on_nameop(pl, (const struct se_nameop_record *)r);
		else
			pl->stats.names_invalid++; /* the probe sends them whole */
		return;
	}
	if (probe_is_event(r->kind)) {
		pl->stats.io_records++;
		on_io(pl, r);
		return;
	}
	switch (r->kind) {
	case SE_NAME:
		if (size >= SE_NAME_RECORD_HDR)
			on_name(pl, (const struct se_name_record *)r, size);
		break;
	case SE_CGROUP:
		/* Sent up to its NUL: the path is what lies between. */
		if (size > SE_CGROUP_RECORD_HDR)
			containers_learn(&pl->containers, r->arg,
					 ((const struct se_cgroup_record *)r)->path,
					 strnlen(((const struct se_cgroup_record *)r)->path,
						 size - SE_CGROUP_RECORD_HDR));
		break;
	default: break;
	}
}
