#!/usr/bin/env bash
# End to end: kernel -> agent (grpc) -> detector -> anomaly logged.
# Run as root: test_e2e.sh AGENT DETECTOR WORKLOAD LOADGEN LEGACY_CLIENT
set -uo pipefail
AGENT=$(readlink -f "$1")
DETECTOR=$(readlink -f "$2")
WORKLOAD=$(readlink -f "$3")
LOADGEN=$(readlink -f "$4")
LEGACY=$(readlink -f "$5")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=metrics.sh
. "$(dirname "$0")/metrics.sh"

[ "$(id -u)" -eq 0 ] || { echo "e2e tests need root (BPF)"; exit 1; }
PORT=50071
AGENT_MODE=grpc
DET_PID=

cleanup_e2e() {
	if [ -n "$DET_PID" ] && kill -0 "$DET_PID" 2>/dev/null; then
		kill -KILL "$DET_PID" 2>/dev/null || true
	fi
	cleanup_all
}
trap cleanup_e2e EXIT

# start_detector DIR [VAR=value...] [--flag...]: appends to DIR/det.out / det.err
start_detector() {
	local dir=$1
	shift
	local envs=() args=()
	for a in "$@"; do
		case "$a" in
		*=*) envs+=("$a") ;;
		*) args+=("$a") ;;
		esac
	done
	# A case that failed early may have left its detector: never talk to it.
	if [ -n "$DET_PID" ] && kill -0 "$DET_PID" 2>/dev/null; then
		kill -KILL "$DET_PID" 2>/dev/null
		wait "$DET_PID" 2>/dev/null
	fi
	env "${envs[@]}" "$DETECTOR" --port "$PORT" --metrics-port 0 --summary-interval 1 "${args[@]}" \
		>>"$dir/det.out" 2>>"$dir/det.err" &
	DET_PID=$!
	wait_listening "$PORT" "$DET_PID" "$dir/det.err"
}

# anomaly_line FILE PATH: the detector's first anomaly line for PATH in
# FILE, into $line; 1 if there is none yet
anomaly_line() {
	line=$(jq -c --arg f "$2" 'select(.filename == $f)' "$1" 2>/dev/null | head -n 1)
	[ -n "$line" ]
}

# all_answered LOADGEN_JSON: the agent forwarded as many writes as the load
# generator made, and its queue to the detector is empty (all acknowledged)
all_answered() {
	local n e
	n=$(jq -r .syscalls "$1")
	e=$(metric 'sentinel_agent_events_total{event_type="file_write"}')
	[ -n "$n" ] && [ "${e:-0}" -ge "$n" ] && [ "$(metric sentinel_agent_queue_depth)" = 0 ]
}

agent_config() {
	printf 'stream:\n  mode: grpc\ngrpc:\n  endpoint: localhost:%s\n' "$PORT" >"$1"
}

# sink_field DIR KEY: a counter from the agent's "grpc sink stopped" line
sink_field() {
	grep 'msg="grpc sink stopped"' "$1/agent.err" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

t_sensitive_write() {
	new_case sensitive
	local etc pid line
	etc=/etc/sentinel-e2e-$$.tmp
	start_detector "$D" || { fail "sensitive: detector starts"; return; }
	agent_config "$D/agent.yaml"
	# Only the workload: other processes on the node write under /etc too.
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - {name: wl-writes, event: file_write, match: {comms: [sentinel-worklo]}}
	  - {name: wl-reads, event: file_read, match: {comms: [sentinel-worklo]}}
	YAML
	start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" ||
		{ fail "sensitive: agent starts"; return; }
	mkdir -p "$D/plain"
	workload "$D" open w "$etc" as E write E 5 close E unlink "$etc" \
		open w "$D/plain/x" as P write P 3 open r /etc/hostname as H read H 1
	pid=$(wl_pid "$D")
	line=
	# The deadline is the claim: within a second.
	wait_for "the anomaly in the detector's log" 1 anomaly_line "$D/det.out" "$etc"
	if [ -n "$line" ]; then
		ok "sensitive: a write under /etc is an anomaly in the detector's log within a second"
	else
		fail "sensitive: a write under /etc is an anomaly in the detector's log within a second"
	fi
	check "sensitive: anomaly names path, comm, pid and the rule" \
		"$etc sentinel-worklo $pid true" \
		"$(jq -r '"\(.filename) \(.comm) \(.pid) \(.reason | startswith("sensitive_path_write"))"' <<<"$line")"
	stop_agent "$D" || return
	check "sensitive: reads, and writes elsewhere, are not anomalies" "" \
		"$(jq -r --arg d "$D" 'select((.filename | startswith($d)) or .filename == "/etc/hostname") | .filename' "$D/det.out")"
	check "sensitive: every event the agent sent was answered" \
		"$(sink_field "$D" emitted)" "$(sink_field "$D" acked)"
	check "sensitive: the agent logged the detector's verdict at warn" 1 \
		"$(grep -c "level=warn msg=\"detector: anomaly\".*reason=\"sensitive_path_write" "$D/agent.err")"
	stop_detector || fail "sensitive: detector exits 0 on SIGTERM"
}

t_detector_restart() {
	new_case restart
	local gen emitted distinct maxseq syscalls
	mkdir -p "$D/load"
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: load
	    event: file_write
	    match:
	      pathPrefixes: ["$D/load/"]
	      comms: ["wl-e2e"]
	YAML
	# Every load event is an anomaly, so the detector logs each seq.
	start_detector "$D" DETECTOR_SENSITIVE_PREFIXES="$D/load" ||
		{ fail "restart: detector starts"; return; }
	agent_config "$D/agent.yaml"
	start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" ||
		{ fail "restart: agent starts"; return; }
	"$LOADGEN" --mode write --bytes 1 --dir "$D/load" --rate 20000 --duration 4 \
		--comm wl-e2e >"$D/loadgen.json" &
	gen=$!
	# Killed mid-stream, once the detector has answered 2000 of the load.
	wait_for "2000 anomaly lines from the load" 10 lines_ge "$D/det.out" '"seq":' 2000 ||
		fail "restart: the load reaches the detector"
	kill -KILL "$DET_PID"
	wait "$DET_PID" 2>/dev/null
	DET_PID=
	# time under test: the detector stays down 1 s while the load goes on
	sleep 1
	start_detector "$D" DETECTOR_SENSITIVE_PREFIXES="$D/load" ||
		{ fail "restart: detector restarts"; return; }
	wait "$gen"
	agent_ports "$D"
	wait_for "every write forwarded and the queue empty" 30 all_answered "$D/loadgen.json" ||
		fail "restart: the agent catches up after the restart"
	stop_agent "$D" || return
	syscalls=$(jq -r .syscalls "$D/loadgen.json")
	need "restart: the load generator's count" "$syscalls" || return
	emitted=$(sink_field "$D" emitted)
	read -r distinct maxseq < <(jq -r 'select(.seq != null) | .seq' "$D/det.out" |
		sort -nu | awk '{n++; m=$1} END {print n+0, m+0}')
	check "restart: every write reached the agent's sink" "$syscalls" "$emitted"
	check "restart: the detector saw every seq 1..N across the kill -9 (at-least-once)" \
		"$emitted $emitted" "$distinct $maxseq"
	check "restart: nothing dropped or left unacknowledged" "0 0" \
		"$(sink_field "$D" dropped) $(sink_field "$D" unacked)"
	if [ "$(sink_field "$D" resent)" -gt 0 ]; then
		ok "restart: unacknowledged events were re-sent ($(sink_field "$D" resent))"
	else
		fail "restart: unacknowledged events were re-sent" "resent=0"
	fi
	stop_detector || fail "restart: detector exits 0 on SIGTERM"
}

t_legacy_client_and_garbage() {
	new_case legacy
	local out
	start_detector "$D" || { fail "legacy: detector starts"; return; }
	out=$("$LEGACY" --target "localhost:$PORT" --count 1000 --sensitive)
	check "legacy: a StreamEvents-only client gets every answer" "1000 1000 1000" \
		"$(jq -r '"\(.sent) \(.received) \(.anomalies)"' <<<"$out")"
	if "$LEGACY" --target "localhost:$PORT" --garbage >/dev/null; then
		ok "garbage: a malformed frame ends that stream with INVALID_ARGUMENT"
	else
		fail "garbage: a malformed frame ends that stream with INVALID_ARGUMENT"
	fi
	out=$("$LEGACY" --target "localhost:$PORT" --count 100)
	check "garbage: the detector keeps serving others" "100 100" \
		"$(jq -r '"\(.sent) \(.received)"' <<<"$out")"
	stop_detector || fail "legacy: detector exits 0 on SIGTERM"
}

t_tls() {
	new_case tls
	local etc=/etc/sentinel-e2e-tls-$$.tmp line
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost" -days 1 2>/dev/null ||
		{ fail "tls: make a test certificate"; return; }
	start_detector "$D" --tls-cert "$D/cert.pem" --tls-key "$D/key.pem" ||
		{ fail "tls: detector starts with TLS"; return; }
	printf 'stream:\n  mode: grpc\ngrpc:\n  endpoint: localhost:%s\n  tls:\n    enabled: true\n    caFile: %s\n' \
		"$PORT" "$D/cert.pem" >"$D/agent.yaml"
	start_agent "$D" --config "$D/agent.yaml" || { fail "tls: agent starts"; return; }
	workload "$D" open w "$etc" as E write E 2 close E unlink "$etc"
	wait_for "the anomaly in the detector's log" 10 anomaly_line "$D/det.out" "$etc"
	stop_agent "$D" || return
	check "tls: the anomaly crosses a TLS stream verified against the CA file" 1 \
		"$(jq -c --arg f "$etc" 'select(.filename == $f)' "$D/det.out" | wc -l)"
	check "tls: every event answered" "$(sink_field "$D" emitted)" "$(sink_field "$D" acked)"
	stop_detector || fail "tls: detector exits 0 on SIGTERM"
}

# mTLS: the detector requires client certificates signed by its CA; the
# agent's grpc.tls.certFile/keyFile make the stream, and an agent without
# them never gets one.
t_mtls() {
	new_case mtls
	local etc=/etc/sentinel-e2e-mtls-$$.tmp rc=0 line
	{
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" \
			-subj /CN=sentinel-test-ca -days 1 &&
			openssl req -newkey rsa:2048 -nodes -keyout "$D/srv.key" -out "$D/srv.csr" \
				-subj /CN=localhost &&
			openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
				-CAcreateserial -out "$D/srv.pem" -days 1 \
				-extfile <(printf 'subjectAltName=DNS:localhost\n') &&
			openssl req -newkey rsa:2048 -nodes -keyout "$D/cli.key" -out "$D/cli.csr" \
				-subj /CN=sentinel-agent &&
			openssl x509 -req -in "$D/cli.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
				-CAcreateserial -out "$D/cli.pem" -days 1
	} >"$D/openssl.log" 2>&1 || { fail "mtls: make a CA and certificates" "$(tail -n 3 "$D/openssl.log")"; return; }
	start_detector "$D" --tls-cert "$D/srv.pem" --tls-key "$D/srv.key" \
		--tls-client-ca "$D/ca.pem" || { fail "mtls: detector starts"; return; }
	printf 'stream:\n  mode: grpc\ngrpc:\n  endpoint: localhost:%s\n  tls:\n    enabled: true\n    caFile: %s\n    certFile: %s\n    keyFile: %s\n' \
		"$PORT" "$D/ca.pem" "$D/cli.pem" "$D/cli.key" >"$D/agent.yaml"
	start_agent "$D" --config "$D/agent.yaml" || { fail "mtls: agent starts"; return; }
	workload "$D" open w "$etc" as E write E 2 close E unlink "$etc"
	wait_for "the anomaly in the detector's log" 10 anomaly_line "$D/det.out" "$etc"
	stop_agent "$D" || return
	check "mtls: the anomaly crosses a stream with the agent's client certificate" 1 \
		"$(jq -c --arg f "$etc" 'select(.filename == $f)' "$D/det.out" | wc -l)"
	check "mtls: every event answered" "$(sink_field "$D" emitted)" "$(sink_field "$D" acked)"

	# Without a client certificate: no stream, events stay queued.
	mkdir -p "$D/nocert"
	printf 'stream:\n  mode: grpc\ngrpc:\n  endpoint: localhost:%s\n  tls:\n    enabled: true\n    caFile: %s\n' \
		"$PORT" "$D/ca.pem" >"$D/nocert/agent.yaml"
	start_agent "$D/nocert" --config "$D/nocert/agent.yaml" || { fail "mtls: agent without a certificate starts"; return; }
	workload "$D/nocert" open w "$etc" as E write E 3 close E unlink "$etc"
	# No wait: the refused handshake logs nothing to wait for, and on
	# SIGTERM the agent drains the event into its queue and keeps trying
	# to deliver it for its whole 5 s shutdown grace (it is never answered).
	stop_agent "$D/nocert" || return
	check "mtls: without a client certificate nothing is answered" 0 \
		"$(sink_field "$D/nocert" acked)"
	check "mtls: ... and the detector logged nothing from it" 1 \
		"$(jq -c --arg f "$etc" 'select(.filename == $f)' "$D/det.out" | wc -l)"
	stop_detector || rc=$?
	check "mtls: detector exits 0 on SIGTERM" 0 "$rc"
}

run_cases t_sensitive_write t_tls t_mtls t_detector_restart t_legacy_client_and_garbage
finish
