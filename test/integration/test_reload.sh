#!/usr/bin/env bash
# Integration tests of live rule reload with real BPF: kernel verdicts of
# already-open fds recomputed, no event lost across reloads (ConfigMap
# symlink swaps included), bad files rejected and counted with the old rules
# kept, SIGHUP. Run as root: test_reload.sh AGENT WORKLOAD
set -uo pipefail
AGENT=$(readlink -f "$1")
WORKLOAD=$(readlink -f "$2")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root (BPF)"; exit 1; }
command -v jq >/dev/null || { echo "integration tests need jq"; exit 1; }

# wait_count FILE PATTERN N: until PATTERN is on at least N lines (10 s)
wait_count() {
	wait_for "$3 lines matching '$2' in $1" 10 lines_ge "$1" "$2" "$3"
}

# wait_exists FILE: until FILE exists (10 s)
wait_exists() {
	wait_for "$1 to exist" 10 test -e "$1"
}

reloaded() {
	grep -c 'msg="rules reloaded"' "$1/agent.err" || true
}

# The layout kubelet's atomic writer gives a ConfigMap volume:
#   rules.yaml -> ..data/rules.yaml, ..data -> ..<timestamp>/
# An update writes a new timestamped directory, points ..data_tmp at it,
# renames that over ..data and removes the old directory.
k8s_version() {
	printf '..%s.%s' "$(date -u +%Y_%m_%d_%H_%M_%S)" "$(date +%N)"
}

k8s_init() { # DIR RULES_TEXT_FILE
	local ts
	ts=$(k8s_version)
	mkdir -p "$1/$ts"
	cp "$2" "$1/$ts/rules.yaml"
	ln -s "$ts" "$1/..data"
	ln -s ..data/rules.yaml "$1/rules.yaml"
}

k8s_update() { # DIR RULES_TEXT_FILE
	local old ts
	old=$(readlink "$1/..data")
	ts=$(k8s_version)
	mkdir "$1/$ts"
	cp "$2" "$1/$ts/rules.yaml"
	ln -s "$ts" "$1/..data_tmp"
	mv -T "$1/..data_tmp" "$1/..data"
	rm -rf "${1:?}/$old"
}

# An fd opened before the reload, on a path the old rules do not match:
# its writes are filtered; once the rules name it, later writes on the same
# fd are reported, and after the rule goes again they stop. Each change
# must reach the kernel's verdict for that fd: after the first event on the
# fd (decided in user space), the rest are decided in the kernel again.
t_open_fd_verdict() {
	new_case verdict
	local wlpid pending
	cat >"$D/v1.yaml" <<-YAML
	rules:
	  - name: elsewhere
	    event: file_write
	    match:
	      pathPrefixes: ["$D/elsewhere/"]
	YAML
	cat >"$D/v2.yaml" <<-YAML
	rules:
	  - name: elsewhere
	    event: file_write
	    match:
	      pathPrefixes: ["$D/elsewhere/"]
	  - name: the-file
	    event: file_write
	    match:
	      pathPrefixes: ["$D/f"]
	YAML
	cp "$D/v1.yaml" "$D/rules.yaml"
	printf 'logLevel: debug\n' >"$D/config.yaml"
	start_agent "$D" --config "$D/config.yaml" --rules "$D/rules.yaml" ||
		{ fail "verdict: agent starts"; return; }
	# After each phase's first write the workload waits (postedN) until the
	# agent has posted that fd's verdict, before the next write asks for
	# it: the agent logs the decision at debug right after posting it.
	local decided="msg=\"pending event decided in user space\".* path=$D/f " n
	workload "$D" open w "$D/f" as A write A 1 open w "$D/opened" as R close R \
		wait-file "$D/go1" write A 2 wait-file "$D/posted1" repeat 49 write A 2 end \
		open w "$D/done1" as X close X \
		wait-file "$D/go2" write A 3 wait-file "$D/posted2" repeat 49 write A 3 end &
	wlpid=$!
	wait_exists "$D/opened" || fail "verdict: workload opened its file"
	cat "$D/v2.yaml" >"$D/rules.yaml"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 1 || fail "verdict: rule added, reloaded"
	n=$(grep -c "$decided" "$D/agent.err")
	touch "$D/go1"
	wait_count "$D/agent.err" "$decided" $((n + 1)) ||
		fail "verdict: phase 2's first write decided in user space"
	touch "$D/posted1"
	wait_exists "$D/done1" || fail "verdict: workload wrote phase 2"
	cat "$D/v1.yaml" >"$D/rules.yaml"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 2 || fail "verdict: rule removed, reloaded"
	n=$(grep -c "$decided" "$D/agent.err")
	touch "$D/go2"
	wait_count "$D/agent.err" "$decided" $((n + 1)) ||
		fail "verdict: phase 3's first write decided in user space"
	touch "$D/posted2"
	wait "$wlpid" || fail "verdict: workload ran"
	stop_agent "$D" || return
	check "verdict: writes on an fd opened before the reload follow the rules in force" \
		"$(printf "file_write $D/f 2%.0s\n" $(seq 1 50))" "$(reported "$D" "$(wl_pid "$D")" "$D/f")"
	# Without the kernel verdict recomputed, every write after a reload
	# would come up pending: 100 here.
	pending=$(grep -c "msg=\"pending event decided in user space\".* path=$D/f " \
		"$D/agent.err" || true)
	if [ "$pending" -ge 2 ] && [ "$pending" -le 3 ]; then
		ok "verdict: after each reload one write is decided in user space, the rest in the kernel ($pending)"
	else
		fail "verdict: kernel verdict recomputed after a reload" \
			"writes decided in user space: $pending (expected 2-3: one per reload, maybe the first)"
	fi
	check "verdict: two reloads counted" "2 0 0" \
		"$(summary_field "$D" reloads_ok) $(summary_field "$D" reloads_invalid) $(summary_field "$D" reloads_error)"
}

# A writer on a matching path through reloads that renumber the rule bits,
# switch between comm rules and any-comm rules, by ConfigMap symlink swaps
# and SIGHUP: every write is reported exactly once (each has its own size).
t_no_loss() {
	new_case noloss
	local n=600 wlpid pid got missing dup i args=()
	cat >"$D/v1.yaml" <<-YAML
	rules:
	  - name: steady
	    event: file_write
	    match:
	      pathPrefixes: ["$D/s"]
	      comms: ["wl-steady"]
	YAML
	cat >"$D/v2.yaml" <<-YAML
	rules:
	  - name: reads
	    event: file_read
	    match:
	      pathPrefixes: ["/nonexistent/"]
	  - name: any-writer
	    event: file_write
	    match:
	      pathPrefixes: ["$D/"]
	YAML
	cat >"$D/v3.yaml" <<-YAML
	rules:
	  - name: nobody
	    event: file_write
	    match:
	      comms: ["wl-nobody"]
	  - name: steady-again
	    event: file_write
	    match:
	      pathPrefixes: ["$D/s"]
	      comms: ["wl-steady"]
	YAML
	mkdir "$D/cm"
	k8s_init "$D/cm" "$D/v1.yaml"
	start_agent "$D" --rules "$D/cm/rules.yaml" || { fail "noloss: agent starts"; return; }
	args=(comm wl-steady open w "$D/s" as A)
	for i in $(seq 1 "$n"); do
		# time under test: the writer's pace (600 x 5 ms), so that its writes span all four reloads
		args+=(write A "$i" sleep-ms 5)
	done
	workload "$D" "${args[@]}" &
	wlpid=$!
	# The first swap once the writer is under way: its first write delivered.
	wait_for "the writer's first event" 10 grep -q "\"filename\":\"$D/s\"" "$D/agent.out" ||
		fail "noloss: the writer's first write is delivered"
	k8s_update "$D/cm" "$D/v2.yaml"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 1 || fail "noloss: swap 1 reloaded"
	k8s_update "$D/cm" "$D/v3.yaml"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 2 || fail "noloss: swap 2 reloaded"
	kill -HUP "$AGENT_PID"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 3 || fail "noloss: SIGHUP reloaded"
	k8s_update "$D/cm" "$D/v1.yaml"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 4 || fail "noloss: swap 3 reloaded"
	kill -0 "$wlpid" 2>/dev/null ||
		fail "noloss: the writer was still writing at the last reload (raise n)"
	wait "$wlpid" || fail "noloss: workload ran"
	stop_agent "$D" || return
	pid=$(wl_pid "$D")
	got=$(reported "$D" "$pid" "$D/s" | awk '{print $3}' | sort -n)
	missing=$(comm -23 <(seq 1 "$n" | sort) <(sort <<<"$got") | wc -l)
	dup=$(uniq -d <<<"$got" | wc -l)
	if [ "$missing" -eq 0 ] && [ "$dup" -eq 0 ] && [ "$(wc -l <<<"$got")" -eq "$n" ]; then
		ok "noloss: $n writes across 3 ConfigMap swaps and a SIGHUP, each reported once"
	else
		fail "noloss: every write reported exactly once" \
			"writes=$n reported=$(wc -l <<<"$got") missing=$missing duplicated=$dup" \
			"dropped_buffer=$(summary_field "$D" dropped_buffer)"
	fi
	check "noloss: 4 reloads, each logged with its source" "4" \
		"$(grep -c "msg=\"rules reloaded\".* source=$D/cm/rules.yaml " "$D/agent.err")"
	check "noloss: reloads counted" "4 0 0" \
		"$(summary_field "$D" reloads_ok) $(summary_field "$D" reloads_invalid) $(summary_field "$D" reloads_error)"
}

# A bad file (saved editor-style: temp file renamed over) is rejected with
# file:line:col, counted, and the old rules stay in force; the file missing
# for a while is not a reload; a good file after it is applied.
t_bad_file() {
	new_case bad
	local wlpid n
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: f
	    event: file_write
	    match:
	      pathPrefixes: ["$D/f"]
	YAML
	# debug: the agent says when it looked at the file and found it unchanged
	printf 'logLevel: debug\n' >"$D/config.yaml"
	start_agent "$D" --config "$D/config.yaml" --rules "$D/rules.yaml" ||
		{ fail "bad: agent starts"; return; }
	workload "$D" open w "$D/f" as A open w "$D/g" as G write A 1 write G 1 \
		wait-file "$D/go1" write A 2 write G 2 open w "$D/done1" as X close X \
		wait-file "$D/go2" write A 3 write G 3 &
	wlpid=$!
	mv "$D/rules.yaml" "$D/rules.yaml.orig"
	wait_count "$D/agent.err" 'msg="rules file missing; keeping the rules in force"' 1 ||
		fail "bad: a missing file is logged"
	printf 'rules:\n  - name: x\n    event: file_exec\n' >"$D/rules.yaml.tmp"
	mv "$D/rules.yaml.tmp" "$D/rules.yaml"
	if wait_count "$D/agent.err" 'msg="rules reload rejected' 1; then
		if grep 'msg="rules reload rejected' "$D/agent.err" |
			grep -q "error=\"$D/rules.yaml:3:12: rules\[0\].event: expected file_read, file_write, file_truncate, file_mmap, file_rename or file_link"; then
			ok "bad: rejected, logged with file:line:column"
		else
			fail "bad: rejected, logged with file:line:column" \
				"$(grep 'msg="rules reload rejected' "$D/agent.err")"
		fi
	else
		fail "bad: a YAML error is rejected"
	fi
	touch "$D/go1"
	wait_exists "$D/done1" || fail "bad: workload wrote phase 2"
	# No content change: neither a reload nor another rejection (counted
	# below), once the agent has looked at the touched file.
	n=$(grep -c 'msg="rules file event, content unchanged"' "$D/agent.err")
	touch "$D/rules.yaml"
	wait_count "$D/agent.err" 'msg="rules file event, content unchanged"' $((n + 1)) ||
		fail "bad: the touched file is looked at and found unchanged"
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: g
	    event: file_write
	    match:
	      pathPrefixes: ["$D/g"]
	YAML
	wait_count "$D/agent.err" 'msg="rules reloaded"' 1 || fail "bad: the good file is applied"
	touch "$D/go2"
	wait "$wlpid" || fail "bad: workload ran"
	stop_agent "$D" || return
	check "bad: old rules in force until a good file came" \
		"file_write $D/f 1
file_write $D/f 2
file_write $D/g 3" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
	check "bad: one success, one invalid (missing file and touch not counted)" "1 1 0" \
		"$(summary_field "$D" reloads_ok) $(summary_field "$D" reloads_invalid) $(summary_field "$D" reloads_error)"
}

# SIGHUP reloads even when nothing changed, and counts it; a SIGHUP with a
# bad file is rejected and counted too.
t_sighup() {
	new_case sighup
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: all-here
	    event: file_write
	    match:
	      pathPrefixes: ["$D/"]
	YAML
	start_agent "$D" --rules "$D/rules.yaml" || { fail "sighup: agent starts"; return; }
	kill -HUP "$AGENT_PID"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 1 || fail "sighup: first SIGHUP reloads"
	kill -HUP "$AGENT_PID"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 2 || fail "sighup: second SIGHUP reloads"
	check "sighup: logged as such, generations 2 and 3" "gen=2 trigger=sighup
gen=3 trigger=sighup" "$(grep 'msg="rules reloaded"' "$D/agent.err" |
		sed -n 's/.* \(gen=[0-9]*\) .* \(trigger=[a-z]*\).*/\1 \2/p')"
	workload "$D" open w "$D/x" as A write A 7
	stop_agent "$D" || return
	check "sighup: rules still in force" "file_write $D/x 7" \
		"$(reported "$D" "$(wl_pid "$D")" "$D/")"
	check "sighup: both counted" "2 0 0" \
		"$(summary_field "$D" reloads_ok) $(summary_field "$D" reloads_invalid) $(summary_field "$D" reloads_error)"
}

# An agent that watches nothing looks healthy: rules with no enabled rule
# or a relative prefix are refused at start (exit 1, saying why) and on
# reload (the rules in force stay), unless allowEmptyRules says otherwise
# (then accepted with a warning).
t_blind() {
	new_case blind
	local n
	printf 'rules: []\n' >"$D/empty.yaml"
	"$AGENT" --check --rules "$D/empty.yaml" >/dev/null 2>"$D/check.err"
	check "blind: no rules: --check exits 1" 1 "$?"
	# (bounded: an agent that accepted them would run until stopped)
	timeout -s TERM 30 "$AGENT" --rules "$D/empty.yaml" >/dev/null 2>"$D/start.err"
	check "blind: no rules at start: exit 1" 1 "$?"
	logged "blind: ... saying the agent would watch nothing and how to allow it" \
		"invalid rules: $D/empty.yaml: no rules: the agent would watch nothing; set allowEmptyRules: true" \
		"$D/start.err"
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: w
	    event: file_write
	    match:
	      pathPrefixes: ["$D/w"]
	YAML
	start_agent "$D" --rules "$D/rules.yaml" || { fail "blind: agent starts"; return; }
	n=0
	for text in 'rules: []' "rules:\n  - {name: w, event: file_write, enabled: false}" \
		"rules:\n  - {name: w, event: file_write, match: {pathPrefixes: [\"${D#/}/w\"]}}"; do
		# editor-style (a temp file renamed over): one change event
		printf '%b\n' "$text" >"$D/rules.yaml.tmp"
		mv "$D/rules.yaml.tmp" "$D/rules.yaml"
		n=$((n + 1))
		wait_count "$D/agent.err" 'msg="rules reload rejected' "$n" ||
			fail "blind: reload $n rejected"
	done
	grep 'msg="rules reload rejected' "$D/agent.err" >"$D/rejected"
	logged "blind: rules: [] rejected: no rules, would watch nothing" \
		'error=".*/rules.yaml: no rules: the agent would watch nothing' "$D/rejected"
	logged "blind: all disabled rejected: would watch nothing" \
		'error=".*/rules.yaml: no enabled rule \(1 rule, all disabled\): the agent would watch nothing' "$D/rejected"
	logged "blind: a relative prefix rejected with file:line:column" \
		'error=".*/rules.yaml:2:[0-9]+: rules\[0\]\.match\.pathPrefixes\[0\]: expected an absolute path' "$D/rejected"
	workload "$D" open w "$D/w" as A write A 5
	stop_agent "$D" || return
	check "blind: the rules in force stayed" "file_write $D/w 5" \
		"$(reported "$D" "$(wl_pid "$D")" "$D/")"
	check "blind: three invalid, none applied" "0 3 0" \
		"$(summary_field "$D" reloads_ok) $(summary_field "$D" reloads_invalid) $(summary_field "$D" reloads_error)"
	# The opt-in: accepted, with a warning at start and on reload.
	printf 'allowEmptyRules: true\n' >"$D/allow.yaml"
	mv "$D/agent.err" "$D/agent.err.1"
	start_agent "$D" --config "$D/allow.yaml" --rules "$D/empty.yaml" ||
		{ fail "blind: allowEmptyRules: true: the agent starts with no rules"; return; }
	kill -HUP "$AGENT_PID"
	wait_count "$D/agent.err" 'msg="rules reloaded"' 1 ||
		fail "blind: allowEmptyRules: true: a reload to no rules is applied"
	stop_agent "$D" || return
	check "blind: allowEmptyRules: true: warned at start and on reload" 2 \
		"$(grep -c 'level=warn msg="no enabled rule: the agent watches nothing (allowEmptyRules: true)"' "$D/agent.err")"
}

run_cases t_open_fd_verdict t_no_loss t_bad_file t_sighup t_blind
finish
