#!/usr/bin/env bash
# The detector's /metrics and /healthz from outside: exact counter deltas
# under known traffic (sentinel-legacy-client), the histogram's invariants,
# HTTP behaviour, and a metrics port already in use. No root needed.
# Run: test_detector_metrics.sh DETECTOR LEGACY_CLIENT
set -uo pipefail
DETECTOR=$(readlink -f "$1")
LEGACY=$(readlink -f "$2")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=metrics.sh
. "$(dirname "$0")/metrics.sh"

command -v curl >/dev/null || { echo "detector metrics tests need curl"; exit 1; }
command -v python3 >/dev/null || { echo "detector metrics tests need python3"; exit 1; }
DET_PID=
GPORT=
MPORT=

cleanup_det_metrics() {
	if [ -n "$DET_PID" ] && kill -0 "$DET_PID" 2>/dev/null; then
		kill -KILL "$DET_PID" 2>/dev/null || true
	fi
	cleanup_all
}
trap cleanup_det_metrics EXIT

# start_detector DIR METRICS_PORT [args...]: gRPC on a free port (GPORT),
# waits for both listening lines.
start_detector() {
	local dir=$1 mport=$2
	shift 2
	: >"$dir/det.err"
	"$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-bind 127.0.0.1 --metrics-port "$mport" \
		--summary-interval 0 "$@" >>"$dir/det.out" 2>>"$dir/det.err" &
	DET_PID=$!
	if wait_log "$dir" 'msg="metrics listening"'; then
		GPORT=$(sed -n 's/.*msg="detector listening".* port=\([0-9]*\) .*/\1/p' \
			"$dir/det.err")
		return 0
	fi
	cat "$dir/det.err" >&2
	return 1
}

# wait_log DIR PATTERN: up to 10 s for PATTERN in DIR/det.err (1 at once if
# the detector exits)
wait_log() {
	wait_for "'$2' in $1/det.err" 10 logged_or_exited "$1/det.err" "$2" "$DET_PID"
	grep -q -- "$2" "$1/det.err"
}

# http PATH [curl args...]: "CODE BODY"
http() {
	local path=$1 out
	shift
	out=$(curl -s --max-time 5 -w '\n%{http_code}' "$@" "http://127.0.0.1:$MPORT$path")
	echo "${out##*$'\n'} ${out%$'\n'*}"
}

legacy() {
	"$LEGACY" --target "127.0.0.1:$GPORT" "$@" 2>/dev/null
}

SENS='sentinel_detector_anomalies_total{reason="sensitive_path_write"}'
HIGH='sentinel_detector_anomalies_total{reason="high_write_bytes"}'
LAT=sentinel_detector_event_latency_seconds

# ---- 1. the exposition at start: every family, at zero ----
test_start() {
	new_case start
	MPORT=$(free_port)
	start_detector "$D" "$MPORT" || { fail "start: detector starts"; return 1; }
	grep -q "msg=\"metrics listening\" bind=127.0.0.1 port=$MPORT " "$D/det.err" &&
		ok "start: 'metrics listening' names the port" ||
		fail "start: 'metrics listening' names the port" "$(grep metrics "$D/det.err")"
	scrape >"$D/m0"
	local fam missing=0
	for fam in 'sentinel_detector_build_info gauge' 'sentinel_detector_events_total counter' \
		'sentinel_detector_anomalies_total counter' 'sentinel_detector_reports_total counter' \
		'sentinel_detector_decode_errors_total counter' \
		'sentinel_detector_streams_opened_total counter' \
		'sentinel_detector_streams_active gauge' "$LAT histogram" \
		'process_cpu_seconds_total counter' 'process_resident_memory_bytes gauge' \
		'process_open_fds gauge' 'process_max_fds gauge' 'process_start_time_seconds gauge'; do
		if ! grep -qxF "# TYPE $fam" "$D/m0" || ! grep -q "^# HELP ${fam% *} [A-Z]" "$D/m0"; then
			fail "start: family $fam" "$(grep -F "${fam% *}" "$D/m0")"
			missing=$((missing + 1))
		fi
	done
	check "start: every family has HELP and TYPE (families missing one)" 0 "$missing"
	grep -qx 'sentinel_detector_build_info{version="[0-9][0-9.]*"} 1' "$D/m0" &&
		ok "start: build_info" || fail "start: build_info" "$(grep build_info "$D/m0")"
	check "start: counters at 0" "0 0 0 0 0 0 0 0 0" "$(for s in \
		sentinel_detector_events_total "$SENS" "$HIGH" sentinel_detector_reports_total \
		sentinel_detector_decode_errors_total sentinel_detector_streams_opened_total \
		sentinel_detector_streams_active "${LAT}_count" "${LAT}_bucket{le=\"+Inf\"}"; do
		mval "$s" <"$D/m0"; done | paste -sd' ')"
	check "start: reasons are the scorer's codes only" 6 \
		"$(grep -c '^sentinel_detector_anomalies_total{' "$D/m0")"
	check "start: 14 latency buckets and +Inf" 15 "$(grep -c "^${LAT}_bucket{le=" "$D/m0")"
	grep -qx "${LAT}_bucket{le=\"0.0005\"} 0" "$D/m0" &&
		grep -qx "${LAT}_bucket{le=\"10\"} 0" "$D/m0" && ok "start: bucket bounds printed plainly" ||
		fail "start: bucket bounds printed plainly" "$(grep "${LAT}_bucket" "$D/m0")"
	[ "$(mval process_resident_memory_bytes <"$D/m0")" -gt 0 ] 2>/dev/null &&
		ok "start: process RSS > 0" || fail "start: process RSS > 0"
}

# ---- 2. HTTP behaviour ----
test_http() {
	check "http: /healthz" "200 ok" "$(http /healthz)"
	check "http: unknown path 404" "404 not found" "$(http /nope)"
	check "http: POST 405" "405 method not allowed" "$(http /metrics -X POST -d x)"
	# curl would not read a body after HEAD: look at the bytes themselves.
	local raw
	raw=$(exec 3<>"/dev/tcp/127.0.0.1/$MPORT" && printf 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&3 &&
		timeout 5 cat <&3 | tr -d '\r'
		echo END) # $() would eat the blank line ending the headers
	check "http: HEAD answers 200" "HTTP/1.1 200 OK" "${raw%%$'\n'*}"
	check "http: HEAD has no body" "END" "${raw#*$'\n\n'}"
	local ct
	ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics")
	check "http: content type" "text/plain; version=0.0.4; charset=utf-8" "$ct"
	local len
	len=$(curl -sI "http://127.0.0.1:$MPORT/metrics" | tr -d '\r' |
		sed -n 's/^Content-Length: //p')
	[ "${len:-0}" -gt 1000 ] && ok "http: HEAD gives Content-Length ($len)" ||
		fail "http: HEAD gives Content-Length" "$len"
}

# ---- 3. exact deltas under known traffic ----
test_deltas() {
	local e0 s0 h0 d0 o0 l0 r0 out
	scrape >"$D/m1"
	e0=$(mval sentinel_detector_events_total <"$D/m1")
	s0=$(mval "$SENS" <"$D/m1")
	h0=$(mval "$HIGH" <"$D/m1")
	d0=$(mval sentinel_detector_decode_errors_total <"$D/m1")
	o0=$(mval sentinel_detector_streams_opened_total <"$D/m1")
	l0=$(mval "${LAT}_count" <"$D/m1")
	r0=$(mval sentinel_detector_reports_total <"$D/m1")
	need "deltas: events_total before" "$e0" && need "deltas: sensitive before" "$s0" &&
		need "deltas: high_write before" "$h0" && need "deltas: reports before" "$r0" || return

	out=$(legacy --count 300)
	check "deltas: 300 reads answered" '{"sent":300,"received":300,"anomalies":0}' "$out"
	check "deltas: events_total +300" $((e0 + 300)) \
		"$(settle sentinel_detector_events_total $((e0 + 300)))"
	check "deltas: reads are no anomalies" "$s0 $h0" "$(metric "$SENS") $(metric "$HIGH")"
	check "deltas: streams_opened +1" $((o0 + 1)) "$(metric sentinel_detector_streams_opened_total)"

	out=$(legacy --count 120 --sensitive)
	check "deltas: 120 sensitive writes answered" '{"sent":120,"received":120,"anomalies":120}' \
		"$out"
	check "deltas: events_total +420" $((e0 + 420)) \
		"$(settle sentinel_detector_events_total $((e0 + 420)))"
	check "deltas: anomalies{sensitive_path_write} +120" $((s0 + 120)) "$(metric "$SENS")"
	check "deltas: anomalies{high_write_bytes} +0 (4096-byte writes)" "$h0" "$(metric "$HIGH")"
	check "deltas: streams_opened +2" $((o0 + 2)) "$(metric sentinel_detector_streams_opened_total)"

	if legacy --garbage >/dev/null; then
		ok "deltas: garbage ends its call with INVALID_ARGUMENT"
	else
		fail "deltas: garbage ends its call with INVALID_ARGUMENT"
	fi
	check "deltas: decode_errors +1" $((d0 + 1)) \
		"$(settle sentinel_detector_decode_errors_total $((d0 + 1)))"
	check "deltas: garbage is no event" $((e0 + 420)) "$(metric sentinel_detector_events_total)"
	check "deltas: streams_opened +3" $((o0 + 3)) "$(metric sentinel_detector_streams_opened_total)"
	check "deltas: streams_active back to 0" 0 "$(settle sentinel_detector_streams_active 0)"
	check "deltas: reports_total unchanged" "$r0" "$(metric sentinel_detector_reports_total)"

	scrape >"$D/m2"
	check "deltas: latency _count +420" $((l0 + 420)) "$(mval "${LAT}_count" <"$D/m2")"
	check "deltas: +Inf bucket = _count" "$(mval "${LAT}_count" <"$D/m2")" \
		"$(mval "${LAT}_bucket{le=\"+Inf\"}" <"$D/m2")"
	check "deltas: latency _count = events_total" "$(mval sentinel_detector_events_total <"$D/m2")" \
		"$(mval "${LAT}_count" <"$D/m2")"
	# cumulative buckets never decrease; the sum is positive and finite
	awk -v p="${LAT}_bucket{" 'index($0, p) == 1 { if ($NF < last) bad = 1; last = $NF }
		END { exit bad }' "$D/m2" && ok "deltas: buckets are cumulative" ||
		fail "deltas: buckets are cumulative" "$(grep "${LAT}_bucket" "$D/m2")"
	awk -v s="${LAT}_sum " 'index($0, s) == 1 { v = $NF + 0; ok = v > 0 && v < 420 * 10 }
		END { exit !ok }' "$D/m2" && ok "deltas: latency _sum sane" ||
		fail "deltas: latency _sum sane" "$(grep "${LAT}_sum" "$D/m2")"
}

# ---- 4. a stream seen while open, and liveness under load ----

# stream_seen PID: streams_active is 1 (then the caller's seen=1, and its
# health from /healthz), or PID, the client, has exited
stream_seen() {
	if [ "$(metric sentinel_detector_streams_active)" = 1 ]; then
		seen=1
		health=$(http /healthz)
		return 0
	fi
	exited "$1"
}

test_active_stream() {
	local pid seen=0 health="" o0 e0
	o0=$(metric sentinel_detector_streams_opened_total)
	e0=$(metric sentinel_detector_events_total)
	legacy --count 20000 >"$D/long.json" &
	pid=$!
	wait_for "streams_active 1 while the long stream runs" 60 stream_seen "$pid"
	wait "$pid" || fail "active: the long stream succeeds"
	check "active: streams_active 1 during a stream" 1 "$seen"
	check "active: /healthz 200 under load" "200 ok" "$health"
	check "active: events_total +20000" $((e0 + 20000)) \
		"$(settle sentinel_detector_events_total $((e0 + 20000)))"
	check "active: streams_opened +1" $((o0 + 1)) "$(metric sentinel_detector_streams_opened_total)"
	check "active: streams_active back to 0" 0 "$(settle sentinel_detector_streams_active 0)"
}

# ---- 5. the metrics port in use, bad options, off ----
test_port_in_use() {
	local rc=0
	timeout 30 "$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-bind 127.0.0.1 \
		--metrics-port "$MPORT" >/dev/null 2>"$D/second.err" || rc=$?
	check "port: a second detector on the metrics port exits 1" 1 "$rc"
	grep -q "^sentinel-detector: metrics server 127.0.0.1:$MPORT: cannot listen (.*Address already in use" \
		"$D/second.err" && ok "port: the error names the address and the cause" ||
		fail "port: the error names the address and the cause" "$(cat "$D/second.err")"
	check "port: the first one still answers" "200 ok" "$(http /healthz)"

	rc=0
	"$DETECTOR" --metrics-port 70000 >/dev/null 2>"$D/bad.err" || rc=$?
	check "port: --metrics-port 70000 exits 1" 1 "$rc"
	grep -q -- "--metrics-port: expected an integer from 0 to 65535, got '70000'" "$D/bad.err" &&
		ok "port: bad --metrics-port explained" || fail "port: bad --metrics-port explained" \
		"$(cat "$D/bad.err")"
	rc=0
	"$DETECTOR" --metrics-bind localhost --metrics-port "$(free_port)" --port 0 \
		>/dev/null 2>"$D/bind.err" || rc=$?
	check "port: --metrics-bind localhost exits 1" 1 "$rc"
	grep -q 'bind address "localhost": expected an IP address' "$D/bind.err" &&
		ok "port: bad --metrics-bind explained" || fail "port: bad --metrics-bind explained" \
		"$(cat "$D/bind.err")"
}

test_stop_and_env() {
	stop_detector && ok "stop: exit 0 on SIGTERM" || fail "stop: exit 0 on SIGTERM"
	check "stop: nothing listens on the metrics port" 000 \
		"$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$MPORT/healthz")"

	# The environment alone, then overridden by the option.
	new_case env
	local envport
	envport=$(free_port)
	MPORT=$envport
	: >"$D/det.err"
	DETECTOR_METRICS_PORT=$MPORT DETECTOR_METRICS_BIND=127.0.0.1 "$DETECTOR" --port 0 \
		--bind 127.0.0.1 --summary-interval 0 >/dev/null 2>"$D/det.err" &
	DET_PID=$!
	wait_log "$D" 'msg="metrics listening"'
	check "env: DETECTOR_METRICS_PORT and _BIND" "200 ok" "$(http /healthz)"
	stop_detector || fail "env: exit 0 on SIGTERM"
	new_case env-override
	MPORT=$(free_port)
	DETECTOR_METRICS_PORT=$envport start_detector "$D" "$MPORT" ||
		{ fail "env: detector starts"; return; }
	check "env: --metrics-port wins over DETECTOR_METRICS_PORT" "200 ok" "$(http /healthz)"
	stop_detector || fail "env: exit 0 on SIGTERM"

	new_case off
	: >"$D/det.err"
	"$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-port 0 --summary-interval 0 \
		>/dev/null 2>"$D/det.err" &
	DET_PID=$!
	wait_log "$D" 'msg="detector listening"' || fail "off: the detector starts"
	# Its whole log once it has stopped: a metrics server would have been
	# started (and logged) before the detector could see the signal.
	stop_detector || fail "off: exit 0 on SIGTERM"
	check "off: --metrics-port 0 serves no metrics" 0 "$(grep -c 'metrics' "$D/det.err")"
}

if test_start; then
	test_http
	test_deltas
	test_active_stream
	test_port_in_use
	test_stop_and_env
fi
finish
