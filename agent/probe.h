/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: the kernel side's user-space handle. Has the embedded BPF text
 * compiled and loaded by the helper sentinel-probe-build (probe_spawn.h),
 * attaches what it hands over to the tracepoints, owns the maps, and drains
 * the records they emit. libbpf only: never libbcc in this process.
 *
 * Lifecycle: probe_open() (compile + load in the helper, nothing attached) ->
 * probe_set_rules() -> probe_attach() -> probe_drain() in a loop ->
 * probe_close() (detaches by closing the attachment fds).
 * All functions log their errors and return -errno (or -1) on failure.
 */
#ifndef SENTINEL_PROBE_H
#define SENTINEL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "evtype.h"

enum probe_transport_kind { PROBE_RINGBUF = 1, PROBE_PERF = 2 };

_Static_assert(EV_TYPES == SE_TYPES, "enum ev_type follows the probe's event kinds");

/* Whether a record of @kind is an event (a read, write, truncation or
 * mapping), and its type. */
static inline bool probe_is_event(unsigned kind)
{
	return kind >= SE_READ && kind < SE_READ + SE_TYPES;
}

static inline enum ev_type probe_event_type(unsigned kind)
{
	return (enum ev_type)se_type(kind);
}

/*
 * Per-process (tgid) limit on the events the kernel emits, decided after the
 * rules: what a process emits beyond it is counted, not copied out. Numbers
 * only, kept in the config map: it changes without recompiling the probe.
 */
struct probe_rate_limit {
	uint32_t events_per_s; /* 0 = no limit; at most 1e9 */
	uint32_t burst;	       /* events a process may emit at once; 0 = events_per_s */
	uint32_t report_s;     /* how often the agent reports what was suppressed */
};

struct probe_opts {
	int transport;	       /* 0 = auto (ring buffer when the kernel has it), or PROBE_* */
	unsigned ringbuf_kib;  /* ring buffer size, power of two */
	unsigned perf_pages;   /* per-CPU perf buffer pages, power of two */
	unsigned file_entries; /* open files the kernel keeps verdicts for (LRU) */
	const char *btf_path;  /* the kernel's BTF; NULL: /sys/kernel/btf/vmlinux */
	uint32_t self_tgid;    /* never traced */
	/* The cgroup hierarchy whose ids records carry (cgroups.h): the v1
	 * controller's enum cgroup_subsys_id value name, NULL for the
	 * unified hierarchy; and its hierarchy id, for cgroup_mkdir. */
	const char *cgroup_subsys;
	int cgroup_hierarchy;
	struct probe_rate_limit rate_limit;
};

/* What the rate limit suppressed of one process, as the kernel counts it. */
struct probe_rl_entry {
	uint32_t tgid;
	uint64_t suppressed;	    /* since the kernel made the entry */
	char comm[SE_COMM_LEN + 1]; /* at the first suppressed event, NUL-terminated */
};

/*
 * Called for each process with suppressed events. The callback may call
 * probe_rate_limited_take() on the entry it was given (not on others).
 */
typedef void (*probe_rl_fn)(void *ctx, const struct probe_rl_entry *e);

/*
 * Called for every record in kernel order (perf transport: merged by
 * timestamp within each drain). @size is the record's full size: at least
 * sizeof(struct se_record); SE_NAME is a struct se_name_record.
 */
typedef void (*probe_record_fn)(void *ctx, const struct se_record *rec, size_t size);

struct probe;

int probe_open(struct probe **out, const struct probe_opts *opts, probe_record_fn cb, void *ctx);
/* Kernel filter inputs; bump @gen whenever the verdicts change meaning. The
 * rate-limit fields of @cfg are the probe's own (from probe_opts): ignored. */
int probe_set_filter(struct probe *p, const struct se_config *cfg, const struct se_comm_key *comms,
		     const uint64_t *comm_masks, size_t n_comms);
int probe_attach(struct probe *p);
/* Waits up to timeout_ms for records, then hands every available one to the
 * callback. Returns the number of records handled or -errno. */
int probe_drain(struct probe *p, int timeout_ms);
/* The verdict user space decided for the file the kernel named @seq. */
int probe_post_verdict(struct probe *p, uint64_t seq, uint64_t mask, uint32_t gen);
/* Forget the kernel's verdict for the struct file at @file (an event came
 * under a name user space does not know): its next event walks again. Also
 * starts a new rename epoch, so no CPU's cached verdict of it survives. */
int probe_forget_file(struct probe *p, uint64_t file);
/* Kernel counters summed over CPUs, indexed by enum se_counter. */
int probe_read_counters(struct probe *p, uint64_t out[SE_CTR_MAX]);

/*
 * The names of the kernel's loss counters, the one table /metrics and the
 * stop summary both read: records lost because the buffer was full, by
 * event type (file_read ... file_mmap, or "internal" for records that are not
 * events) and verdict ("matched": the file was decided to match a rule;
 * "pending": awaiting its verdict; "none" for internal records); and events
 * the rate limit suppressed, by event type (always matched).
 */
struct probe_loss_class {
	enum se_counter ctr;
	const char *reason;  /* buffer_full, rate_limited, uninspected */
	unsigned type;	     /* enum ev_type, or EV_INTERNAL */
	const char *verdict; /* matched, pending, none */
	const char *summary; /* the key in the stop summary line */
};
extern const struct probe_loss_class probe_loss_classes[];
extern const unsigned probe_n_loss_classes;
/* Records lost because the buffer was full, every class (from @k, a
 * probe_read_counters() result). */
uint64_t probe_buffer_drops(const uint64_t k[SE_CTR_MAX]);
/* Events the rate limit suppressed, both types. */
uint64_t probe_rate_limited(const uint64_t k[SE_CTR_MAX]);
/* The rate limit the probe was opened with. */
const struct probe_rate_limit *probe_rate_limit(const struct probe *p);
/* Every process the rate limit suppressed events of (in the kernel's map).
 * Returns how many, or -errno. */
int probe_rate_limited_each(struct probe *p, probe_rl_fn fn, void *ctx);
/* Reads @tgid's entry once more into @out and deletes it: for a process that
 * is gone, whose count can no longer change. 0, or -errno (-ENOENT). */
int probe_rate_limited_take(struct probe *p, uint32_t tgid, struct probe_rl_entry *out);
/* Records the perf transport lost before they were read (0 for ringbuf). */
uint64_t probe_perf_lost(const struct probe *p);
const char *probe_transport_name(const struct probe *p);
unsigned probe_program_count(const struct probe *p);
/* Detaches every program; records already emitted can still be drained. */
/* data.syscall: the call a record's bytes moved by (se_record.syscall,
 * enum se_syscall): "write", "copy_file_range", ...; "unknown" past them. */
const char *probe_syscall_name(unsigned sc);

void probe_detach(struct probe *p);
void probe_close(struct probe *p);

#endif
