#!/usr/bin/env bash
# How fast /healthz, /readyz and /metrics answer while the agent is
# saturated: loadgen writes flat out into a directory a rule forwards to
# stdout (/dev/null), and curl asks each endpoint N times meanwhile.
# Prints p50 / p99 / max in ms per endpoint, then what the agent forwarded
# and lost meanwhile (its summary line), which shows how saturated it was.
# --ring-kib makes the ring buffer small, so that the reader cannot keep up
# and the kernel drops records while the endpoints are asked. Run as root.
#
#   health_latency.sh [--requests N] [--duration S] [--ring-kib K]
#
# Binaries (defaults: build/release of this checkout):
#   AGENT_BIN=.../sentinel-agent LOADGEN_BIN=.../sentinel-loadgen
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build/release}
AGENT_BIN=${AGENT_BIN:-$BUILD/sentinel-agent}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD/test/bench/sentinel-loadgen}
REQUESTS=200
DURATION=30
RING_KIB=16384

while [ $# -gt 0 ]; do
	case $1 in
	--requests) REQUESTS=${2:?}; shift ;;
	--duration) DURATION=${2:?}; shift ;;
	--ring-kib) RING_KIB=${2:?}; shift ;;
	*) sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || { echo "needs root (BPF)" >&2; exit 1; }
for b in "$AGENT_BIN" "$LOADGEN_BIN"; do
	[ -x "$b" ] || { echo "missing $b (bash scripts/build.sh release)" >&2; exit 1; }
done

WORK=$(mktemp -d /dev/shm/sentinel-hl.XXXXXX)
AGENT_PID=""
LG_PID=""
cleanup() {
	[ -n "$LG_PID" ] && kill "$LG_PID" 2>/dev/null
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/lg"
cat >"$WORK/rules.yaml" <<EOF
rules:
  - {name: bench, event: file_write, match: {pathPrefixes: ["$WORK/lg/"]}}
EOF
printf 'health: {port: 0, bindAddress: 127.0.0.1}\nmetrics: {port: 0, bindAddress: 127.0.0.1}\n' \
	>"$WORK/agent.yaml"
printf 'probe: {transport: ringbuf, ringBufferKiB: %s}\n' "$RING_KIB" >>"$WORK/agent.yaml"
"$AGENT_BIN" --mode stdout --config "$WORK/agent.yaml" --rules "$WORK/rules.yaml" \
	>/dev/null 2>"$WORK/agent.err" &
AGENT_PID=$!
for _ in $(seq 1 300); do
	grep -q 'msg="agent ready"' "$WORK/agent.err" && break
	sleep 0.05
done
line=$(grep 'msg="health and metrics listening"' "$WORK/agent.err")
HPORT=$(sed -n 's/.* health=[^ ]*:\([0-9]*\).*/\1/p' <<<"$line")
MPORT=$(sed -n 's/.* metrics=[^ ]*:\([0-9]*\).*/\1/p' <<<"$line")

"$LOADGEN_BIN" --mode write --bytes 1 --duration "$DURATION" --dir "$WORK/lg" >"$WORK/lg.json" &
LG_PID=$!
sleep 1

# time_ms URL: one request's total time in ms
time_ms() {
	curl -s -o /dev/null --max-time 5 -w '%{time_total}\n' "$1" | awk '{ printf "%.3f\n", $1 * 1000 }'
}

printf '| endpoint | requests | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n'
for ep in "$HPORT/healthz" "$HPORT/readyz" "$MPORT/metrics"; do
	for _ in $(seq 1 "$REQUESTS"); do
		time_ms "http://127.0.0.1:$ep"
	done | sort -n | awk -v ep="/${ep#*/}" '{ v[NR] = $1 }
	END {
		p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
		printf "| %s | %d | %.2f | %.2f | %.2f |\n", ep, NR, p50, p99, v[NR]
	}'
done
kill "$LG_PID" 2>/dev/null
wait "$LG_PID" 2>/dev/null || true
LG_PID=
kill -TERM "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null || true
AGENT_PID=
echo
echo "load during the requests: $(jq -r '"\(.syscalls) writes in \(.seconds) s"' "$WORK/lg.json")"
# The agent's own counts over its whole run (the requests and the load).
grep -E 'msg="?stopped"? ' "$WORK/agent.err" | tr ' ' '\n' |
	grep -E '^(seen|forwarded|dropped_buffer)=' | paste -sd ' ' |
	sed 's/^/agent (ring buffer '"$RING_KIB"' KiB): /'
