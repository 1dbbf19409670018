/* SPDX-License-Identifier: Apache-2.0 */
/*
 * malloc_tune: glibc's allocator settings for a process that moves events
 * between threads (the agent's reader allocates an envelope, its sender
 * frees it; gRPC's buffers of ~80 KiB a batch come and go on both sides).
 *
 * By default glibc returns the free top of a heap to the kernel as soon as
 * it exceeds 128 KiB (then an adaptive value), so at a steady flow of
 * batches every free trims (madvise) and the next allocation faults the
 * same pages back in. Measured flat out (`bash test/bench/e2e.sh 0`, three
 * runs, stop 37): agent 1.63-1.81 -> 1.11-1.16 us CPU per event, detector
 * 1.61-1.64 -> 0.90-0.94 (with GLIBC_TUNABLES trim 16 MiB, mmap 4 MiB).
 *
 * The price: up to MALLOC_TUNE_TRIM bytes of freed memory may stay resident
 * per arena after a burst (steady RSS in test/bench/footprint.sh).
 */
#ifndef SENTINEL_MALLOC_TUNE_H
#define SENTINEL_MALLOC_TUNE_H

/* Blocks below this come from the heap, not a mmap of their own. */
#define MALLOC_TUNE_MMAP (4u << 20)
/* Free memory at a heap's top is given back only beyond this. */
#define MALLOC_TUNE_TRIM (16u << 20)

/* Call first in main(), before any thread starts. Returns 0, or -1 when
 * the C library refused a setting (the process works, only slower). */
int malloc_tune(void);

#endif
