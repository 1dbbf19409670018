#!/usr/bin/env bash
# scripts/run.sh, the README's main command, as a user runs it: in grpc
# mode the detector and the agent start, events reach the detector, and
# Ctrl-C (SIGINT to the terminal's foreground process group) stops the
# agent first, then the detector, with no warning and exit status 0; in
# stdout mode no detector is started.
# Run as root: test_run.sh AGENT (its build directory's name is the flavour
# run.sh builds and runs, e.g. build/asan/sentinel-agent -> asan).
set -uo pipefail
AGENT=$(readlink -f "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FLAVOUR=$(basename "$(dirname "$AGENT")")
RUN_PID=

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root (BPF)"; exit 1; }
[ "$(dirname "$(dirname "$AGENT")")" = "$ROOT/build" ] ||
	{ echo "test_run: $AGENT is not in $ROOT/build/FLAVOUR"; exit 1; }

cleanup_run() {
	# the whole session run.sh leads: the agent, and the detector's own
	if [ -n "$RUN_PID" ]; then kill -KILL -- -"$RUN_PID" 2>/dev/null; fi
	pkill -KILL -f "^build/$FLAVOUR/sentinel-detector" 2>/dev/null
	cleanup_all
}
trap cleanup_run EXIT

# start_run DIR [run.sh args...]: run.sh in a session of its own (it leads
# its process group, as a shell's foreground job does).
start_run() {
	local dir=$1
	shift
	(cd "$ROOT" && SENTINEL_BUILD=$FLAVOUR exec setsid bash scripts/run.sh "$@") \
		>"$dir/run.out" 2>"$dir/run.err" &
	RUN_PID=$!
}

# ctrl_c DIR: SIGINT to run.sh's process group; its exit status in RC.
ctrl_c() {
	RC=0
	kill -INT -- -"$RUN_PID"
	wait "$RUN_PID" || RC=$?
	RUN_PID=
}

# det_events_ge N: the detector (metrics on :9103, run.sh's) has N events
det_events_ge() {
	local n
	n=$(curl -s --max-time 2 http://127.0.0.1:9103/metrics |
		awk '$1 == "sentinel_detector_events_total" { print $2 }')
	[ "${n:-0}" -ge "$1" ]
}

rules() {
	printf 'rules:\n  - {name: here, event: file_write, match: {pathPrefixes: ["%s/w/"]}}\n' \
		"$1" >"$1/rules.yaml"
	printf 'health: {port: 0}\nmetrics: {port: 0}\n' >"$1/agent.yaml"
	mkdir -p "$1/w"
}

t_grpc() {
	new_case grpc
	rules "$D"
	start_run "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml"
	wait_for "run.sh: the agent ready (its stream to the detector up)" 300 \
		logged_or_exited "$D/run.err" 'msg="agent ready"' "$RUN_PID" ||
		{ fail "grpc: run.sh starts both" "$(tail -n 5 "$D/run.err")"; return; }
	logged "grpc: the detector started" 'msg="detector listening"' "$D/run.err"
	for i in 1 2 3; do echo "$i" >"$D/w/f$i"; done
	wait_for "the 3 events at the detector" 10 det_events_ge 3 ||
		fail "grpc: the events reach the detector"
	ctrl_c
	check "grpc: Ctrl-C: run.sh exits 0" 0 "$RC"
	logged "grpc: the agent stopped first, everything acknowledged" \
		'msg="grpc sink stopped" .*acked=3 .*unacked=0 reconnects=0' "$D/run.err"
	logged "grpc: then the detector" 'msg="detector stopped"' "$D/run.err"
	# The Ctrl-C reached the agent alone (the detector would otherwise stop
	# at the same moment, racing the agent's flush and run.sh's trap).
	check "grpc: Ctrl-C stopped the agent; run.sh then stopped the detector (SIGTERM)" \
		"Interrupt Terminated" \
		"$(grep -o 'msg=stopping signal=[A-Za-z]*' "$D/run.err" | sed 's/.*=//' | paste -sd ' ')"
	check "grpc: a clean stop logs no warning or error" "" \
		"$(sed -n '/msg=stopping/,$p' "$D/run.err" | grep -E 'level=(warn|error)')"
	check "grpc: no detector left" "" "$(pgrep -f "^build/$FLAVOUR/sentinel-detector")"
}

t_stdout() {
	new_case stdout
	rules "$D"
	start_run "$D" --mode stdout --config "$D/agent.yaml" --rules "$D/rules.yaml"
	wait_for "run.sh --mode stdout: the agent ready" 300 \
		logged_or_exited "$D/run.err" 'msg="agent ready"' "$RUN_PID" ||
		{ fail "stdout: run.sh starts the agent" "$(tail -n 5 "$D/run.err")"; return; }
	check "stdout: no detector started" "" \
		"$(grep 'msg="detector' "$D/run.err"; pgrep -f "^build/$FLAVOUR/sentinel-detector")"
	echo x >"$D/w/f"
	wait_for "the event on stdout" 10 grep -q "\"$D/w/f\"" "$D/run.out" ||
		fail "stdout: the event is printed"
	ctrl_c
	check "stdout: Ctrl-C: run.sh exits 0" 0 "$RC"
	check "stdout: a clean stop logs no warning or error" "" \
		"$(sed -n '/msg=stopping/,$p' "$D/run.err" | grep -E 'level=(warn|error)')"
}

run_cases t_grpc t_stdout
finish
