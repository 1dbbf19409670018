# shellcheck shell=bash
# Helpers for the agent's integration tests: start and stop the real agent,
# run sentinel-workload, compare what the workload did with what the agent
# reported. Needs root (BPF), jq.

# shellcheck source=../checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
AGENT_PID=
AGENT_LAST_PID= # the last agent started: its pid stays known after it stopped
TMP_ROOT=$(mktemp -d /tmp/sentinel-it.XXXXXX)

cleanup_all() {
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP_ROOT"
}
trap cleanup_all EXIT

# Predicates for wait_for (checks.sh).

# exited PID: PID is gone (a child of this shell once bash has reaped it)
exited() {
	! kill -0 "$1" 2>/dev/null
}

# lines_ge FILE PATTERN N: at least N lines of FILE match PATTERN (grep)
lines_ge() {
	local n
	n=$(grep -c -- "$2" "$1" 2>/dev/null)
	[ "${n:-0}" -ge "$3" ]
}

# logged_or_exited FILE PATTERN PID: PATTERN is in FILE, or PID is gone
# (a wait for a start-up line that need not outlast the process)
logged_or_exited() {
	grep -q -- "$2" "$1" 2>/dev/null || exited "$3"
}

# listening PORT: something listens on TCP PORT
listening() {
	ss -ltnH "sport = :$1" | grep -q .
}

listening_or_exited() { # PORT PID
	listening "$1" || exited "$2"
}

# wait_listening PORT PID ERRFILE [SECONDS]: until something listens on
# PORT (10 s by default); 1, with ERRFILE shown, if PID exits first.
wait_listening() {
	wait_for "a listener on port $1 (pid $2)" "${4:-10}" listening_or_exited "$1" "$2"
	if exited "$2"; then
		cat "$3" >&2
		return 1
	fi
	listening "$1"
}

# logged LABEL PATTERN FILE: ok when a line of FILE matches PATTERN
# (grep -E), else fail, showing FILE's errors.
logged() {
	if grep -Eq "$2" "$3"; then
		ok "$1"
	else
		fail "$1" "$(grep -E 'level=(error|warn)' "$3" | head -n 3)"
	fi
}

# new_case NAME: a fresh directory for one case, in $D
new_case() {
	D=$TMP_ROOT/$1
	mkdir -p "$D"
}

# start_agent OUTDIR [agent args...]: runs the agent, waits until its
# probes are attached and events flow (msg="agent running"; "agent ready"
# may come later: in grpc mode only with the detector stream up).
# Health and metrics ports the config does not set are 0 (the kernel's
# pick; a config without them is appended to), so that tests run beside
# another agent on the node.
start_agent() {
	local dir=$1
	shift
	local a prev='' cfg=''
	for a in "$@"; do
		[ "$prev" = --config ] && cfg=$a
		prev=$a
	done
	if [ -z "$cfg" ]; then
		cfg=$dir/ports.yaml
		: >"$cfg"
		set -- --config "$cfg" "$@"
	fi
	# A config that names no ports gets the kernel's pick too.
	grep -q '^health:' "$cfg" || printf 'health: {port: 0}\n' >>"$cfg"
	grep -q '^metrics:' "$cfg" || printf 'metrics: {port: 0}\n' >>"$cfg"
	: >"$dir/agent.err"
	"$AGENT" --mode "${AGENT_MODE:-stdout}" "$@" >"$dir/agent.out" 2>"$dir/agent.err" &
	AGENT_PID=$!
	AGENT_LAST_PID=$AGENT_PID
	wait_for "the agent to run" 30 \
		logged_or_exited "$dir/agent.err" 'msg="agent running"' "$AGENT_PID"
	grep -q 'msg="agent running"' "$dir/agent.err" && return 0
	cat "$dir/agent.err" >&2
	exited "$AGENT_PID" && AGENT_PID=
	return 1
}

# stop_agent OUTDIR: SIGTERM, expects exit 0 and the summary line.
stop_agent() {
	local dir=$1 rc=0
	# Nothing to wait for first: on SIGTERM the agent detaches, drains the
	# kernel buffers to the last record (agent/main.c run()) and flushes
	# its sink before the summary line, so the wait below covers the
	# workload's final records.
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID" || rc=$?
	AGENT_PID=
	if [ "$rc" -ne 0 ]; then
		fail "agent exits 0 on SIGTERM (exit $rc)" "$(tail -n 5 "$dir/agent.err")"
		return 1
	fi
	grep -q 'msg=stopped' "$dir/agent.err" || {
		fail "agent prints a summary on SIGTERM"
		return 1
	}
}

# stop_detector: SIGTERM to DET_PID (resumed first, in case a test stopped
# it); returns the detector's exit status.
stop_detector() {
	local rc=0
	kill -CONT "$DET_PID" 2>/dev/null
	kill -TERM "$DET_PID" 2>/dev/null
	wait "$DET_PID" || rc=$?
	DET_PID=
	return "$rc"
}

# summary_field OUTDIR KEY: a counter from the agent's summary line
summary_field() {
	grep 'msg=stopped' "$1/agent.err" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# workload OUTDIR STEP...: runs the workload. Its log goes beside OUTDIR,
# not in it: the log's own writes are traced too.
workload() {
	local dir=$1
	shift
	"$WORKLOAD" --log "$dir.wl.log" "$@"
}

wl_pid() {
	sed -n '1s/^pid=//p' "$1.wl.log"
}

# expected OUTDIR PREFIX: "type path bytes" per read/write the workload logged
# under PREFIX, in order.
expected() {
	awk -v pfx="$2" '
	/^syscall=/ {
		delete kv
		for (i = 1; i <= NF; i++) { split($i, a, "="); kv[a[1]] = substr($i, length(a[1]) + 2) }
		s = kv["syscall"]
		if (s ~ /^(read|pread64|readv|preadv|preadv2)$/) t = "file_read"
		else if (s ~ /^(write|pwrite64|writev|pwritev|pwritev2)$/) t = "file_write"
		else next
		if (index(kv["abspath"], pfx) != 1 || kv["bytes"] == 0) next
		print t, kv["abspath"], kv["bytes"]
	}' "$1.wl.log"
}

# reported OUTDIR PID PREFIX: the same, from the agent's JSON lines
reported() {
	jq -r --arg pid "$2" --arg pfx "$3" \
		'select(.data.pid == $pid and (.data.filename | startswith($pfx)))
		 | "\(.event_type) \(.data.filename) \(.data.bytes)"' "$1/agent.out"
}

finish() {
	printf '\n%d passed, %d failed, %d skipped\n' "$T_PASS" "$T_FAIL" "$T_SKIP"
	[ "$T_FAIL" -eq 0 ]
}
