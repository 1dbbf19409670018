/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: the kernel side's user-space handle. Compiles the embedded BPF text
 * with libbcc, loads and attaches it to the syscall tracepoints, owns its
 * maps, and drains the records it emits.
 *
 * Lifecycle: probe_open() (compile + load, nothing attached) ->
 * probe_set_rules() -> probe_attach() -> probe_drain() in a loop ->
 * probe_close() (detaches by closing the attachment fds).
 * All functions log their errors and return -errno (or -1) on failure.
 */
#ifndef SENTINEL_PROBE_H
#define SENTINEL_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum probe_transport_kind { PROBE_RINGBUF = 1, PROBE_PERF = 2 };

struct probe_opts {
	int transport;	      /* 0 = auto (ring buffer when the kernel has it), or PROBE_* */
	unsigned ringbuf_kib; /* ring buffer size, power of two */
	unsigned perf_pages;  /* per-CPU perf buffer pages, power of two */
	unsigned fd_entries;  /* fds map capacity */
	uint32_t self_tgid;   /* never traced */
};

/*
 * Called for every record in kernel order (perf transport: merged by
 * timestamp within each drain). @size is the record's full size: at least
 * sizeof(struct se_record); SE_OPEN/SE_CHDIR are struct se_path_record.
 */
typedef void (*probe_record_fn)(void *ctx, const struct se_record *rec, size_t size);

struct probe;

int probe_open(struct probe **out, const struct probe_opts *opts, probe_record_fn cb, void *ctx);
/* Kernel filter inputs; bump @gen whenever the verdicts change meaning. */
int probe_set_filter(struct probe *p, const struct se_config *cfg, const struct se_comm_key *comms,
		     const uint64_t *comm_masks, size_t n_comms);
int probe_attach(struct probe *p);
/* Waits up to timeout_ms for records, then hands every available one to the
 * callback. Returns the number of records handled or -errno. */
int probe_drain(struct probe *p, int timeout_ms);
/* The verdict user space decided for an fd the kernel reported pending. */
int probe_post_verdict(struct probe *p, uint64_t seq, uint64_t mask, uint32_t gen);
/* Forget the kernel's state for an fd (exit, exec, close_range). */
int probe_forget_fd(struct probe *p, uint32_t tgid, int32_t fd);
/* Kernel counters summed over CPUs, indexed by enum se_counter. */
int probe_read_counters(struct probe *p, uint64_t out[SE_CTR_MAX]);
/* Records the perf transport lost before they were read (0 for ringbuf). */
uint64_t probe_perf_lost(const struct probe *p);
const char *probe_transport_name(const struct probe *p);
unsigned probe_program_count(const struct probe *p);
/* Detaches every program; records already emitted can still be drained. */
void probe_detach(struct probe *p);
void probe_close(struct probe *p);

#endif
