#!/usr/bin/env bash
# The per-process rate limit (probe.rateLimit), with the real probe: a
# process flooding matched writes loses its own excess, counted exactly and
# reported per process (log and /metrics), while a well-behaved process
# running at the same time loses nothing; the token bucket's burst and
# refill, to the event; with the limit off nothing is suppressed.
# Run as root: test_ratelimit.sh AGENT LOADGEN
set -uo pipefail
AGENT=$(readlink -f "$1")
LOADGEN=$(readlink -f "$2")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=metrics.sh
. "$(dirname "$0")/metrics.sh"

[ "$(id -u)" -eq 0 ] || { echo "rate limit tests need root (BPF)"; exit 1; }
for c in curl jq python3; do
	command -v "$c" >/dev/null || { echo "rate limit tests need $c"; exit 1; }
done

write_rules() {
	cat >"$1/rules.yaml" <<EOF
rules:
  - name: it-writes
    event: file_write
    match: {pathPrefixes: ["$1/w/"]}
EOF
	mkdir -p "$1/w"
}

# delivered OUTDIR PID: events the agent printed for PID
delivered() {
	jq -r --arg pid "$2" 'select(.data.pid == $pid) | .event_type' "$1/agent.out" | wc -l
}

# warn_lines OUTDIR PID: the rate limit's report lines naming PID
warn_lines() {
	grep 'msg="events suppressed by rate limit"' "$1/agent.err" | grep " pid=$2 "
}

# last_total OUTDIR PID: the cumulative count in the last report line for PID
last_total() {
	warn_lines "$1" "$2" | tail -n 1 | sed -n 's/.* total=\([0-9]*\).*/\1/p'
}

# sum_deltas OUTDIR PID: the per-report increments for PID, added up
sum_deltas() {
	warn_lines "$1" "$2" | sed -n 's/.* suppressed=\([0-9]*\) .*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# unlisted PID: a fresh scrape has no series for PID
unlisted() {
	local m
	m=$(scrape) || return 1
	! grep -qF "pid=\"$1\"" <<<"$m"
}

# ---- 1. a flood next to a well-behaved process ----
test_flood() {
	new_case flood
	write_rules "$D"
	mkdir -p "$D/w/calm" "$D/w/flood"
	cat >"$D/agent.yaml" <<EOF
health: {port: 0, bindAddress: 127.0.0.1}
metrics: {port: 0, bindAddress: 127.0.0.1}
probe:
  rateLimit: {eventsPerSecond: 1000, burst: 1000, reportIntervalSeconds: 1}
EOF
	start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" || {
		fail "flood: agent starts"
		return
	}
	agent_ports "$D"
	grep -q 'msg="per-process rate limit on" events_per_second=1000 burst=1000 report_s=1' \
		"$D/agent.err" && ok "flood: the limit is logged at start" ||
		fail "flood: the limit is logged at start" "$(grep 'rate limit' "$D/agent.err")"

	# 100 writes at 50/s (2 s), and meanwhile two threads writing flat out
	# for 2.5 s, starting once the calm writer is under way (its first
	# event delivered).
	"$LOADGEN" --mode write --rate 50 --count 100 --bytes 1 --dir "$D/w/calm" >"$D/calm.json" &
	local calm_job=$!
	wait_for "the calm writer's first event" 10 \
		grep -q "\"pid\":\"$calm_job\"" "$D/agent.out" ||
		fail "flood: the calm writer's events are delivered"
	"$LOADGEN" --mode write --threads 2 --duration 2.5 --bytes 1 --dir "$D/w/flood" \
		>"$D/flood.json" &
	local fpid=$! mid
	local fseries="sentinel_agent_rate_limited_process_total{pid=\"$fpid\",comm=\"sentinel-loadge\"}"
	# Mid-flood, once a report ran: the flooder is in the top list.
	wait_for "the flooder in /metrics" 10 metric_ge "$fseries" 1
	mid=$(metric "$fseries")
	wait "$calm_job" || fail "flood: calm loadgen runs"
	wait "$fpid" || fail "flood: flooding loadgen runs"

	local cpid n nc dc df sup
	cpid=$(jq -r .pid "$D/calm.json")
	nc=$(jq -r .syscalls "$D/calm.json")
	check "flood: the flooder's pid" "$fpid" "$(jq -r .pid "$D/flood.json")"
	n=$(jq -r .syscalls "$D/flood.json")
	need "flood: the flooder's count" "$n" || return
	if [ -n "$mid" ] && [ "$mid" -gt 0 ]; then
		ok "flood: mid-flood, /metrics names the flooder ($mid suppressed so far)"
	else
		fail "flood: mid-flood, /metrics names the flooder" "got '$mid'"
	fi
	[ "$n" -gt 100000 ] && ok "flood: the flooder wrote $n times" ||
		fail "flood: the flooder wrote > 100000 times" "$n"
	check "flood: the calm process wrote 100 times" 100 "$nc"
	# The first report after the flood ends finds the flooder gone and logs
	# its final count; the next one no longer lists it in /metrics.
	wait_for "the flooder's final report" 10 unlisted "$fpid" ||
		fail "flood: the flooder leaves /metrics once gone"
	stop_agent "$D" || return

	dc=$(delivered "$D" "$cpid")
	df=$(delivered "$D" "$fpid")
	sup=$(last_total "$D" "$fpid")
	check "flood: all 100 events of the calm process arrive" 100 "$dc"
	check "flood: nothing suppressed of the calm process" "" "$(warn_lines "$D" "$cpid")"
	check "flood: no buffer drops (the limit keeps the ring buffer free)" 0 \
		"$(summary_field "$D" dropped_buffer)"
	if [ -n "$sup" ] && [ "$sup" -gt 0 ]; then
		ok "flood: a warn line names the flooder's pid $fpid (total=$sup)"
	else
		fail "flood: a warn line names the flooder's pid $fpid" \
			"$(grep 'rate limit' "$D/agent.err" | tail -n 5)"
		sup=0
	fi
	check "flood: delivered $df + suppressed $sup = written" "$n" "$((df + sup))"
	check "flood: the report's increments add up to its total" "$sup" "$(sum_deltas "$D" "$fpid")"
	check "flood: summary rate_limited = the flooder's suppressed" "$sup" \
		"$(summary_field "$D" rate_limited)"
	grep -q "msg=\"events suppressed by rate limit\" pid=$fpid comm=sentinel-loadge " \
		"$D/agent.err" && ok "flood: the report names the comm" ||
		fail "flood: the report names the comm"
	# The limit lets through the burst plus 1000/s (plus the first writes
	# of each thread's file, pending until the agent posted its verdict);
	# threads racing on the bucket may take a little more.
	local secs lo hi
	secs=$(jq -r .seconds "$D/flood.json")
	lo=$(awk -v s="$secs" 'BEGIN { printf "%d", 1000 + 0.8 * 1000 * s }')
	hi=$(awk -v s="$secs" -v p="$(summary_field "$D" pending)" \
		'BEGIN { printf "%d", 1000 + 1.25 * 1000 * (s + 0.1) + p }')
	if [ "$df" -ge "$lo" ] && [ "$df" -le "$hi" ]; then
		ok "flood: delivered $df within [$lo, $hi] (burst + rate x ${secs}s)"
	else
		fail "flood: delivered within burst + rate x time" "delivered=$df range=[$lo, $hi]"
	fi
}

# ---- 2. burst and refill, to the event ----
# python3 writes to a file whose verdict the kernel already has (so none of
# its writes is pending): 1000 writes at once, then 10 more after 1.2 s.
# At 1/s with a burst of 100: exactly 100 of the first, then 1 of the 10.
test_bucket() {
	new_case bucket
	write_rules "$D"
	cat >"$D/agent.yaml" <<EOF
health: {port: 0, bindAddress: 127.0.0.1}
metrics: {port: 0, bindAddress: 127.0.0.1}
probe:
  rateLimit: {eventsPerSecond: 1, burst: 100, reportIntervalSeconds: 1}
EOF
	start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" || {
		fail "bucket: agent starts"
		return
	}
	agent_ports "$D"
	local pid took py
	mkfifo "$D/go"
	python3 - "$D/w/f" "$D/go" >"$D/py.out" <<'EOF' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
# The first write names the file (decided in user space, never limited);
# the rest wait (the fifo) until the agent has forwarded it, the file's
# verdict posted just before.
os.write(fd, b"w")
open(sys.argv[2]).read()
t0 = time.monotonic()
for _ in range(1000):
    os.write(fd, b"x")
took = time.monotonic() - t0
# time under test: 1.2 s of refill at 1/s, one token
time.sleep(1.2)
for _ in range(10):
    os.write(fd, b"y")
print(os.getpid(), "%.3f" % took)
EOF
	py=$!
	wait_for "the naming write delivered" 10 grep -q "\"filename\":\"$D/w/f\"" "$D/agent.out" ||
		fail "bucket: the file's first write is delivered"
	# (bounded: python may have died before opening the fifo)
	timeout 10 sh -c 'echo >"$1"' sh "$D/go"
	wait "$py" || fail "bucket: the python writer runs"
	read -r pid took <"$D/py.out"
	check "bucket: rate_limited_total = 909" 909 "$(settle 'sentinel_agent_rate_limited_total{event_type="file_write"}' 909)"
	check "bucket: /metrics per process = 909" 909 \
		"$(settle "sentinel_agent_rate_limited_process_total{pid=\"$pid\",comm=\"python3\"}" 909)"
	stop_agent "$D" || return
	check "bucket: delivered = the naming write + burst 100 + 1 refilled after 1.2 s (first loop took ${took}s)" \
		102 "$(delivered "$D" "$pid")"
	check "bucket: the report's total" 909 "$(last_total "$D" "$pid")"
}

# ---- 3. off by default ----
test_off() {
	new_case off
	write_rules "$D"
	printf 'health: {port: 0, bindAddress: 127.0.0.1}\nmetrics: {port: 0, bindAddress: 127.0.0.1}\n' \
		>"$D/agent.yaml"
	start_agent "$D" --config "$D/agent.yaml" --rules "$D/rules.yaml" || {
		fail "off: agent starts"
		return
	}
	agent_ports "$D"
	"$LOADGEN" --mode write --count 50000 --bytes 1 --dir "$D/w" >"$D/l.json" ||
		fail "off: loadgen runs"
	local pid
	pid=$(jq -r .pid "$D/l.json")
	check "off: rate_limited_total 0" 0 "$(metric_sum sentinel_agent_rate_limited_total)"
	check "off: no per-process family" 0 "$(scrape | grep -c '^sentinel_agent_rate_limited_process')"
	stop_agent "$D" || return
	check "off: all 50000 delivered" 50000 "$(delivered "$D" "$pid")"
	check "off: summary rate_limited=0" 0 "$(summary_field "$D" rate_limited)"
	check "off: no report lines" 0 "$(grep -c 'rate limit' "$D/agent.err")"
}

run_cases test_flood test_bucket test_off
finish
