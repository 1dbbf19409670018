#!/usr/bin/env bash
# Footprint of the agent (issue 16): launch -> ready, launch -> first event,
# steady resident memory of every agent process after 2 s of light
# activity (the kernel ring buffer's pages apart: they are kernel memory
# sized by probe.ringBufferKiB and mapped twice), and the compile helper's
# peak (from the agent's "probe built" line: the helper's rusage). In stdout
# and grpc mode (the reference detector on a local port).
#   bash test/bench/footprint.sh [RUNS]      (default 5; the median and every run)
# Needs root and a release build (bash scripts/build.sh release). Not a test:
# figures, for test/bench/README.md and the README.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD_DIR:-build/release}
RUNS=${1:-5}
PORT=${PORT:-50093}
DET_METRICS=${DET_METRICS:-9193}
work=$(mktemp -d /dev/shm/sentinel-footprint.XXXXXX)
agent=
det=
writer=
cleanup() {
	for p in "$writer" "$agent" "$det"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/watched"
printf 'rules:\n  - name: fp\n    event: file_write\n    match:\n      pathPrefixes: ["%s/watched/"]\n' \
	"$work" >"$work/rules.yaml"
printf 'health: {port: 0}\nmetrics: {port: 0}\n' >"$work/stdout.yaml"
printf 'health: {port: 0}\nmetrics: {port: 0}\nstream:\n  mode: grpc\ngrpc:\n  endpoint: localhost:%s\n' \
	"$PORT" >"$work/grpc.yaml"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh
# Resident KiB of @pid and its descendants; the ring buffer's apart.
tree_kib() {
	local total=0 p
	for p in $1 $(pgrep -P "$1" || true); do
		total=$((total + $(rss_kib "$p")))
	done
	echo "$total"
}
det_events() {
	curl -s "http://127.0.0.1:$DET_METRICS/metrics" 2>/dev/null |
		awk '$1 == "sentinel_detector_events_total" { print $2 }'
}
first_event() { # MODE
	if [ "$1" = stdout ]; then
		[ -s "$work/agent.out" ]
	else
		local n
		n=$(det_events)
		[ -n "$n" ] && [ "$n" != 0 ]
	fi
}

declare -A READY FIRST STEADY RING HELPER
run_one() { # MODE
	local mode=$1 t0 ready="" first=""
	if [ "$mode" = grpc ]; then
		"$B/sentinel-detector" --port "$PORT" --metrics-port "$DET_METRICS" --summary-interval 0 \
			>/dev/null 2>"$work/det.err" &
		det=$!
		until ss -ltn "sport = :$PORT" | grep -q LISTEN; do sleep 0.02; done
	fi
	: >"$work/agent.out"
	# A write every 10 ms to a watched file from launch on.
	(while :; do echo x >>"$work/watched/f"; sleep 0.01; done) &
	writer=$!
	t0=$(now_ms)
	"$B/sentinel-agent" --config "$work/$mode.yaml" --rules "$work/rules.yaml" \
		>"$work/agent.out" 2>"$work/agent.err" &
	agent=$!
	for _ in $(seq 1 12000); do
		[ -z "$ready" ] && grep -q 'msg="agent ready"' "$work/agent.err" && ready=$(($(now_ms) - t0))
		[ -z "$first" ] && first_event "$mode" && first=$(($(now_ms) - t0))
		[ -n "$ready" ] && [ -n "$first" ] && break
		kill -0 "$agent" 2>/dev/null || { tail -n 5 "$work/agent.err" >&2; exit 1; }
		sleep 0.005
	done
	sleep 2
	READY[$mode]+="$ready "
	FIRST[$mode]+="$first "
	RING[$mode]+="$(ring_kib "$agent") "
	STEADY[$mode]+="$(($(tree_kib "$agent") - $(ring_kib "$agent"))) "
	HELPER[$mode]+="$(grep -o 'helper_peak_rss_kib=[0-9]*' "$work/agent.err" | cut -d= -f2) "
	kill -KILL "$writer"
	wait "$writer" 2>/dev/null || true
	writer=
	kill -TERM "$agent"
	wait "$agent"
	agent=
	if [ -n "$det" ]; then
		kill -TERM "$det"
		wait "$det"
		det=
	fi
}

for _ in $(seq 1 "$RUNS"); do
	run_one stdout
	run_one grpc
done
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "| mode | launch → ready (ms) | launch → first event (ms) | steady RSS, ring apart (MiB) | ring buffer RSS (MiB) | compile helper peak RSS (MiB) |"
echo "|---|---|---|---|---|---|"
for m in stdout grpc; do
	echo "| $m | $(median <<<"${READY[$m]}") | $(median <<<"${FIRST[$m]}") | $(mib "$(median <<<"${STEADY[$m]}")") | $(mib "$(median <<<"${RING[$m]}")") | $(mib "$(median <<<"${HELPER[$m]}")") |"
done
echo
for m in stdout grpc; do
	echo "$m runs: ready ${READY[$m]}| first ${FIRST[$m]}| steady KiB ${STEADY[$m]}| ring KiB ${RING[$m]}| helper KiB ${HELPER[$m]}"
done
