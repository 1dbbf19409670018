#!/usr/bin/env bash
# The detector under valgrind (memcheck): every code path the tests reach
# from outside - streams, batches, reports, health, anomalies, malformed
# protobuf, broken HTTP/2, oversized messages, the stream cap, the gRPC
# memory budget, TLS, /metrics, running out of file descriptors - then
# SIGTERM. Any memcheck error (invalid access, uninitialised value, bad
# free) or definitely lost block fails the test.
#
# Valgrind cannot run ASan binaries, and the ctest build may be sanitized:
# this script builds its own plain sentinel-detector (RelWithDebInfo) into
# BUILD_DIR, kept between runs (cmake rebuilds what changed).
# Run: test_valgrind_detector.sh SOURCE_DIR BUILD_DIR LEGACY_CLIENT
# Needs: valgrind, cmake, /usr/bin/python3 with grpcio, curl, openssl.
set -uo pipefail
[ $# -eq 3 ] || { echo "usage: $0 SOURCE_DIR BUILD_DIR LEGACY_CLIENT" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
BUILD=$2
LEGACY=$(readlink -f "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
ABUSE=$HERE/../tools/detector_abuse.py
SUPP=$HERE/../valgrind.supp
PY=/usr/bin/python3
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=metrics.sh
. "$HERE/metrics.sh"

for t in valgrind cmake curl openssl; do
	command -v "$t" >/dev/null || { echo "test_valgrind_detector needs $t"; exit 1; }
done
"$PY" -c 'import grpc' 2>/dev/null ||
	{ echo "test_valgrind_detector needs python3-grpcio"; exit 1; }

DET_PID=
GPORT=
MPORT=
VG_PREFIX=()
T0=$(date +%s)

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup_vg() {
	[ -n "$DET_PID" ] && kill -KILL "$DET_PID" 2>/dev/null
	cleanup_all
}
trap cleanup_vg EXIT

# ---- the plain build ----
mkdir -p "$BUILD"
if ! { cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTINEL_SANITIZE=OFF \
	-DSENTINEL_TESTS=OFF >"$TMP_ROOT/cmake.log" 2>&1 &&
	cmake --build "$BUILD" --target sentinel-detector -j2 >>"$TMP_ROOT/cmake.log" 2>&1; }; then
	tail -n 30 "$TMP_ROOT/cmake.log"
	echo "cannot build a plain sentinel-detector in $BUILD"
	exit 1
fi
DETECTOR=$BUILD/sentinel-detector
if ldd "$DETECTOR" | grep -q 'libasan\|libubsan'; then
	echo "$DETECTOR is built with sanitizers: valgrind cannot run it"
	exit 1
fi
echo "plain detector ready after $(($(date +%s) - T0)) s"

# vg_start DIR [detector args...]: the detector under memcheck, on a free
# port (GPORT); metrics on MPORT (0: off).
vg_start() {
	local dir=$1
	shift
	: >"$dir/det.err"
	"${VG_PREFIX[@]}" valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \
		--suppressions="$SUPP" --log-file="$dir/vg.log" \
		"$DETECTOR" --port 0 --bind 127.0.0.1 --metrics-bind 127.0.0.1 \
		--metrics-port "$MPORT" --summary-interval 1 "$@" \
		>"$dir/det.out" 2>>"$dir/det.err" &
	DET_PID=$!
	wait_for "the detector under valgrind to listen" 60 \
		logged_or_exited "$dir/det.err" 'msg="detector listening"' "$DET_PID"
	GPORT=$(sed -n 's/.*msg="detector listening".* port=\([0-9]*\) .*/\1/p' "$dir/det.err")
	[ -n "$GPORT" ] && return 0
	cat "$dir/det.err" "$dir/vg.log" >&2
	return 1
}

# vg_stop DIR NAME [EXPECTED_EXIT]: SIGTERM (unless it already exited), then
# judge memcheck's verdict.
vg_stop() {
	local dir=$1 name=$2 want=${3:-0} rc=0
	kill -TERM "$DET_PID" 2>/dev/null
	wait "$DET_PID" || rc=$?
	DET_PID=
	check "$name: exit status $want (99: memcheck errors)" "$want" "$rc"
	if grep -q 'ERROR SUMMARY: 0 errors' "$dir/vg.log"; then
		ok "$name: memcheck: 0 errors"
	else
		fail "$name: memcheck: 0 errors" "$(grep -m 1 'ERROR SUMMARY' "$dir/vg.log")" \
			"$(grep -A 25 -m 3 -E 'Invalid|uninitialised|definitely lost in' "$dir/vg.log" |
				head -n 60)"
	fi
	if grep -qE 'definitely lost: 0 bytes|no leaks are possible' "$dir/vg.log"; then
		ok "$name: memcheck: nothing definitely lost"
	else
		fail "$name: memcheck: nothing definitely lost" \
			"$(grep -E 'definitely lost' "$dir/vg.log" | tail -n 1)"
	fi
	grep -E 'definitely|indirectly|possibly|still reachable' "$dir/vg.log" |
		sed 's/^==[0-9]*== */     /'
}

abuse() {
	"$PY" "$ABUSE" "$1" --target "127.0.0.1:$GPORT" "${@:2}"
}

legacy() {
	"$LEGACY" --target "127.0.0.1:$GPORT" --timeout-s 120 "$@" 2>/dev/null
}

# ---- 1. plaintext: everything from outside ----
test_plain() {
	new_case plain
	local out stop=$D/stop p
	MPORT=$(free_port)
	vg_start "$D" --max-streams 4 --max-memory-mb 16 ||
		{ fail "plain: detector starts under valgrind"; return; }
	check "plain: 2000 reads answered" '{"sent":2000,"received":2000,"anomalies":0}' \
		"$(legacy --count 2000)"
	check "plain: 500 sensitive writes, all anomalies" \
		'{"sent":500,"received":500,"anomalies":500}' "$(legacy --count 500 --sensitive)"
	check "plain: anomaly lines on stdout" 500 \
		"$(grep -c '"msg":"anomaly","type":"event"' "$D/det.out")"
	check "plain: garbage ends its stream INVALID_ARGUMENT" '{"status":3}' \
		"$(legacy --garbage)"
	check "plain: batches, a report, health" \
		'{"batch":"OK","batch_answers":2,"health":"OK","health_unknown":"NOT_FOUND","report":"OK"}' \
		"$(abuse valid)"
	check "plain: invalid protobuf, 50 random messages" 55 \
		"$(abuse garbage --count 50 | jq .invalid_argument)"
	check "plain: random bytes" '{"closed":6,"conns":6,"with_preface":3,"with_preface_closed":3}' \
		"$(abuse random --conns 6)"
	check "plain: truncated HTTP/2" '{"cases":7,"closed":7,"not_closed":[]}' "$(abuse truncated)"
	check "plain: over the 4 MiB cap" '{"RESOURCE_EXHAUSTED":1}' \
		"$(abuse big --size 5000000 | jq -c .status)"
	out=$(abuse big --size $((40 << 20)) --parallel 3 --timeout 120)
	check "plain: three 40 MB messages over a 16 MiB budget, all refused" 3 \
		"$(jq '[.status | to_entries[] | select(.key == "RESOURCE_EXHAUSTED" or
			.key == "UNAVAILABLE") | .value] | add' <<<"$out")"
	abuse idle --conns 200 --preface --stop-file "$stop" >"$D/idle.out" &
	p=$!
	out=$(abuse streams --open 6 --settle 3 --stop-file "$stop")
	check "plain: 6 streams past a cap of 4, none served" true \
		"$(jq '.served == 0 and (.eof or .refused >= 2)' <<<"$out")"
	check "plain: queued calls" '{"answers":8,"status":{"OK":8}}' \
		"$(abuse queued --calls 8 --hold 0.2 | jq -c '{answers, status}')"
	check "plain: /metrics" 1 \
		"$(curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
			grep -c '^sentinel_detector_events_total ')"
	check "plain: /healthz" ok "$(curl -sf --max-time 10 "http://127.0.0.1:$MPORT/healthz")"
	check "plain: still serving, 200 answered" '{"sent":200,"received":200,"anomalies":0}' \
		"$(legacy --count 200)"
	touch "$stop"
	wait "$p"
	vg_stop "$D" plain
}

# ---- 2. TLS with client certificates ----
test_mtls() {
	new_case mtls
	local out
	MPORT=0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost" -days 1 2>/dev/null ||
		{ fail "mtls: make a test certificate"; return; }
	vg_start "$D" --tls-cert "$D/cert.pem" --tls-key "$D/key.pem" \
		--tls-client-ca "$D/cert.pem" || { fail "mtls: detector starts under valgrind"; return; }
	out=$("$LEGACY" --target "localhost:$GPORT" --count 300 --sensitive --ca "$D/cert.pem" \
		--cert "$D/cert.pem" --key "$D/key.pem" 2>/dev/null)
	check "mtls: 300 events over mTLS" '{"sent":300,"received":300,"anomalies":300}' "$out"
	out=$("$LEGACY" --target "localhost:$GPORT" --count 10 --ca "$D/cert.pem" --timeout-s 5 \
		2>/dev/null)
	check "mtls: no client certificate, nothing answered" '{"sent":0,"received":0,"anomalies":0}' \
		"$out"
	check "mtls: plaintext on the TLS port is closed" \
		'{"closed":4,"conns":4,"with_preface":2,"with_preface_closed":2}' "$(abuse random --conns 4)"
	vg_stop "$D" mtls
}

# ---- 3. out of file descriptors: the exit path ----
test_fds() {
	new_case fds
	local p
	MPORT=0
	VG_PREFIX=(prlimit --nofile=128:128 --)
	vg_start "$D" || { fail "fds: detector starts under valgrind"; VG_PREFIX=(); return; }
	VG_PREFIX=()
	abuse idle --conns 200 --stop-file "$D/stop" >"$D/idle.out" &
	p=$!
	# (judged below by its log line and exit status 1)
	wait_for "the detector to exit out of fds" 30 exited "$DET_PID"
	touch "$D/stop"
	wait "$p"
	grep -q 'msg="gRPC stopped accepting connections: exiting"' "$D/det.err" &&
		ok "fds: out of fds, gRPC stops accepting and the detector says so" ||
		fail "fds: out of fds, gRPC stops accepting and the detector says so" \
			"$(tail -n 3 "$D/det.err")"
	vg_stop "$D" fds 1
}

run_cases test_plain test_mtls test_fds
echo "     valgrind test took $(($(date +%s) - T0)) s"
finish
