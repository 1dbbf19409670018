/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podmeta: the Kubernetes pod (name and namespace) a container belongs to,
 * read from the OCI bundle its runtime wrote before the container's first
 * process ran: the "annotations" of config.json.
 *
 *   containerd (CRI)      io.kubernetes.cri.sandbox-name, -sandbox-namespace
 *   CRI-O, podman         io.kubernetes.pod.name, io.kubernetes.pod.namespace
 *
 * No API server and no runtime socket: a file per container, read once and
 * cached by container id. Where the bundle lives is a list of path
 * templates, "{id}" standing for the 64-hex-digit container id that
 * the pipeline takes from the cgroup (containers.h) (config.h, pods.bundlePaths). A container
 * whose bundle has no pod annotations (docker, a plain podman container) is
 * remembered as having no pod; one whose bundle is not found (not mounted,
 * not there yet) or cannot be read as JSON is asked again after
 * PODMETA_RETRY_NS.
 *
 * Annotations are set by whoever creates the pod, so they are checked:
 * a name must be a DNS-1123 subdomain (<= 253 bytes) and a namespace a
 * DNS-1123 label (<= 63), as Kubernetes itself requires; anything else
 * counts as no pod, so no odd byte reaches an envelope from here.
 *
 * One thread (the reader) uses it; nothing here locks.
 */
#ifndef SENTINEL_PODMETA_H
#define SENTINEL_PODMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PODMETA_MAX_PATHS 8
#define PODMETA_NAME_MAX 253
#define PODMETA_NS_MAX 63
/* A bundle not found, or not readable, is looked for again this much later. */
#define PODMETA_RETRY_NS (10ull * 1000000000ull)

struct podmeta_pod {
	char name[PODMETA_NAME_MAX + 1]; /* "" when not known */
	char ns[PODMETA_NS_MAX + 1];
};

/* Bundle reads by what they gave; one per read, not per event. */
enum podmeta_result {
	PODMETA_FOUND = 0, /* pod name and namespace */
	PODMETA_NO_POD,	   /* a bundle without (valid) pod annotations */
	PODMETA_MISSING,   /* no bundle at any path (retried later) */
	PODMETA_INVALID,   /* a bundle that is not a JSON object, or unreadable (retried later) */
	PODMETA_RESULTS
};

struct podmeta_stats {
	uint64_t reads[PODMETA_RESULTS];
};

struct podmeta;

/* A bundle path template: absolute, with exactly one "{id}" (the config
 * loader and podmeta_new() both hold paths to this). */
static inline bool podmeta_path_ok(const char *t)
{
	const char *at = strstr(t, "{id}");

	return t[0] == '/' && at && !strstr(at + 4, "{id}");
}

/*
 * @paths: absolute path templates, each with exactly one "{id}" (copied).
 * @max_entries: containers cached; past it the oldest entry is forgotten
 * (and read again when next needed). Returns 0, -EINVAL for a bad template
 * or count, -ENOMEM.
 */
int podmeta_new(struct podmeta **out, const char *const *paths, size_t n_paths, size_t max_entries);
void podmeta_free(struct podmeta *pm);

/*
 * The pod of container @id (as containers_id() gives it; "" for a
 * process in no container). Never NULL: unknown gives empty strings. The
 * pointer is valid until the next call. @now_ns: CLOCK_MONOTONIC. @pm must
 * not be NULL (a pipeline without pod lookup has none and does not call).
 */
const struct podmeta_pod *podmeta_lookup(struct podmeta *pm, const char *id, uint64_t now_ns);

const struct podmeta_stats *podmeta_stats(const struct podmeta *pm);
size_t podmeta_entries(const struct podmeta *pm);

/*
 * Reads the pod out of a config.json's text (@len bytes, no NUL needed).
 * Returns PODMETA_FOUND, PODMETA_NO_POD or PODMETA_INVALID; @out is
 * emptied unless found.
 */
enum podmeta_result podmeta_parse(const char *text, size_t len, struct podmeta_pod *out);

/* Fills @out from @tmpl with "{id}" replaced; -ENAMETOOLONG if it does not fit. */
int podmeta_bundle_path(const char *tmpl, const char *id, char *out, size_t cap);

#endif
