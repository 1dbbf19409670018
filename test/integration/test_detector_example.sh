#!/usr/bin/env bash
# docs/examples/detector.py, built with exactly the commands of
# docs/write-a-detector.md, against a real agent: every event acknowledged
# (the agent's summary: acked = events, nothing unanswered, never stalled),
# the change under a sensitive prefix an anomaly in both the detector's
# output and the agent's log, readiness ok.
# Run as root: test_detector_example.sh AGENT
set -uo pipefail
AGENT=$(readlink -f "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=metrics.sh
. "$(dirname "$0")/metrics.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=50074
DET_PID=

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root (BPF)"; exit 1; }
for t in protoc /usr/bin/grpc_python_plugin /usr/bin/python3 curl jq; do
	command -v "$t" >/dev/null || { echo "test_detector_example needs $t"; exit 1; }
done

cleanup_example() {
	if [ -n "$DET_PID" ]; then kill -KILL "$DET_PID" 2>/dev/null; fi
	cleanup_all
}
trap cleanup_example EXIT

t_example() {
	new_case example
	local n acked
	mkdir -p "$D/gen" "$D/w/secret"
	# The page's commands, from the repository's root.
	if ! (cd "$ROOT" && protoc --python_out="$D/gen" --grpc_python_out="$D/gen" \
		--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
		-I proto -I /usr/include proto/events.proto) 2>"$D/protoc.err"; then
		fail "example: protoc as the page says" "$(cat "$D/protoc.err")"
		return
	fi
	(cd "$ROOT" && PYTHONPATH=$D/gen exec /usr/bin/python3 docs/examples/detector.py \
		--port "$PORT" --bind 127.0.0.1 --sensitive "$D/w/secret/") \
		>"$D/det.out" 2>"$D/det.err" &
	DET_PID=$!
	wait_listening "$PORT" "$DET_PID" "$D/det.err" || {
		fail "example: the detector listens" "$(cat "$D/det.err")"
		return
	}
	printf 'rules:\n  - {name: w, event: file_write, match: {pathPrefixes: ["%s/w/"]}}\n' \
		"$D" >"$D/rules.yaml"
	printf '%s\n' 'health: {port: 0, bindAddress: 127.0.0.1}' \
		'metrics: {port: 0, bindAddress: 127.0.0.1}' 'stream: {mode: grpc, batchSize: 16}' \
		"grpc: {endpoint: \"127.0.0.1:$PORT\", ackTimeoutSeconds: 2}" >"$D/agent.yaml"
	AGENT_MODE=grpc start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" || {
		fail "example: agent starts"
		return
	}
	agent_ports "$D"
	wait_for "the agent ready" 20 grep -q 'msg="agent ready"' "$D/agent.err" ||
		fail "example: the agent is ready with the example detector"
	for i in $(seq 1 100); do echo "$i" >"$D/w/f$i"; done
	echo planted >"$D/w/secret/key"
	wait_for "an anomaly from the example" 20 grep -q '"type": "anomaly"' "$D/det.out" ||
		fail "example: the detector prints the anomaly"
	check "example: all 101 events acknowledged" 101 \
		"$(settle_sum "sentinel_agent_grpc_acked_total{" 101)"
	check "example: never stalled" 0 "$(metric sentinel_agent_grpc_ack_stalled)"
	stop_agent "$D" || return
	kill -TERM "$DET_PID"
	wait "$DET_PID"
	check "example: the detector exits 0 on SIGTERM" 0 "$?"
	DET_PID=
	check "example: exactly the planted file is an anomaly" \
		"file_write $D/w/secret/key sensitive_path_change: $D/w/secret/key" \
		"$(jq -r 'select(.type == "anomaly") | "\(.event_type) \(.filename) \(.reason)"' "$D/det.out")"
	n=$(grep -c 'msg="detector: anomaly"' "$D/agent.err")
	check "example: the agent logs the detector's anomaly" 1 "$n"
	acked=$(grep 'msg="grpc sink stopped"' "$D/agent.err" | tr ' ' '\n' | sed -n 's/^acked=//p')
	check "example: the agent's summary: 101 acked, nothing unanswered" "101 0" \
		"$acked $(grep 'msg="grpc sink stopped"' "$D/agent.err" | tr ' ' '\n' | sed -n 's/^unacked=//p')"
	check "example: no gap reported (nothing lost)" 0 "$(grep -c '"type": "gap"' "$D/det.out")"
	check "example: no warning or error from the agent" "" \
		"$(sed -n '/msg="agent running"/,$p' "$D/agent.err" | grep -E 'level=(warn|error)' |
			grep -v 'msg="detector: anomaly"')"
}

run_cases t_example
finish
