# shellcheck shell=bash
# Helpers for tests that read /metrics; sourced after lib.sh. The caller
# sets MPORT (agent_ports does it from the agent's log).

# free_port: a TCP port nobody listens on now (the kernel's pick)
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# agent_ports DIR: HPORT and MPORT from the agent's "listening" log line
agent_ports() {
	local line
	line=$(grep 'msg="health and metrics listening"' "$1/agent.err")
	HPORT=$(sed -n 's/.* health=[^ ]*:\([0-9]*\).*/\1/p' <<<"$line")
	MPORT=$(sed -n 's/.* metrics=[^ ]*:\([0-9]*\).*/\1/p' <<<"$line")
}

scrape() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics"
}

# mval SERIES: its value in the exposition on stdin ("" when absent); the
# series is compared whole, labels included (their values may hold spaces).
mval() {
	# ENVIRON, not -v: awk would undo the backslash escapes of label values.
	S="$1 " awk 'index($0, ENVIRON["S"]) == 1 { print $NF }'
}

# msum PREFIX: the sum of every series on stdin that starts with PREFIX (a
# family and its first labels, e.g. 'x_total{reason="buffer_full"'), 0 if none.
msum() {
	S="$1" awk 'index($0, ENVIRON["S"]) == 1 { n += $NF } END { print n + 0 }'
}

# metric_sum PREFIX: msum over a fresh scrape
metric_sum() {
	scrape | msum "$1"
}

# settle_sum PREFIX WANT [TRIES]: settle for the sum of PREFIX's series
# (a family labelled by event_type).
settle_sum() {
	local SEEN=
	wait_for "the sum of $1 to be $2" $(((${3:-100} + 9) / 10)) metric_sum_is "$1" "$2"
	echo "$SEEN"
}

# metric SERIES: its value in a fresh scrape
metric() {
	scrape | mval "$1"
}

# metric_ge SERIES N: SERIES is at least N in a fresh scrape
metric_ge() {
	local v
	v=$(metric "$1")
	[ "${v:-0}" -ge "$2" ]
}

# metric_is SERIES WANT, metric_sum_is PREFIX WANT: predicates for
# wait_for; the value seen is left in SEEN
metric_is() {
	SEEN=$(metric "$1")
	[ "$SEEN" = "$2" ]
}
metric_sum_is() {
	SEEN=$(metric_sum "$1")
	[ "$SEEN" = "$2" ]
}

# settle SERIES WANT [TRIES]: waits up to TRIES tenths of a second (default
# 100: 10 s) for SERIES to be WANT; prints the last value seen (the caller
# compares, so a wrong value still fails).
settle() {
	local SEEN=
	wait_for "$1 to be $2" $(((${3:-100} + 9) / 10)) metric_is "$1" "$2"
	echo "$SEEN"
}
