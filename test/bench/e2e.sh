#!/usr/bin/env bash
# End-to-end benchmark: kernel -> agent (gRPC batches) -> detector, on this
# machine. For each rate: loadgen writes for DURATION s (comm wl-bench; the
# agent's rules match only it), then reports delivered vs written, loss (the kernel ring's buffer_full and the
# agent's queue drops),
# agent and detector CPU us per event, and the detector's p50/p99 latency
# from the syscall's kernel timestamp to receipt.
#   bash test/bench/e2e.sh [RATE...]     (0 = flat out; default: 50000 300000 0)
# Needs root and a release build (bash scripts/build.sh release).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD_DIR:-build/release}
PORT=${PORT:-50091}
DURATION=${DURATION:-5}
rates=("$@")
[ "${#rates[@]}" -gt 0 ] || rates=(50000 300000 0)
work=$(mktemp -d /dev/shm/sentinel-e2e.XXXXXX)
det=
agent=
cleanup() {
	[ -n "$agent" ] && kill -KILL "$agent" 2>/dev/null
	[ -n "$det" ] && kill -KILL "$det" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/load"
printf 'rules:\n  - name: load\n    event: file_write\n    match:\n      comms: ["wl-bench"]\n' >"$work/rules.yaml"
printf 'stream:\n  mode: grpc\n  batchSize: 256\ngrpc:\n  endpoint: localhost:%s\n' "$PORT" >"$work/agent.yaml"

# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
field() { grep -oE "(^| )$2=[0-9.]*" "$1" | tail -n 1 | cut -d= -f2; }

printf '| rate (writes/s) | written | at detector | acked | kernel buffer_full | dropped from queue | agent CPU us/event | detector CPU us/event | p50 ms | p99 ms | agent RSS after, ring apart (MiB) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
hz=$(getconf CLK_TCK)
for rate in "${rates[@]}"; do
	"$B/sentinel-detector" --port "$PORT" --metrics-port 0 --summary-interval 0 >/dev/null 2>"$work/det.err" &
	det=$!
	until ss -ltn "sport = :$PORT" | grep -q LISTEN; do sleep 0.05; done
	"$B/sentinel-agent" --config "$work/agent.yaml" --rules "$work/rules.yaml" >/dev/null 2>"$work/agent.err" &
	agent=$!
	until grep -q 'msg="agent ready"' "$work/agent.err"; do sleep 0.05; done
	sleep 0.5
	a0=$(cpu_ticks "$agent")
	d0=$(cpu_ticks "$det")
	"$B/test/bench/sentinel-loadgen" --mode write --bytes 1 --dir "$work/load" --rate "$rate" \
		--duration "$DURATION" --comm wl-bench >"$work/lg.json"
	sleep 1
	a1=$(cpu_ticks "$agent")
	d1=$(cpu_ticks "$det")
	# What stays resident after the burst (freed memory glibc keeps:
	# common/malloc_tune.h), the ring's pages apart.
	rss=$(($(rss_kib "$agent") - $(ring_kib "$agent")))
	kill -TERM "$agent" && wait "$agent"
	agent=
	kill -TERM "$det" && wait "$det"
	det=
	n=$(jq .syscalls "$work/lg.json")
	printf '| %s | %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %.1f |\n' \
		"$([ "$rate" = 0 ] && echo "flat out ($(jq -r '.rate | floor' "$work/lg.json"))" || echo "$rate")" \
		"$n" "$(field "$work/det.err" events)" "$(field "$work/agent.err" acked)" \
		"$(($(field "$work/agent.err" dropped_write_matched) + $(field "$work/agent.err" dropped_write_pending)))" \
		"$(field "$work/agent.err" dropped)" \
		"$(echo "($a1 - $a0) * 1000000 / $hz / $n" | bc -l)" \
		"$(echo "($d1 - $d0) * 1000000 / $hz / $n" | bc -l)" \
		"$(field "$work/det.err" latency_p50_ms)" "$(field "$work/det.err" latency_p99_ms)" \
		"$(echo "$rss / 1024" | bc -l)"
done
