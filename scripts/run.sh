#!/usr/bin/env bash
# The main job on this machine, on embedded defaults: set up, build, start
# the reference detector (localhost:50051) and the agent in grpc mode with
# its built-in rules. Anomalies (e.g. `echo x >> /etc/some-file`) appear as
# JSON lines on stdout from the detector; logs go to stderr. Ctrl-C stops
# both, the agent first (it flushes what it holds to the detector), and
# exits 0 when both stopped cleanly.
# Health: http://localhost:9101/readyz; metrics: :9102/metrics (agent) and
# :9103/metrics (detector).
# Extra arguments go to sentinel-agent (e.g. --rules my-rules.yaml, or
# --mode stdout to print every event instead: then no detector is started).
# SENTINEL_BUILD=asan runs the sanitizer build (the tests do).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${SENTINEL_BUILD:-release}
mode=grpc
prev=
for a in "$@"; do
	case "$a" in
	--mode=*) mode=${a#--mode=} ;;
	*) if [ "$prev" = --mode ]; then mode=$a; fi ;;
	esac
	prev=$a
done
bash scripts/setup.sh
bash scripts/build.sh "$flavour" >&2
det=
if [ "$mode" = grpc ]; then
	# In its own session: Ctrl-C (SIGINT to the terminal's foreground
	# process group) reaches only the agent, which then flushes to a
	# detector that is still there; the trap stops the detector after.
	setsid "build/$flavour/sentinel-detector" &
	det=$!
fi
stop_detector() {
	local rc=0
	[ -n "$det" ] || return 0
	kill -TERM "$det" 2>/dev/null || return 0 # already gone
	wait "$det" || rc=$?
	[ "$rc" -eq 0 ] || echo "run.sh: sentinel-detector exited $rc" >&2
	return "$rc"
}
trap 'stop_detector || true' EXIT
rc=0
"build/$flavour/sentinel-agent" --mode "$mode" "$@" || rc=$?
trap - EXIT
if ! stop_detector && [ "$rc" -eq 0 ]; then rc=1; fi
exit "$rc"
