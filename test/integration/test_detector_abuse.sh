#!/usr/bin/env bash
# The detector under hostile traffic on its gRPC port: random bytes,
# truncated HTTP/2, valid gRPC carrying invalid protobuf, 100 MB messages,
# thousands of idle connections, more streams than allowed, file descriptors
# running out. Meanwhile a well-behaved client must get every answer, and
# afterwards the detector must still serve, stay within a memory bound and
# exit 0 on SIGTERM. The caps (message size, streams, gRPC memory) are
# checked at their defaults and configured. No root needed.
# Run: test_detector_abuse.sh DETECTOR LEGACY_CLIENT
# Needs: /usr/bin/python3 with grpcio (Debian python3-grpcio), curl.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DETECTOR LEGACY_CLIENT" >&2; exit 2; }
DETECTOR=$(readlink -f "$1")
LEGACY=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
ABUSE=$HERE/../tools/detector_abuse.py
PY=/usr/bin/python3
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=metrics.sh
. "$HERE/metrics.sh"

command -v curl >/dev/null || { echo "detector abuse tests need curl"; exit 1; }
"$PY" -c 'import grpc' 2>/dev/null || { echo "detector abuse tests need python3-grpcio"; exit 1; }

# Thousands of client sockets in this script's children, and as many
# accepted ones in the detector (it raises its soft limit to the hard one).
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# ASan's quarantine keeps up to 256 MB of freed memory resident: RSS would
# measure ASan, not the detector. Harmless without ASan.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

DET_PID=
BG_PIDS=()
GPORT=
MPORT=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup_abuse() {
	local p
	for p in "${BG_PIDS[@]}" "$DET_PID"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	cleanup_all
}
trap cleanup_abuse EXIT

# start_detector DIR [VAR=value...] [args...]: gRPC on a free port (GPORT),
# metrics on MPORT (0: none); waits until it listens.
start_detector() {
	local dir=$1 a envs=() args=()
	shift
	for a in "$@"; do
		case "$a" in
		[A-Z]*=*) envs+=("$a") ;;
		*) args+=("$a") ;;
		esac
	done
	: >"$dir/det.err"
	env "${envs[@]}" "$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-bind 127.0.0.1 \
		--metrics-port "${MPORT:-0}" --summary-interval 0 "${args[@]}" \
		>>"$dir/det.out" 2>>"$dir/det.err" &
	DET_PID=$!
	wait_for "the detector to listen" 10 det_listening_or_exited "$dir"
	! exited "$DET_PID" && det_listening "$dir" && return 0
	cat "$dir/det.err" >&2
	return 1
}

# det_listening DIR: DIR/det.err has the gRPC port (into GPORT) and, with
# MPORT set, the metrics listening line
det_listening() {
	GPORT=$(sed -n 's/.*msg="detector listening".* port=\([0-9]*\) .*/\1/p' "$1/det.err")
	[ -n "$GPORT" ] || return 1
	[ "${MPORT:-0}" = 0 ] || grep -q 'msg="metrics listening"' "$1/det.err"
}

det_listening_or_exited() { # DIR
	det_listening "$1" || exited "$DET_PID"
}

# det_fds: how many fds the detector has open
det_fds() {
	find "/proc/$DET_PID/fd" -mindepth 1 | wc -l
}

fds_over() { # N
	[ "$(det_fds)" -gt "$1" ]
}

# vm FIELD: VmRSS or VmHWM of the detector, in MiB
vm() {
	awk -v f="$1:" '$1 == f { printf "%d\n", $2 / 1024 }' "/proc/$DET_PID/status"
}

abuse() {
	"$PY" "$ABUSE" "$1" --target "127.0.0.1:$GPORT" "${@:2}"
}

legacy() {
	"$LEGACY" --target "127.0.0.1:$GPORT" --timeout-s 60 "$@" 2>/dev/null
}

metric() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
		awk -v s="$1 " 'index($0, s) == 1 { print $NF }'
}

# jqc FILTER JSON: one compact value
jqc() {
	jq -c "$1" <<<"$2"
}

# wait_line FILE: up to 30 s for FILE to have a first line
wait_line() {
	wait_for "a first line in $1" 30 test -s "$1"
}

# streams_once DIR OPEN: a raw HTTP/2 client opens OPEN streams at once on
# one connection; prints its report, then lets go of the connection.
streams_once() {
	local p
	rm -f "$1/streams.stop" "$1/streams.out"
	abuse streams --open "$2" --stop-file "$1/streams.stop" >"$1/streams.out" &
	p=$!
	wait_line "$1/streams.out"
	touch "$1/streams.stop"
	wait "$p"
	head -n 1 "$1/streams.out"
}

# good_start FILE: a well-behaved client in a loop until good_stop, one
# line per run: "TIME EXIT {json} status-line-if-any". Reads and sensitive
# writes alternate.
good_start() {
	GOOD_OUT=$1
	rm -f "$GOOD_OUT.stop"
	(
		i=0
		while [ ! -e "$GOOD_OUT.stop" ]; do
			args=(--count 2000)
			[ $((i % 2)) -eq 1 ] && args+=(--sensitive)
			o=$("$LEGACY" --target "127.0.0.1:$GPORT" --timeout-s 60 "${args[@]}" \
				2>"$GOOD_OUT.err") && r=0 || r=$?
			echo "$(date +%s.%N) $r $o $(grep -o 'status [0-9]*: .*' "$GOOD_OUT.err")"
			i=$((i + 1))
		done
	) >"$GOOD_OUT" &
	GOOD_PID=$!
}

good_stop() {
	touch "$GOOD_OUT.stop"
	wait "$GOOD_PID"
}

# good_ok LINE...: the runs that got all 2000 answers
good_ok() {
	grep -E '^[0-9.]+ 0 \{"sent":2000,"received":2000,"anomalies":(0|2000)\} *$' "$@"
}

# step NAME: notes when each abuse step began, to place a failed run
step() {
	echo "$(date +%s.%N) $1" >>"$D/steps.log"
}

# runs_after FILE T N: at least N runs in FILE began at or after time T (a
# run begins when the one before it ended)
runs_after() {
	[ -n "$2" ] && awk -v t="$2" -v n="$3" 'prev >= t { c++ } { prev = $1 }
		END { exit !(c >= n) }' "$1"
}

# good_report: failed runs, each with the step that was running
good_report() {
	good_ok -v "$GOOD_OUT" | head -n 5 | while read -r t rest; do
		echo "$(awk -v t="$t" '$1 <= t { s = $2 } END { print s }' "$D/steps.log"): $rest"
	done
}

# ---- 1. everything at once against the defaults ----
test_abuse() {
	new_case abuse
	local out d0 d1 rss0 rss1 hwm n p runs good fails bad done_at after overshoot limit stop=$D/stop
	MPORT=$(free_port)
	start_detector "$D" --max-streams 8 || { fail "abuse: detector starts"; return; }
	grep -q 'max_message_bytes=4194304 max_streams=8 max_memory_mb=128 ' "$D/det.err" &&
		ok "abuse: the caps in force are logged (message 4 MiB, 8 streams, gRPC memory 128 MiB)" ||
		fail "abuse: the caps in force are logged" "$(head -n 1 "$D/det.err")"
	out=$(legacy --count 1000)
	check "abuse: baseline, 1000 events answered" '{"sent":1000,"received":1000,"anomalies":0}' \
		"$out"
	rss0=$(vm VmRSS)
	d0=$(metric sentinel_detector_decode_errors_total)

	# Held through every later step: 3000 idle connections, half of them
	# after the HTTP/2 preface.
	step idle
	abuse idle --conns 3000 --preface --stop-file "$stop" >"$D/idle.out" &
	BG_PIDS+=($!)
	wait_line "$D/idle.out" || { fail "abuse: idle connections opened"; return; }
	check "abuse: 3000 idle connections open" '{"fails":0,"open":3000}' \
		"$(head -n 1 "$D/idle.out")"
	wait_for "the detector to hold over 3000 fds" 10 fds_over 3000
	n=$(det_fds)
	[ "$n" -gt 3000 ] && ok "abuse: the detector accepted them ($n fds)" ||
		fail "abuse: the detector accepted them" "$n fds"

	# Phase A: protocol abuse. The well-behaved client must get every
	# answer of every run.
	good_start "$D/good-a.out"
	step random
	out=$(abuse random --conns 40 --bytes 8192 --timeout 10)
	check "random bytes: every connection closed by the detector (half after a valid preface)" \
		'{"closed":40,"conns":40,"with_preface":20,"with_preface_closed":20}' "$out"

	step truncated
	out=$(abuse truncated --timeout 10)
	check "truncated HTTP/2: every connection closed (7 cases)" \
		'{"cases":7,"closed":7,"not_closed":[]}' "$out"

	step garbage
	out=$(abuse garbage --count 300 --seed 7)
	check "invalid protobuf: INVALID_ARGUMENT from each of the 4 methods" \
		"INVALID_ARGUMENT 4" "$(jq -r '[.per_method[]] | "\(unique | join(",")) \(length)"' \
			<<<"$out")"
	check "invalid protobuf: a valid envelope before it is still answered" \
		'{"answers":1,"status":"INVALID_ARGUMENT"}' "$(jqc .valid_then_bad "$out")"
	check "invalid protobuf: an unknown method is UNIMPLEMENTED" '"UNIMPLEMENTED"' \
		"$(jqc .unknown_method "$out")"
	check "invalid protobuf: 300 random messages end their calls with INVALID_ARGUMENT or OK only" \
		300 "$(jq '[.random | to_entries[] | select(.key == "INVALID_ARGUMENT" or .key == "OK")
			| .value] | add' <<<"$out")"
	n=$(jq .invalid_argument <<<"$out")
	if legacy --garbage >/dev/null; then
		n=$((n + 1))
	else
		fail "invalid protobuf: sentinel-legacy-client --garbage gets INVALID_ARGUMENT"
	fi
	d1=$(settle sentinel_detector_decode_errors_total $((d0 + n)) 50)
	check "invalid protobuf: decode_errors_total counts each one" "$((d0 + n))" "$d1"

	step size-cap
	out=$(abuse big --size 4000000 --valid)
	check "4 MiB default cap: a 4,000,000-byte envelope is answered" '1 {"OK":1}' \
		"$(jq -r '"\(.answers) \(.status | tojson)"' <<<"$out")"
	out=$(abuse big --size 4300000 --valid)
	check "4 MiB default cap: a 4,300,000-byte envelope is RESOURCE_EXHAUSTED" \
		'{"RESOURCE_EXHAUSTED":1}' "$(jqc .status "$out")"

	# The stream cap, 8 per connection: at the cap, all are served; past
	# it (a client ignoring the advertised SETTINGS), gRPC 1.51 closes that
	# connection as a protocol error (newer versions refuse the extra
	# streams): either way no stream beyond the cap is served.
	step streams
	abuse streams --open 8 --stop-file "$stop" >"$D/streams8.out" &
	BG_PIDS+=($!)
	wait_line "$D/streams8.out" || fail "streams: the at-cap client reports"
	check "streams: 8 streams on one connection (the cap, advertised) are all served" \
		'{"advertised_max":8,"eof":false,"served":8}' \
		"$(head -n 1 "$D/streams8.out" | jq -c '{advertised_max, eof, served}')"
	n=$(metric sentinel_detector_streams_active)
	[ "${n:-0}" -ge 8 ] && ok "streams: streams_active counts them ($n)" ||
		fail "streams: streams_active counts them" "$n"
	out=$(streams_once "$D" 20)
	if [ "$(jq '.served == 0 and (.eof or .refused >= 12)' <<<"$out")" = true ]; then
		ok "streams: 20 at once past a cap of 8: connection closed or extras refused, none served"
	else
		fail "streams: 20 at once past a cap of 8: connection closed or extras refused" "$out"
	fi
	step queued
	out=$(abuse queued --calls 20 --hold 0.3)
	check "streams: a grpcio client with 20 calls on one channel waits for slots, all answered" \
		'{"answers":20,"status":{"OK":20}}' "$(jq -c '{answers, status}' <<<"$out")"
	step end-a
	good_stop
	runs=$(wc -l <"$D/good-a.out")
	good=$(good_ok -c "$D/good-a.out")
	if [ "$runs" -ge 3 ] && [ "$good" -eq "$runs" ]; then
		ok "well-behaved client during protocol abuse, 3000 idle connections: $runs runs, all answered"
	else
		fail "well-behaved client during protocol abuse: every answer" \
			"runs=$runs complete=$good" "$(GOOD_OUT=$D/good-a.out good_report)"
	fi

	# Phase B: memory. gRPC reads a whole message before checking its size,
	# so huge messages are held back by the gRPC memory budget alone: over
	# it, gRPC resets streams and closes connections, and it picks which.
	# A well-behaved client may lose a stream then (RESOURCE_EXHAUSTED; an
	# agent re-sends what was unanswered), and must be served again at once.
	good_start "$D/good-b.out"
	step big
	out=$(abuse big --size $((100 << 20)) --timeout 60)
	check "100 MB message: RESOURCE_EXHAUSTED" '{"RESOURCE_EXHAUSTED":1}' "$(jqc .status "$out")"
	step big-x6
	out=$(abuse big --size $((100 << 20)) --parallel 6 --timeout 60)
	check "six 100 MB messages at once: all refused" '{"RESOURCE_EXHAUSTED":6}' \
		"$(jqc .status "$out")"
	step big-done
	hwm=$(vm VmHWM)
	# Without the budget (--max-memory-mb 0) this peaked at 565 MiB here
	# (ASan) and 502 MiB (release); ten at once, 753 MiB (release). With
	# it, 332-368 MiB in 10 runs. gRPC enforces the budget asynchronously
	# (its reclaimer resets streams after the allocation), so a reclaimer
	# starved of CPU lets a burst overshoot: once, in a CI run, 547 MiB.
	# Then the burst is measured again, alone, on a fresh detector below:
	# a budget not applied at all overshoots both times.
	overshoot=
	if [ "$hwm" -lt 420 ]; then
		ok "six 100 MB messages at once: peak RSS ${hwm} MiB < 420 MiB (gRPC memory 128 MiB)"
	else
		overshoot=$hwm
		note "six 100 MB messages at once, under load: peak RSS ${hwm} MiB, over 420 MiB" \
			"(gRPC's reclaimer fell behind); measured again on a fresh detector"
	fi
	# A few more runs after the pressure: two begun after it.
	wait_for "two runs begun after the pressure" 60 runs_after "$D/good-b.out" \
		"$(awk '$2 == "big-done" { print $1 }' "$D/steps.log")" 2 ||
		fail "well-behaved client: two runs begun after the pressure" \
			"$(tail -n 3 "$D/good-b.out")"
	step end-b
	good_stop
	runs=$(wc -l <"$D/good-b.out")
	good=$(good_ok -c "$D/good-b.out")
	fails=$((runs - good))
	# Failed runs: only what gRPC does for memory, a stream reset (status
	# 8) or a closed connection (14, UNAVAILABLE: seen once in CI as
	# "Broken pipe" on the run after a reset); the last run complete.
	bad=$(good_ok -v "$D/good-b.out" | grep -Ecv ' status (8|14): ')
	if [ "$bad" -eq 0 ] && [ "$good" -ge 3 ] && tail -n 1 "$D/good-b.out" | good_ok -q; then
		ok "well-behaved client, 100 MB messages: $runs runs, $fails lost to memory, last complete"
	else
		fail "well-behaved client during the 100 MB messages: only memory resets, last run complete" \
			"runs=$runs complete=$good" "$(GOOD_OUT=$D/good-b.out good_report)"
	fi
	# Served again at once: every run that began after the last huge
	# message was refused is complete. (While six 100 MB messages are in
	# flight the pressure can outlast one 2000-event run; that is gRPC's
	# choice and the agent re-sends.)
	done_at=$(awk '$2 == "big-done" { print $1 }' "$D/steps.log")
	after=$(awk -v t="$done_at" 'prev >= t { n++; if ($2 != 0) bad++ } { prev = $1 }
		END { printf "%d %d\n", n, bad }' "$D/good-b.out")
	if [ "${after% *}" -ge 1 ] && [ "${after#* }" -eq 0 ]; then
		ok "well-behaved client: all ${after% *} runs begun after the pressure complete"
	else
		fail "well-behaved client: runs begun after the pressure complete" \
			"runs after / failed: $after" "$(GOOD_OUT=$D/good-b.out good_report)"
	fi

	touch "$stop"
	for p in "${BG_PIDS[@]}"; do wait "$p"; done
	BG_PIDS=()
	echo "     idle connections still open at the end: $(tail -n 1 "$D/idle.out")" \
		"(gRPC closes connections to stay within its memory budget)"
	out=$(legacy --count 1000 --sensitive)
	check "after the abuse: 1000 events answered" '{"sent":1000,"received":1000,"anomalies":1000}' \
		"$out"
	rss1=$(vm VmRSS)
	hwm=$(vm VmHWM)
	echo "     RSS: ${rss0} MiB at start, ${rss1} MiB after, peak ${hwm} MiB"
	# After an overshoot ASan's allocator keeps the peak resident: then the
	# RSS must not have grown past it.
	limit=420
	[ -n "$overshoot" ] && limit=$((overshoot + 16))
	if [ "$rss1" -lt "$limit" ]; then
		ok "after the abuse: RSS ${rss1} MiB < ${limit} MiB"
	else
		fail "after the abuse: RSS ${rss1} MiB < ${limit} MiB"
	fi
	check "after the abuse: /healthz" ok "$(curl -sf --max-time 5 "http://127.0.0.1:$MPORT/healthz")"
	if stop_detector; then
		ok "abuse: detector exits 0 on SIGTERM"
	else
		fail "abuse: detector exits 0 on SIGTERM" "$(tail -n 3 "$D/det.err")"
	fi
	grep -q 'msg="detector stopped"' "$D/det.err" || fail "abuse: summary line on SIGTERM"
	[ -z "$overshoot" ] || burst_again "$overshoot"
}

# burst_again PEAK: six 100 MB messages at once on a fresh detector with the
# default budget and nothing else going on, after a loaded burst reached PEAK.
burst_again() {
	local out hwm
	MPORT=0
	start_detector "$D" || { fail "burst again: detector starts"; return; }
	out=$(abuse big --size $((100 << 20)) --parallel 6 --timeout 60)
	hwm=$(vm VmHWM)
	if [ "$hwm" -lt 420 ]; then
		ok "six 100 MB messages at once: peak RSS ${hwm} MiB < 420 MiB on a fresh detector (under load: $1 MiB)"
	else
		fail "six 100 MB messages at once: peak RSS ${hwm} MiB < 420 MiB on a fresh detector (under load: $1 MiB)" "$out"
	fi
	stop_detector || fail "burst again: detector exits 0 on SIGTERM"
}

# ---- 2. the caps, configured ----
test_configured() {
	new_case configured
	local out hwm
	MPORT=0
	start_detector "$D" DETECTOR_MAX_MEMORY_MB=32 --max-message-bytes 65536 --max-streams 2 ||
		{ fail "configured: detector starts"; return; }
	grep -q 'max_message_bytes=65536 max_streams=2 max_memory_mb=32 ' "$D/det.err" &&
		ok "configured: caps from --max-message-bytes, --max-streams, DETECTOR_MAX_MEMORY_MB" ||
		fail "configured: caps logged" "$(head -n 1 "$D/det.err")"
	out=$(abuse big --size 60000 --valid)
	check "configured: a 60,000-byte envelope is answered under a 65,536-byte cap" \
		'1 {"OK":1}' "$(jq -r '"\(.answers) \(.status | tojson)"' <<<"$out")"
	out=$(abuse big --size 70000 --valid)
	check "configured: a 70,000-byte envelope is RESOURCE_EXHAUSTED" '{"RESOURCE_EXHAUSTED":1}' \
		"$(jqc .status "$out")"
	out=$(streams_once "$D" 3)
	if [ "$(jq '.advertised_max == 2 and .served == 0 and (.eof or .refused >= 1)' \
		<<<"$out")" = true ]; then
		ok "configured: 3 streams past a cap of 2: none served"
	else
		fail "configured: 3 streams past a cap of 2: none served" "$out"
	fi
	out=$(abuse big --size $((100 << 20)) --parallel 6 --timeout 60)
	# Over the budget gRPC resets streams (RESOURCE_EXHAUSTED) or, now and
	# then, the whole connection (UNAVAILABLE).
	check "configured: six 100 MB messages at once: all refused" 6 \
		"$(jq '[.status | to_entries[] | select(.key == "RESOURCE_EXHAUSTED" or
			.key == "UNAVAILABLE") | .value] | add' <<<"$out")"
	hwm=$(vm VmHWM)
	if [ "$hwm" -lt 150 ]; then
		ok "configured: peak RSS ${hwm} MiB < 150 MiB with gRPC memory 32 MiB"
	else
		fail "configured: peak RSS ${hwm} MiB < 150 MiB with gRPC memory 32 MiB"
	fi
	check "configured: still serving" '{"sent":500,"received":500,"anomalies":0}' \
		"$(legacy --count 500)"
	stop_detector && ok "configured: detector exits 0 on SIGTERM" ||
		fail "configured: detector exits 0 on SIGTERM"

	local bad p rc envs args
	for bad in "--max-memory-mb -1" "--max-memory-mb 2000000" "--max-message-bytes 10" \
		"--max-streams 0" "DETECTOR_MAX_MEMORY_MB=lots"; do
		envs=() args=()
		case "$bad" in
		-*) read -ra args <<<"$bad" ;;
		*) envs=("$bad") ;;
		esac
		env "${envs[@]}" "$DETECTOR" --port 0 --metrics-port 0 "${args[@]}" \
			>/dev/null 2>"$D/bad.err" &
		p=$!
		rc=0
		wait_for "the detector with '$bad' to exit" 5 exited "$p"
		kill -KILL "$p" 2>/dev/null
		wait "$p" || rc=$?
		check "configured: '$bad' is refused at start (exit 1)" 1 "$rc"
	done
}

# ---- 3. out of file descriptors ----
# gRPC 1.51 stops accepting for good at the first EMFILE; the detector
# must not linger alive but unreachable: it exits 1 so that it is
# restarted (or, with a gRPC that recovers, keeps accepting).
test_fd_exhaustion() {
	new_case fds
	local rc=0 out alive=1
	MPORT=0
	(
		ulimit -n 256
		exec "$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-port 0 --summary-interval 0
	) >"$D/det.out" 2>"$D/det.err" &
	DET_PID=$!
	wait_for "the detector to listen" 10 det_listening_or_exited "$D"
	det_listening "$D" || { fail "fds: detector starts with 256 fds"; return; }
	grep -q 'max_open_files=256 ' "$D/det.err" && ok "fds: the open files limit is logged" ||
		fail "fds: the open files limit is logged" "$(head -n 1 "$D/det.err")"
	abuse idle --conns 400 --stop-file "$D/stop" >"$D/idle.out" &
	BG_PIDS+=($!)
	wait_line "$D/idle.out"
	# Either outcome is checked below: exited within 10 s, or alive then.
	wait_for "the detector to exit" 10 exited "$DET_PID" 2>/dev/null && alive=0
	touch "$D/stop"
	wait "${BG_PIDS[@]}"
	BG_PIDS=()
	if [ "$alive" -eq 0 ]; then
		wait "$DET_PID" || rc=$?
		DET_PID=
		check "fds: out of fds, gRPC stopped accepting: the detector exits 1" 1 "$rc"
		grep -q 'msg="gRPC stopped accepting connections: exiting"' "$D/det.err" &&
			ok "fds: ... and says why" ||
			fail "fds: ... and says why" "$(tail -n 3 "$D/det.err")"
	else
		out=$(legacy --count 100)
		check "fds: still alive after running out of fds: it must accept again" \
			'{"sent":100,"received":100,"anomalies":0}' "$out"
		stop_detector || fail "fds: detector exits 0 on SIGTERM"
	fi
}

run_cases test_abuse test_configured test_fd_exhaustion
finish
