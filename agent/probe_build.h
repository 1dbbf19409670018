/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe_build: the compile, in sentinel-probe-build only (it links libbcc;
 * the agent must not). Checks BPF access and picks the transport, finds
 * struct offsets (BTF first, headers only without it), compiles the
 * embedded BPF text with libbcc, loads every program (the verifier's log
 * on stderr when one is refused) and fills the tail-call array. Errors are
 * logged with what to do.
 */
#ifndef SENTINEL_PROBE_BUILD_H
#define SENTINEL_PROBE_BUILD_H

#include "handoff.h"
#include "probe_spawn.h"

/*
 * Builds the probe for @o into @h: the programs' fds and the maps' (the
 * maps' owned by the module *@mod). 0, or -errno (logged); on failure no
 * program fd is left open. Either way release both with probe_build_free.
 */
int probe_build(const struct probe_build_opts *o, struct handoff *h, void **mod);
/* Closes @h's program fds and frees @mod (NULL: nothing), with the maps'. */
void probe_build_free(struct handoff *h, void *mod);

#endif
