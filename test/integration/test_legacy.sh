#!/usr/bin/env bash
# Wire compatibility with detectors written for the ORIGINAL Python project:
# test/legacy/detector.py serves test/legacy/events_v0.proto (no seq, no
# StreamEventBatches). The agent must fall back to StreamEvents once, deliver
# the workload's events exactly, count the old responses (matched by
# event_id) as acknowledgements, and log the detector's anomalies. The
# detector also refuses one event every time (it ends the stream
# INVALID_ARGUMENT on it): the agent must find it, drop and count it, and
# deliver what follows.
# Run as root: test_legacy.sh AGENT WORKLOAD
# Needs: jq, protoc, /usr/bin/grpc_python_plugin, /usr/bin/python3 with grpc
# (Debian: python3-grpcio python3-protobuf protobuf-compiler
# protobuf-compiler-grpc).
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 AGENT WORKLOAD" >&2; exit 2; }
AGENT=$(readlink -f "$1")
WORKLOAD=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
LEGACY=$(cd "$HERE/../legacy" && pwd)
LSAN_SUPP=$(cd "$HERE/.." && pwd)/lsan.supp
PY=/usr/bin/python3
PLUGIN=/usr/bin/grpc_python_plugin

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root (BPF)"; exit 1; }
for t in jq protoc "$PLUGIN" "$PY"; do
	command -v "$t" >/dev/null || { echo "test_legacy needs $t"; exit 1; }
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"
DET_PID=
TMP=$TMP_ROOT

# Only the processes this script started, by pid; lib.sh's cleanup_all
# takes the agent and the scratch directory.
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [ -n "$DET_PID" ]; then kill -KILL "$DET_PID" 2>/dev/null; fi
	cleanup_all
}
trap cleanup EXIT

# Show what the processes said, then give up on the rest of the run.
abort() {
	fail "$1"
	for f in "$TMP/detector.err" "$TMP/agent.err"; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	finish
	exit 1
}

# --- detector (code generated from the v0 contract, at test time) ---
mkdir -p "$TMP/gen" "$TMP/data"
protoc --python_out="$TMP/gen" --grpc_python_out="$TMP/gen" \
	--plugin=protoc-gen-grpc_python="$PLUGIN" \
	-I "$LEGACY" -I /usr/include "$LEGACY/events_v0.proto" 2>"$TMP/protoc.err" ||
	abort "protoc compiles test/legacy/events_v0.proto: $(cat "$TMP/protoc.err")"

DIR=$TMP/data
: >"$TMP/events.jsonl"
# Port 0: the detector takes a free port and says which.
PYTHONPATH="$TMP/gen" "$PY" "$LEGACY/detector.py" --port 0 \
	--events "$TMP/events.jsonl" --sensitive "$DIR/" --refuse refused-by-detector \
	2>"$TMP/detector.err" &
DET_PID=$!
wait_for "the legacy detector's port" 10 \
	logged_or_exited "$TMP/detector.err" '^detector: listening port=[0-9]*$' "$DET_PID"
PORT=$(sed -n 's/^detector: listening port=\([0-9]*\)$/\1/p' "$TMP/detector.err")
[ -n "$PORT" ] || abort "legacy detector starts"
ss -ltnH "sport = :$PORT" | grep -q . || abort "legacy detector listens on port $PORT"

# --- agent ---
printf 'grpc:\n  endpoint: localhost:%s\n' "$PORT" >"$TMP/agent.yaml"
cat >"$TMP/rules.yaml" <<EOF
rules:
  - {name: t, event: file_write, match: {pathPrefixes: ["$DIR/"]}}
  - {name: r, event: file_read, match: {pathPrefixes: ["$DIR/"]}}
EOF
LSAN_OPTIONS=suppressions=$LSAN_SUPP "$AGENT" --mode grpc --config "$TMP/agent.yaml" \
	--rules "$TMP/rules.yaml" >"$TMP/agent.out" 2>"$TMP/agent.err" &
AGENT_PID=$!
wait_for "the agent to be ready" 30 \
	logged_or_exited "$TMP/agent.err" 'msg="agent ready"' "$AGENT_PID"
grep -q 'msg="agent ready"' "$TMP/agent.err" || abort "agent starts in grpc mode"

# --- workload (its log stays outside the traced directory) ---
"$WORKLOAD" --log "$TMP/wl.log" open w "$DIR/a.txt" as A write A 5 write A 7 \
	open r "$DIR/a.txt" as B read B 3 \
	open w "$DIR/refused-by-detector" as C write C 9 write A 11 || abort "workload runs"
WL_PID=$(sed -n 's/^pid=\([0-9]*\)$/\1/p' "$TMP/wl.log")
COMM=sentinel-worklo # the 15-character task comm
expected=$(printf '%s\n' \
	"file_write $DIR/a.txt 5 $COMM $WL_PID" \
	"file_write $DIR/a.txt 7 $COMM $WL_PID" \
	"file_read $DIR/a.txt 3 $COMM $WL_PID" \
	"file_write $DIR/a.txt 11 $COMM $WL_PID")

# The write after the refused one arrives once the agent has dropped it
# (about six refused streams, ~100 ms apart); the checks below fail if not.
wait_for "the 4 events at the legacy detector" 15 lines_ge "$TMP/events.jsonl" '' 4
# Anything late or extra shows up too: the agent drains the kernel and
# waits for the detector's answers before it exits, and the detector (it
# logs each event before answering it) is stopped before the checks.

# --- stop: agent first (flushes, waits for answers), then the detector ---
rc=0
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || rc=$?
AGENT_PID=
check "agent exits 0 on SIGTERM" 0 "$rc"
rc=0
kill -TERM "$DET_PID"
wait "$DET_PID" || rc=$?
DET_PID=
check "legacy detector exits 0 on SIGTERM" 0 "$rc"

# (a) one fallback from StreamEventBatches to StreamEvents
check "agent falls back to StreamEvents exactly once" 1 \
	"$(grep -c 'falling back to StreamEvents' "$TMP/agent.err")"

# (b) exactly the workload's events, in order, exact fields
check "legacy detector receives exactly the workload's events (filename bytes comm pid)" \
	"$expected" \
	"$(jq -r '"\(.event_type) \(.filename) \(.bytes) \(.comm) \(.pid)"' "$TMP/events.jsonl")"
check "every event has a distinct v4 UUID event_id" 4 \
	"$(jq -r '.event_id | select(test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))' \
		"$TMP/events.jsonl" | sort -u | wc -l)"

# (c) responses without seq acknowledge by event_id
stopped=$(grep 'msg="grpc sink stopped"' "$TMP/agent.err")
kv() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$stopped"; }
emitted=$(kv emitted)
acked=$(kv acked)
if [ -z "$stopped" ]; then
	fail 'agent logs msg="grpc sink stopped"'
else
	check "agent emitted the 5 events" 5 "$emitted"
	check "agent: acked = emitted - the refused one (v0 responses matched by event_id)" \
		$((emitted - 1)) "$acked"
	check "agent: the refused event rejected, nothing else dropped or left" "1 0 0" \
		"$(kv rejected) $(kv unacked) $(kv dropped)"
	check "agent: says it isolates, then which event it dropped" "1 1" \
		"$(grep -c 'msg="grpc: the detector refuses what it is sent; sending one event at a time' \
			"$TMP/agent.err") $(grep -c 'level=warn msg="grpc: the detector refused an event every time: dropped it" seq=4 ' \
			"$TMP/agent.err")"
fi

# (d) the detector's verdicts on the two sensitive writes are logged
check 'agent logs msg="detector: anomaly" for the 3 writes delivered (the read is not one)' 3 \
	"$(grep -c 'level=warn msg="detector: anomaly"' "$TMP/agent.err")"
check 'agent logs msg="detector: anomaly" at level warn for those writes' \
	"$(jq -r 'select(.event_type == "file_write") | .event_id' "$TMP/events.jsonl" | sort)" \
	"$(sed -n 's/.* level=warn msg="detector: anomaly" .*event_id=\([^ ]*\) .*reason="sensitive write".*/\1/p' \
		"$TMP/agent.err" | sort)"

if [ "$T_FAIL" -gt 0 ]; then
	echo "--- agent stderr"
	cat "$TMP/agent.err"
	echo "--- detector stderr"
	cat "$TMP/detector.err"
	echo "--- detector events"
	cat "$TMP/events.jsonl"
fi
finish
