/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the agent's config loader (agent/config.c on
 * common/yamldoc.c). The input is an agent-config.yaml.
 *
 * Invariants (a violation traps):
 *  - a failed load leaves exactly the defaults, and a non-empty message;
 *  - a loaded config is within the documented ranges;
 *  - config_print() (--check) loads back, and prints the same text again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

static char *defaults_text;

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

static void check_ranges(const struct agent_config *c)
{
	FUZZ_CHECK(c->log_level >= LOG_DEBUG && c->log_level <= LOG_ERROR);
	FUZZ_CHECK(c->health.port <= 65535 && c->metrics.port <= 65535);
	FUZZ_CHECK(c->health.detector_grace_s <= 86400);
	FUZZ_CHECK(c->health.max_kernel_drop_ratio >= 0 && c->health.max_kernel_drop_ratio <= 1);
	FUZZ_CHECK(c->health.stall_s >= 1 && c->health.stall_s <= 3600);
	FUZZ_CHECK(c->stream.mode == STREAM_STDOUT || c->stream.mode == STREAM_GRPC);
	FUZZ_CHECK(c->stream.batch_size >= 1 && c->stream.batch_size <= 65536);
	FUZZ_CHECK(c->stream.queue_length >= 1 && c->stream.queue_length <= 16777216);
	FUZZ_CHECK(c->probe.transport >= PROBE_TRANSPORT_AUTO &&
		   c->probe.transport <= PROBE_TRANSPORT_PERF);
	FUZZ_CHECK(pow2(c->probe.ringbuf_kib) && c->probe.ringbuf_kib >= 64 &&
		   c->probe.ringbuf_kib <= 1048576);
	FUZZ_CHECK(pow2(c->probe.perf_pages_per_cpu) && c->probe.perf_pages_per_cpu <= 65536);
	FUZZ_CHECK(c->probe.fd_table_size >= 1024 && c->probe.fd_table_size <= 16777216);
	FUZZ_CHECK(c->probe.drain_interval_ms >= 1 && c->probe.drain_interval_ms <= 1000);
	FUZZ_CHECK(c->health.bind_address && c->metrics.bind_address && c->rules_file &&
		   c->grpc.endpoint && c->grpc.tls.ca_file && c->grpc.tls.cert_file &&
		   c->grpc.tls.key_file);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct agent_config c;

	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	config_defaults(&c);
	FUZZ_PRINT_TO_STRING(defaults_text, config_print, &c);
	config_free(&c);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *printed, *again, err[512];
	struct agent_config c, back;

	memset(err, 'Z', sizeof(err));
	if (config_load_string(&c, text, "<fuzz>", err, sizeof(err))) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		FUZZ_PRINT_TO_STRING(printed, config_print, &c);
		FUZZ_CHECK(strcmp(printed, defaults_text) == 0);
		free(printed);
		config_free(&c);
		free(text);
		return 0;
	}
	check_ranges(&c);
	FUZZ_PRINT_TO_STRING(printed, config_print, &c);
	if (config_load_string(&back, printed, "<printed>", err, sizeof(err))) {
		fprintf(stderr, "printed config does not load: %s\n--- printed:\n%s---\n", err,
			printed);
		FUZZ_CHECK(!"config_print() output loads back");
	}
	check_ranges(&back);
	FUZZ_PRINT_TO_STRING(again, config_print, &back);
	if (strcmp(printed, again) != 0) {
		fprintf(stderr, "--- printed:\n%s--- reloaded and printed:\n%s---\n", printed,
			again);
		FUZZ_CHECK(!"config_print() round trip gives the same text");
	}
	/* Strings must survive exactly, not just print the same. */
	FUZZ_CHECK(strcmp(c.health.bind_address, back.health.bind_address) == 0);
	FUZZ_CHECK(strcmp(c.metrics.bind_address, back.metrics.bind_address) == 0);
	FUZZ_CHECK(strcmp(c.rules_file, back.rules_file) == 0);
	FUZZ_CHECK(strcmp(c.grpc.endpoint, back.grpc.endpoint) == 0);
	FUZZ_CHECK(strcmp(c.grpc.tls.ca_file, back.grpc.tls.ca_file) == 0);
	FUZZ_CHECK(strcmp(c.grpc.tls.cert_file, back.grpc.tls.cert_file) == 0);
	FUZZ_CHECK(strcmp(c.grpc.tls.key_file, back.grpc.tls.key_file) == 0);
	free(again);
	free(printed);
	config_free(&back);
	config_free(&c);
	free(text);
	return 0;
}
