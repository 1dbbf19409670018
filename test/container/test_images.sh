#!/usr/bin/env bash
# Container end to end, with podman: builds docker/agent.Dockerfile and
# docker/detector.Dockerfile, checks what the images hold, then runs them the
# way the Helm chart does (detector as a non-root, read-only container on a
# pod network; agent privileged in the host PID namespace with the node's
# /lib/modules, /usr/src, debugfs and tracefs mounted read-only and its
# ConfigMap as /etc/sentinel-ebpf), writes a file under the host's /etc and
# expects the anomaly in the detector's log.
#
# Run as root: test_images.sh. It runs scripts/setup-containers.sh first
# (podman, base image; idempotent) unless SENTINEL_SKIP_SETUP=1.
# Environment: SENTINEL_IMAGE_TAG (default "test") tags the images
# localhost/sentinel-ebpf/sentinel-{agent,detector}:TAG.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAG=${SENTINEL_IMAGE_TAG:-test}
AGENT_IMAGE=localhost/sentinel-ebpf/sentinel-agent:$TAG
DETECTOR_IMAGE=localhost/sentinel-ebpf/sentinel-detector:$TAG
BASE_IMAGE=localhost/debian:bookworm-slim # scripts/setup-containers.sh makes it
RUN_ID=$$-$RANDOM
NET=sentinel-e2e-$RUN_ID
DET=sentinel-e2e-detector-$RUN_ID
AGENT=sentinel-e2e-agent-$RUN_ID
PROBE=sentinel-e2e-noheaders-$RUN_ID
POD=sentinel-e2e-pod-$RUN_ID
ETC_FILE=/etc/sentinel-e2e-$RUN_ID
WORK=$(mktemp -d /tmp/sentinel-container-e2e.XXXXXX)
# shellcheck source=../checks.sh
. "$ROOT/test/checks.sh"
T0=$SECONDS

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local c
	rm -f "$ETC_FILE"
	if command -v podman >/dev/null 2>&1; then
		for c in "$AGENT" "$PROBE" "$DET" "$POD"; do
			podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
		done
		podman network rm -f "$NET" >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT


# logs CONTAINER: its output so far, stdout and stderr, into $WORK/CONTAINER.log
# (a file, not a pipe: grep -q closing a pipe early fails it under pipefail).
logs() {
	podman logs "$1" >"$WORK/$1.log" 2>&1
}

# wait_log CONTAINER PATTERN TENTHS: until PATTERN is in its log, the
# container exits, or TENTHS tenths of a second pass.
wait_log() {
	for _ in $(seq 1 "$3"); do
		logs "$1"
		grep -q "$2" "$WORK/$1.log" && return 0
		[ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || break
		sleep 0.1
	done
	logs "$1"
	grep -q "$2" "$WORK/$1.log"
}

finish() {
	printf '\n%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
	if [ "$T_FAIL" -eq 0 ]; then
		echo "container e2e: PASS ($((SECONDS - T0)) s)"
		exit 0
	fi
	echo "container e2e: FAIL ($((SECONDS - T0)) s)"
	exit 1
}

# abort REASON: a step the rest depends on failed.
abort() {
	fail "$@"
	finish
}

[ "$(id -u)" -eq 0 ] || { echo "container e2e: FAIL (needs root: BPF, podman)"; exit 1; }

if [ "${SENTINEL_SKIP_SETUP:-0}" != 1 ]; then
	note "scripts/setup-containers.sh"
	bash "$ROOT/scripts/setup-containers.sh" >"$WORK/setup.log" 2>&1 ||
		{ tail -n 20 "$WORK/setup.log"; abort "setup-containers.sh (podman, base image)"; }
fi
if ! command -v podman >/dev/null 2>&1; then
	echo "container e2e: FAIL (podman is not installed: run scripts/setup-containers.sh as root)"
	exit 1
fi

command -v jq >/dev/null 2>&1 || { echo "container e2e: FAIL (jq is not installed: run scripts/setup.sh)"; exit 1; }

version=$(sed -n 's/^project(sentinel-ebpf VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)

# build NAME DOCKERFILE IMAGE: two stages at a time (the agent's runtime
# packages download while the build stage compiles).
build() {
	local t=$SECONDS
	if podman build --pull=never --layers --jobs 2 -f "$ROOT/docker/$2" -t "$3" \
		--build-arg VERSION="${version:-0.0.0}" --build-arg REVISION="$revision" \
		"$ROOT" >"$WORK/build-$1.log" 2>&1; then
		ok "$1 image builds ($((SECONDS - t)) s)"
	else
		tail -n 30 "$WORK/build-$1.log"
		abort "$1 image builds"
	fi
}

# The agent first: the detector's build stage is the same and comes from cache.
build agent agent.Dockerfile "$AGENT_IMAGE"
build detector detector.Dockerfile "$DETECTOR_IMAGE"
podman images --format '# {{.Repository}}:{{.Tag}} {{.Size}}' | grep 'sentinel-ebpf/.*:'"$TAG"

# --- what the images hold -------------------------------------------------

user=$(podman image inspect --format '{{.Config.User}}' "$DETECTOR_IMAGE")
case "$user" in
0 | 0:* | root* | "") fail "detector image: runs as a numeric non-root user" "User=\"$user\"" ;;
[0-9]*) ok "detector image: runs as a numeric non-root user ($user)" ;;
*) fail "detector image: runs as a numeric non-root user" "User=\"$user\" is not numeric" ;;
esac
if podman run --rm --entrypoint /bin/sh "$DETECTOR_IMAGE" -c true >/dev/null 2>&1; then
	fail "detector image: has no shell"
else
	ok "detector image: has no shell"
fi
check "detector image: the binary runs" "sentinel-detector ${version:-0.0.0}" \
	"$(podman run --rm "$DETECTOR_IMAGE" --version 2>&1)"

tools=$(podman run --rm --entrypoint /bin/sh "$AGENT_IMAGE" -c \
	'for t in gcc cc c99 cpp make clang ld as apt-get dpkg perl bash; do command -v "$t"; done; true' 2>&1)
check "agent image: no compiler, assembler, linker, make or distribution" "" "$tools"
# libbcc's fallback when no kernel headers are mounted: modprobe kheaders,
# tar (which runs xz) on /sys/kernel/kheaders.tar.xz, rmmod, rm -rf on failure.
check "agent image: libbcc's kheaders fallback finds its programs" \
	"/bin/tar /usr/bin/xz /bin/rm /usr/sbin/modprobe /usr/sbin/rmmod" \
	"$(podman run --rm --entrypoint /bin/sh "$AGENT_IMAGE" -c \
		'echo $(for t in tar xz rm modprobe rmmod; do command -v "$t"; done)' 2>&1)"
# ... and they run (a .tar.xz made and unpacked as libbcc would).
check "agent image: tar and xz unpack a .tar.xz" "/tmp/usr/share/grpc/roots.pem" \
	"$(podman run --rm --entrypoint /bin/sh "$AGENT_IMAGE" -c \
		'tar -cJf /tmp/a.tar.xz -C / usr/share/grpc && tar -xf /tmp/a.tar.xz -C /tmp 2>&1; echo /tmp/usr/share/grpc/*' 2>&1)"
check "agent image: the binary runs" "sentinel-agent ${version:-0.0.0}" \
	"$(podman run --rm "$AGENT_IMAGE" --version 2>&1)"
for img in "$AGENT_IMAGE" "$DETECTOR_IMAGE"; do
	check "$(basename "${img%%:*}") image: OCI labels" "${version:-0.0.0} Apache-2.0" \
		"$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "org.opencontainers.image.licenses"}}' "$img")"
done

# --- a node: detector Deployment + agent DaemonSet -------------------------

podman network create "$NET" >"$WORK/network.log" 2>&1 ||
	{ cat "$WORK/network.log"; abort "create the pod network $NET"; }

# As detector-deployment.yaml: non-root, read-only root, no capabilities.
t=$SECONDS
podman run -d --name "$DET" --network "$NET" --network-alias sentinel-detector \
	--read-only --cap-drop=ALL --security-opt no-new-privileges \
	-e DETECTOR_PORT=50051 -e DETECTOR_BIND=0.0.0.0 -e DETECTOR_LOG_LEVEL=info \
	-e DETECTOR_SENSITIVE_PREFIXES=/etc,/bin,/usr,/sbin,/boot \
	"$DETECTOR_IMAGE" >"$WORK/run-detector.log" 2>&1 ||
	{ cat "$WORK/run-detector.log"; abort "detector container starts"; }
if wait_log "$DET" 'msg="detector listening"' 100; then
	ok "detector container listens ($((SECONDS - t)) s)"
else
	tail -n 20 "$WORK/$DET.log"
	abort "detector container listens"
fi
pid=$(podman inspect --format '{{.State.Pid}}' "$DET")
check "detector container: the process runs as uid 65532" 65532 \
	"$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)"

# As configmap.yaml renders it: agent-config.yaml and rules.yaml in one directory.
mkdir -p "$WORK/config"
cat >"$WORK/config/agent-config.yaml" <<'EOF'
logLevel: info
rulesFile: /etc/sentinel-ebpf/rules.yaml
stream:
  mode: grpc
  batchSize: 128
  queueLength: 65536
grpc:
  endpoint: "dns:///sentinel-detector:50051"
EOF
cat >"$WORK/config/rules.yaml" <<'EOF'
rules:
  - name: etc-writes
    event: file_write
    match:
      pathPrefixes: ["/etc/"]
  - name: system-binary-writes
    event: file_write
    match:
      pathPrefixes: ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/lib/", "/lib/", "/boot/"]
EOF

# As daemonset.yaml: privileged, host PID, read-only root with a /tmp, the
# node's kernel headers, debugfs and tracefs read-only (HostToContainer), and
# the runtime's bundle directory for pod names (agent.pods.bundlePaths; here
# podman's, the one this machine has, where the chart mounts each default).
BUNDLES=/var/lib/containers/storage/overlay-containers
host_mounts=(
	-v /lib/modules:/lib/modules:ro
	-v "/sys/kernel/debug:/sys/kernel/debug:ro,rslave"
	-v "/sys/kernel/tracing:/sys/kernel/tracing:ro,rslave"
	-v "$BUNDLES:$BUNDLES:ro,rslave"
)
t=$SECONDS
podman run -d --name "$AGENT" --network "$NET" --privileged --pid=host --cgroupns=host \
	--read-only --tmpfs /tmp \
	-e AGENT_CONFIG=/etc/sentinel-ebpf/agent-config.yaml -e NODE_NAME="node-$RUN_ID" \
	-v "$WORK/config:/etc/sentinel-ebpf:ro" -v /usr/src:/usr/src:ro "${host_mounts[@]}" \
	"$AGENT_IMAGE" >"$WORK/run-agent.log" 2>&1 ||
	{ cat "$WORK/run-agent.log"; abort "agent container starts"; }
if wait_log "$AGENT" 'msg="agent ready"' 600; then
	ok "agent container is ready ($((SECONDS - t)) s)"
else
	tail -n 30 "$WORK/$AGENT.log"
	abort "agent container is ready"
fi
headers=$(grep -m 1 'msg="kernel headers"' "$WORK/$AGENT.log")
hpath=$(sed -n 's/.* path=\([^ ]*\).*/\1/p' <<<"$headers")
if [ -n "$hpath" ] && [ -d "$hpath" ] && grep -q " running=$(uname -r)" <<<"$headers"; then
	ok "agent logs the kernel headers it compiled against ($hpath)"
else
	fail "agent logs the kernel headers it compiled against" "line: ${headers:-none}"
fi
note "${headers#*msg=}"

# anomaly_for FILE: the detector container's first anomaly line about FILE,
# waiting up to 10 s for it; empty if none came.
anomaly_for() {
	local line
	for _ in $(seq 1 100); do
		podman logs "$DET" >"$WORK/detector.out" 2>/dev/null
		line=$(grep '^{' "$WORK/detector.out" |
			jq -c --arg f "$1" 'select(.filename == $f)' 2>/dev/null | sed -n 1p)
		[ -n "$line" ] && break
		sleep 0.1
	done
	printf '%s' "$line"
}

# A write under the host's /etc, by a process with a comm of its own.
printf 'sentinel e2e\n' | tee "$ETC_FILE" >/dev/null
rm -f "$ETC_FILE"
line=$(anomaly_for "$ETC_FILE")
if [ -n "$line" ]; then
	ok "a write to $ETC_FILE on the host is an anomaly in the detector container's log"
	note "$line"
else
	fail "a write to $ETC_FILE on the host is an anomaly in the detector container's log" \
		"detector: $(logs "$DET"; tail -n 5 "$WORK/$DET.log")" \
		"agent: $(logs "$AGENT"; tail -n 5 "$WORK/$AGENT.log")"
fi
check "anomaly: path, comm, type, node name and rule" \
	"$ETC_FILE tee file_write node-$RUN_ID true" \
	"$(jq -r '"\(.filename) \(.comm) \(.event_type) \(.hostname) \(.reason | startswith("sensitive_path_write"))"' <<<"${line:-null}" 2>&1)"

# A write in a container that carries the pod annotations CRI-O writes (podman
# keeps its bundles where CRI-O does): the anomaly names the pod, its
# namespace and the container.
pod_file=/etc/sentinel-pod-$RUN_ID
podman run --name "$POD" --network none --cidfile "$WORK/pod.cid" \
	--annotation "io.kubernetes.pod.name=web-$RUN_ID" --annotation io.kubernetes.pod.namespace=shop \
	"$BASE_IMAGE" sh -c "echo x > $pod_file; sleep 0.2" >"$WORK/run-pod.log" 2>&1 ||
	fail "a workload container runs" "$(cat "$WORK/run-pod.log")"
line=$(anomaly_for "$pod_file")
check "a write in a pod's container: the anomaly names pod, namespace and container" \
	"web-$RUN_ID shop $(cat "$WORK/pod.cid" 2>/dev/null)" \
	"$(jq -r '"\(.pod) \(.namespace) \(.container_id)"' <<<"${line:-null}" 2>&1)"
note "${line:-no anomaly}"

# SIGTERM as the kubelet sends it: a clean exit with the summary line.
podman stop -t 15 "$AGENT" >/dev/null 2>&1
check "agent container exits 0 on SIGTERM" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$AGENT")"
logs "$AGENT"
if grep -q 'msg=stopped' "$WORK/$AGENT.log"; then
	ok "agent container prints its summary when stopped"
else
	fail "agent container prints its summary when stopped" "$(tail -n 5 "$WORK/$AGENT.log")"
fi
podman stop -t 15 "$DET" >/dev/null 2>&1
check "detector container exits 0 on SIGTERM" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$DET")"

# --- no /usr/src: the error names the dangling link and what to do ----------

# (Skipped where the kernel carries its own headers, CONFIG_IKHEADERS: libbcc
# would then compile all the same.)
link=$(readlink "/lib/modules/$(uname -r)/build" 2>/dev/null || true)
ikheaders=$(find /sys/kernel/kheaders.tar.xz "/lib/modules/$(uname -r)/kernel/kernel" \
	-maxdepth 1 -name 'kheaders*' 2>/dev/null)
if [[ "$link" == /usr/src/* ]] && [ -z "$ikheaders" ]; then
	podman run --name "$PROBE" --privileged --pid=host --read-only --tmpfs /tmp \
		"${host_mounts[@]}" "$AGENT_IMAGE" --mode stdout >"$WORK/noheaders.out" 2>"$WORK/noheaders.err"
	rc=$?
	if [ "$rc" -ne 0 ] &&
		grep -q "no kernel headers for $(uname -r): install linux-headers-$(uname -r) on the node, or mount the host's /lib/modules and /usr/src" "$WORK/noheaders.err" &&
		grep -qF "/lib/modules/$(uname -r)/build is a dangling symlink to $link" "$WORK/noheaders.err"; then
		ok "without /usr/src the agent exits $rc naming the dangling $link link and what to mount"
	else
		fail "without /usr/src the agent fails naming the dangling link and what to mount" \
			"exit $rc" "$(grep -m 2 'level=error' "$WORK/noheaders.err")"
	fi
else
	skip "agent without /usr/src" \
		"/lib/modules/$(uname -r)/build does not link into /usr/src, or the kernel has CONFIG_IKHEADERS"
fi

finish
