#!/usr/bin/env bash
# What the agent costs programs that create processes and churn fds. Since
# names come from the kernel's objects (issue 14) the probe follows no fork,
# exit, close or dup: what is left is the raw sys_enter/sys_exit programs'
# switch on every syscall (kept as the A/B against the earlier design,
# which recorded forks, exits and a young process's fd changes). Run as
# root, from a release build.
#
#   spawn.sh [--forks N] [--pipes N] [--rounds R]
#
# Two workloads, each timed by sentinel-workload's own wall clock:
#   fork   N times: fork a child that exits at once, wait for it
#   pipes  in a process less than a second old: N times pipe2 + 2 closes
#          (the earlier design recorded these in a process's first second)
# Rows: none (no agent), agent (built-in rules, stdout to /dev/null); with
# AGENT_B set, a second agent binary as row "agent-b" (an A/B of two builds).
# Prints the median of R rounds, rows interleaved, and every run.
#
# Binaries (defaults: build/release of this checkout):
#   AGENT_BIN=.../sentinel-agent WORKLOAD_BIN=.../sentinel-workload AGENT_B=...
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build/release}
AGENT_BIN=${AGENT_BIN:-$BUILD/sentinel-agent}
WORKLOAD_BIN=${WORKLOAD_BIN:-$BUILD/test/tools/sentinel-workload}
AGENT_B=${AGENT_B:-}
FORKS=5000
PIPES=40000
ROUNDS=3

while [ $# -gt 0 ]; do
	case $1 in
	--forks) FORKS=${2:?}; shift ;;
	--pipes) PIPES=${2:?}; shift ;;
	--rounds) ROUNDS=${2:?}; shift ;;
	*) sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || { echo "needs root (BPF)" >&2; exit 1; }
for b in "$AGENT_BIN" "$WORKLOAD_BIN" ${AGENT_B:+"$AGENT_B"}; do
	[ -x "$b" ] || { echo "missing $b (bash scripts/build.sh release)" >&2; exit 1; }
done

WORK=$(mktemp -d /dev/shm/sentinel-spawn.XXXXXX)
AGENT_PID=""
cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

start_agent() {
	"$1" --mode stdout >/dev/null 2>"$WORK/agent.err" &
	AGENT_PID=$!
	for _ in $(seq 1 600); do
		grep -q 'msg="agent ready"' "$WORK/agent.err" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "agent did not start" >&2
	cat "$WORK/agent.err" >&2
	exit 1
}

stop_agent() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID" || { echo "agent exited non-zero" >&2; exit 1; }
	AGENT_PID=""
}

# us_per N WORKLOAD-ARGS...: wall microseconds per iteration of a workload
# that repeats N times (its start-up, ~1 ms, is in it: runs last seconds).
us_per() {
	local n=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$WORKLOAD_BIN" --log /dev/null "$@" >/dev/null
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.2f\n", d / 1000 / n }'
}

run_row() {
	local row=$1 bin=$2
	[ -n "$bin" ] && start_agent "$bin"
	echo "$row fork $(us_per "$FORKS" repeat "$FORKS" fork end end)" >>"$WORK/runs"
	echo "$row pipes $(us_per "$PIPES" repeat "$PIPES" pipe as R W close R close W end)" \
		>>"$WORK/runs"
	[ -n "$bin" ] && stop_agent
	return 0
}

for r in $(seq 1 "$ROUNDS"); do
	run_row none ""
	run_row agent "$AGENT_BIN"
	[ -n "$AGENT_B" ] && run_row agent-b "$AGENT_B"
	echo "round $r done" >&2
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '| row | fork+exit+wait, us/process | pipe2+2 closes (young), us/iteration |\n'
printf '|---|---|---|\n'
for row in none agent ${AGENT_B:+agent-b}; do
	f=$(awk -v r="$row" '$1 == r && $2 == "fork" { print $3 }' "$WORK/runs" | median)
	p=$(awk -v r="$row" '$1 == r && $2 == "pipes" { print $3 }' "$WORK/runs" | median)
	printf '| %s | %s | %s |\n' "$row" "$f" "$p"
done
printf '\nforks=%s pipes=%s rounds=%s; every run (row workload us):\n' "$FORKS" "$PIPES" "$ROUNDS"
cat "$WORK/runs"
