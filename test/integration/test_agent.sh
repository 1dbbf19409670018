#!/usr/bin/env bash
# Integration tests of sentinel-agent with real BPF: exact paths and byte
# counts for every syscall family, fd tracking, filtering in the kernel,
# loss accounting. Run as root: test_agent.sh AGENT WORKLOAD
set -uo pipefail
AGENT=$(readlink -f "$1")
WORKLOAD=$(readlink -f "$2")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root (BPF)"; exit 1; }
command -v jq >/dev/null || { echo "integration tests need jq"; exit 1; }

# The agent's default rules forward everything under /: the workload's
# events are picked out by pid and by the test directory.

# Each call as it returned: the 1000-byte read is short (101 bytes left),
# the read after it at end of file moved nothing and is no event.
t_syscall_families() {
	new_case families
	local wl pid
	start_agent "$D" || { fail "families: agent starts"; return; }
	workload "$D" open w "$D/a.txt" as A write A 5 pwrite A 7 100 writev A 3,4 \
		pwritev A 2,2 0 pwritev2 A 1,1 -1 close A \
		open r "$D/a.txt" as B read B 3 pread B 4 10 readv B 1,2 preadv B 2,2 0 \
		preadv2 B 1,1 0 read B 1000 read B 10 close B
	stop_agent "$D" || return
	pid=$(wl_pid "$D")
	need "families: the workload's pid" "$pid" || return
	check "families: every read and write with exact path and bytes" \
		"$(expected "$D" "$D/")" "$(reported "$D" "$pid" "$D/")"
	# Each event names the call (data.syscall), in the workload's order.
	check "families: data.syscall names each call" \
		"write pwrite64 writev pwritev pwritev2 read pread64 readv preadv preadv2 read" \
		"$(jq -r --arg p "$pid" --arg f "$D/a.txt" \
			'select(.data.pid == $p and .data.filename == $f) | .data.syscall' "$D/agent.out" |
			paste -sd ' ' -)"
	check "families: tid and comm reported" "$pid sentinel-worklo" \
		"$(jq -r --arg p "$pid" 'select(.data.pid == $p) | "\(.data.tid) \(.data.comm)"' \
			"$D/agent.out" | sort -u | head -n 1)"
	need "families: the agent's pid is known" "$AGENT_LAST_PID" &&
		check "families: agent reports none of its own I/O" "0" \
			"$(jq -r --arg p "$AGENT_LAST_PID" 'select(.data.pid == $p)' "$D/agent.out" | wc -l)"
	check "families: every line is JSON with the envelope fields" "0" \
		"$(jq -c 'select((.event_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4")) and .ts_unix_nano > 0
			and (.hostname | length) > 0 and (.data | has("filename","bytes","comm","pid","tid"))
			| not)' "$D/agent.out" | wc -l)"
}

t_relative_paths() {
	new_case relative
	mkdir -p "$D/sub/deeper"
	start_agent "$D" || { fail "relative: agent starts"; return; }
	workload "$D" chdir "$D" openat-cwd w rel.txt as A write A 3 \
		opendir "$D/sub" as S openat S w f.txt as F write F 4 \
		openat2 S r f.txt as G read G 2 \
		chdir sub/deeper open w ../x.txt as X write X 1 open w ./../../y.txt as Y write Y 2 \
		creat "$D/c.txt" as C write C 2 \
		fchdir S openat-cwd w z.txt as Z write Z 5 \
		thread chdir "$D/sub/deeper" open w w.txt as W write W 6 end
	stop_agent "$D" || return
	check "relative: openat(AT_FDCWD), openat(dirfd), openat2, chdir, fchdir, creat" \
		"$(expected "$D" "$D/")" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

t_dup_family() {
	new_case dup
	start_agent "$D" || { fail "dup: agent starts"; return; }
	workload "$D" open w "$D/d.txt" as A dup A as B write B 1 dup2 A 50 as C write C 2 \
		dup3 A 51 as E write E 3 fcntl-dupfd A 60 as F write F 4 \
		fcntl-dupfd-cloexec A 70 as G write G 5 close A write B 6 \
		open w "$D/other.txt" as O dup2 O 50 as H write H 7 \
		close-range 50 80 open w "$D/third.txt" as T dup2 T 51 as I write I 8 \
		dup2 T 300 as J write J 9 write B 10
	stop_agent "$D" || return
	# fd 300 grows the table past the 64 fds files_struct embeds: the
	# probe then reads it through fdt (fd 300 and a low fd again).
	check "dup: dup, dup2, dup3, F_DUPFD(_CLOEXEC), dup2 over a tracked fd, close_range, a grown fd table" \
		"$(expected "$D" "$D/")" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

t_fd_before_agent() {
	new_case before
	local wlpid
	workload "$D" open w "$D/pre.txt" as A write A 1 chdir "$D" wait-file "$D/go" \
		write A 9 openat-cwd w rel-after.txt as R write R 2 close A &
	wlpid=$!
	start_agent "$D" || { fail "before: agent starts"; return; }
	touch "$D/go"
	wait "$wlpid"
	stop_agent "$D" || return
	check "before: fd and cwd from before the agent started named by the kernel" \
		"file_write $D/pre.txt 9
file_write $D/rel-after.txt 2" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

# An fd from before the agent that the process closes and gets back from
# pipe(2): the kernel names the file behind the fd at each call, so the pipe
# is not reported under the file's old name.
t_fd_before_agent_reused() {
	new_case before-reused
	local wlpid
	workload "$D" open w "$D/pre.txt" as A wait-file "$D/go" close A \
		pipe as R W write W 3 read R 3 &
	wlpid=$!
	start_agent "$D" || { fail "before-reused: agent starts"; return; }
	touch "$D/go"
	wait "$wlpid"
	stop_agent "$D" || return
	check "before-reused: a number reused by a pipe is not the old file" "" \
		"$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

t_rename_while_open() {
	new_case rename
	start_agent "$D" || { fail "rename: agent starts"; return; }
	workload "$D" open w "$D/r1.txt" as A write A 1 rename "$D/r1.txt" "$D/r2.txt" write A 2
	stop_agent "$D" || return
	# The kernel's name at each call: the rename makes the next write's
	# name the new one; the rename is an event of its own (built-in rules).
	check "rename: each write carries the file's name at the time" \
		"file_write $D/r1.txt 1
file_rename $D/r2.txt 0
file_write $D/r2.txt 2" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
	check "rename: the rename's old name" "$D/r1.txt" \
		"$(jq -r 'select(.event_type == "file_rename") | .data.source' "$D/agent.out")"
}

t_filter_prefix_comm() {
	new_case filter
	mkdir -p "$D/keep" "$D/drop"
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: keep-writes
	    event: file_write
	    match:
	      pathPrefixes: ["$D/keep"]
	  - name: reader-reads
	    event: file_read
	    match:
	      pathPrefixes: ["$D/"]
	      comms: ["wl-reader"]
	  - name: disabled
	    enabled: false
	    event: file_write
	    match:
	      pathPrefixes: ["$D/drop"]
	YAML
	start_agent "$D" --rules "$D/rules.yaml" || { fail "filter: agent starts"; return; }
	workload "$D" open rw "$D/keep/a" as A write A 1 open w "$D/drop/b" as B write B 2 \
		pread A 1 0 comm wl-reader pread A 1 0 write B 3 write A 4
	stop_agent "$D" || return
	check "filter: pathPrefixes and comms, disabled rule ignored" \
		"file_write $D/keep/a 1
file_read $D/keep/a 1
file_write $D/keep/a 4" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

t_kernel_filter_proof() {
	new_case kfilter
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: nothing-here
	    event: file_write
	    match:
	      pathPrefixes: ["/nonexistent/"]
	      comms: ["wl-kfilter"]
	YAML
	printf 'logLevel: debug\n' >"$D/config.yaml"
	start_agent "$D" --config "$D/config.yaml" --rules "$D/rules.yaml" ||
		{ fail "kfilter: agent starts"; return; }
	# The file's first write names it and is decided in user space; the
	# rest wait until the agent has posted that verdict (it logs the
	# decision at debug right after posting it).
	local wlpid
	workload "$D" comm wl-kfilter open w "$D/f" as A write A 1 wait-file "$D/go" \
		repeat 20000 write A 1 end &
	wlpid=$!
	wait_for "the first write decided in user space" 8 lines_ge "$D/agent.err" \
		"msg=\"pending event decided in user space\".* path=$D/f " 1 ||
		fail "kfilter: the file's first write is decided in user space"
	touch "$D/go"
	wait "$wlpid" || fail "kfilter: workload ran"
	stop_agent "$D" || return
	local filtered fwd in_user
	filtered=$(summary_field "$D" filtered_kernel)
	fwd=$(summary_field "$D" forwarded)
	# Every record that reaches user space undecided is logged at debug.
	in_user=$(grep -c "msg=\"pending event decided in user space\".* path=$D/f " "$D/agent.err" || true)
	if [ "$filtered" -ge 20000 ] && [ "$in_user" -eq 1 ] && [ "$fwd" -eq 0 ]; then
		ok "kfilter: 20000 non-matching writes filtered in the kernel, only the first copied out (filtered_kernel=$filtered)"
	else
		fail "kfilter: non-matching writes must not reach user space" \
			"filtered_kernel=$filtered records_for_file_in_user_space=$in_user forwarded=$fwd"
	fi
}

# flood FILE TYPE STEP...: a workload (comm wl-flood) opens FILE for
# writing as A, does STEP (an event of TYPE) once, waits until the agent
# delivered it (the agent posts a file's verdict before it forwards the
# file's first event, so from then on every event is decided in the
# kernel), then does STEP 200000 times, into a 64 KiB ring drained once a
# second, under rules that match TYPE on FILE only; then stops the agent.
# Sets FLOOD_N (events made) and FLOOD_GOT (those delivered); 1 on failure.
flood() {
	local file=$1 type=$2 n=200000 wlpid
	shift 2
	cat >"$D/rules.yaml" <<-YAML
	rules:
	  - name: flood
	    event: $type
	    match:
	      comms: ["wl-flood"]
	      pathPrefixes: ["$file"]
	YAML
	printf 'probe:\n  ringBufferKiB: 64\n  drainIntervalMs: 1000\n' >"$D/config.yaml"
	start_agent "$D" --config "$D/config.yaml" --rules "$D/rules.yaml" ||
		{ fail "$type flood: agent starts"; return 1; }
	workload "$D" comm wl-flood open w "$file" as A "$@" wait-file "$D/go" \
		repeat "$n" "$@" end &
	wlpid=$!
	wait_for "the flood file's first event delivered" 10 lines_ge "$D/agent.out" \
		"\"filename\":\"$file\"" 1 || fail "$type flood: the first event is delivered"
	touch "$D/go"
	wait "$wlpid" || fail "$type flood: workload ran"
	FLOOD_N=$((n + 1))
	stop_agent "$D" || return 1
	FLOOD_GOT=$(grep -c "\"event_type\":\"$type\".*\"filename\":\"$file\"" "$D/agent.out" || true)
}

# flood_identity LABEL CLASS MADE GOT: after a flood, the buffer overflowed
# (the stop summary's CLASS, a loss counter, is not 0) and every event made
# was delivered or counted there: MADE == GOT + CLASS, exactly, not a bound.
flood_identity() {
	local label=$1 class=$2 made=$3 got=$4 dropped
	dropped=$(summary_field "$D" "$class")
	need "$label: the summary's $class" "$dropped" || return 1
	if [ "$dropped" -gt 0 ]; then
		ok "$label: a 64 KiB buffer drained once a second overflows ($dropped lost)"
	else
		fail "$label: the buffer must overflow" "$class=$dropped"
	fi
	check "$label: made == delivered + $class ($got + $dropped)" "$made" "$((got + dropped))"
}

t_flood_drops_counted() {
	new_case flood
	local dropped
	flood "$D/f" file_write write A 1 || return
	# The file's verdict was decided before the flood began, and the rule matches no other file (the workload's
	# own log is not matched), so each of its writes is delivered or
	# counted as a lost matched write.
	flood_identity flood dropped_write_matched "$FLOOD_N" "$FLOOD_GOT" || return
	dropped=$(summary_field "$D" dropped_write_matched)
	# (dropped_write_pending is not 0: the workload's own log writes, before
	# their file's verdict came, are among the records lost.)
	check "flood: no rate limit" "0" "$(summary_field "$D" rate_limited_write)"
	local total
	total=$(summary_field "$D" dropped_buffer)
	need "flood: the summary's dropped_buffer" "$total" || return
	check "flood: dropped_buffer is the sum of its classes" "$total" \
		"$(($(summary_field "$D" dropped_read_matched) + $(summary_field "$D" dropped_read_pending) +
			dropped + $(summary_field "$D" dropped_write_pending) +
			$(summary_field "$D" dropped_truncate_matched) +
			$(summary_field "$D" dropped_truncate_pending) +
			$(summary_field "$D" dropped_mmap_matched) + $(summary_field "$D" dropped_mmap_pending) +
			$(summary_field "$D" dropped_rename_pending) +
			$(summary_field "$D" dropped_link_pending) +
			$(summary_field "$D" dropped_internal)))"
}

# The same identity for another event type: a flood of ftruncate(2) calls
# (each one a file_truncate event) into a 64 KiB buffer drained once a
# second: truncated == delivered + dropped_truncate_matched, exactly.
t_flood_truncate_drops_counted() {
	new_case tflood
	flood "$D/t" file_truncate truncate A 0 || return
	flood_identity "truncate flood" dropped_truncate_matched "$FLOOD_N" "$FLOOD_GOT" || return
	check "truncate flood: no write counted for them" 0 "$(summary_field "$D" dropped_write_matched)"
}

# And for renames, which are always decided in user space (pending): a
# flood of rename(2) back and forth between two names (each a file_rename
# event of 17 KiB) into a 64 KiB buffer drained once a second, under a rule
# of one comm, so that no other process's renames are in the kernel's
# counts: renamed == delivered + dropped_rename_pending, exactly.
t_flood_rename_drops_counted() {
	new_case rflood
	flood "$D/ra" file_rename rename "$D/ra" "$D/rb" rename "$D/rb" "$D/ra" || return
	# two renames a step; each a file_rename, delivered whatever its name
	flood_identity "rename flood" dropped_rename_pending "$((2 * FLOOD_N))" \
		"$(grep -c '"event_type":"file_rename"' "$D/agent.out" || true)" || return
	check "rename flood: none filtered in user space" 0 "$(summary_field "$D" filtered_user)"
	check "rename flood: no other type counted for them" 0 \
		"$(($(summary_field "$D" dropped_write_matched) + $(summary_field "$D" dropped_link_pending)))"
}

# The struct offsets the probe walks with come from the running kernel's
# BTF: without BTF the agent refuses to start; with another kernel's
# (Debian 6.1's, where 16 of the members sit elsewhere) the same write is
# not named right. So the right names everywhere else came from BTF, not
# from the (6.1) headers libbcc compiles against here.
t_btf_source() {
	new_case btf
	local rc=0 b61=${SENTINEL_BTF_61:-/var/cache/sentinel-ebpf/btf/vmlinux-6.1} got
	printf 'health: {port: 0}\nmetrics: {port: 0}\n' >"$D/ports.yaml"
	SENTINEL_BTF_PATH=/nonexistent "$AGENT" --mode stdout --config "$D/ports.yaml" >/dev/null \
		2>"$D/nobtf.err" || rc=$?
	# Without BTF the headers are the fallback, but only the running
	# kernel's: here they are 6.1's and the kernel 6.18, so it refuses.
	check "btf: without BTF, and headers of another kernel, the agent refuses to start (exit 1)" 1 "$rc"
	if grep -q 'msg="no BTF for the running kernel, and no headers of it: the probe cannot name files" btf_error="cannot open BTF /nonexistent: .*" headers=[^ ]* running='"$(uname -r)" \
		"$D/nobtf.err"; then
		ok "btf: the error names the BTF file, the headers' and the running kernel's versions"
	else
		fail "btf: the error names the BTF file, the headers' and the running kernel's versions" \
			"$(grep level=error "$D/nobtf.err")"
	fi
	# Forced onto those headers (a test switch), the headers mode
	# compiles (offsets as offsetof expressions, no struct mount), loads
	# and attaches, and says loudly that its names are not to be trusted.
	rc=0
	SENTINEL_BTF_PATH=/nonexistent SENTINEL_HEADERS_ANY_VERSION=1 start_agent "$D" \
		--config "$D/ports.yaml" || rc=1
	check "btf: headers mode compiles and attaches (forced)" 0 "$rc"
	if grep -q 'level=warn msg="struct offsets from the headers of ANOTHER kernel' "$D/agent.err"; then
		ok "btf: headers of another kernel are flagged loudly"
	else
		fail "btf: headers of another kernel are flagged loudly" "$(grep -E 'level=(warn|error)' "$D/agent.err")"
	fi
	[ "$rc" = 0 ] && { stop_agent "$D" || true; }
	if [ ! -r "$b61" ]; then
		fail "btf: another kernel's BTF to compare with" "$b61 missing (test/tools/fetch_btf61.sh)"
		return
	fi
	mkdir -p "$D/deep/er"
	SENTINEL_BTF_PATH=$b61 start_agent "$D" || { fail "btf: agent starts with 6.1's BTF"; return; }
	workload "$D" open w "$D/deep/er/x.txt" as A write A 7
	stop_agent "$D" || return
	local pid
	pid=$(wl_pid "$D")
	need "btf: the workload's pid" "$pid" || return
	got=$(jq -r --arg p "$pid" 'select(.data.pid == $p and .data.bytes == "7") | .data.filename' \
		"$D/agent.out")
	if [ "$got" != "$D/deep/er/x.txt" ]; then
		ok "btf: with 6.1's offsets the write is not named right (got '${got:0:60}')"
	else
		fail "btf: 6.1's offsets must not name the file right (the offsets would not matter)"
	fi
}

t_perf_transport() {
	new_case perf
	printf 'probe:\n  transport: perf\n' >"$D/config.yaml"
	start_agent "$D" --config "$D/config.yaml" || { fail "perf: agent starts"; return; }
	grep -q 'transport=perf' "$D/agent.err" || fail "perf: perf transport selected"
	workload "$D" open w "$D/p.txt" as A write A 5 writev A 1,2 open r "$D/p.txt" as B read B 8
	stop_agent "$D" || return
	check "perf: fallback transport delivers the same events" \
		"$(expected "$D" "$D/")" "$(reported "$D" "$(wl_pid "$D")" "$D/")"
}

t_odd_names() {
	new_case odd
	local name
	name=$(printf '%s/q"uote\\back\nnew\tline-\377-\303\251.txt' "$D")
	start_agent "$D" || { fail "odd: agent starts"; return; }
	printf 'x' >>"$name"
	stop_agent "$D" || return
	if jq -e . "$D/agent.out" >/dev/null; then ok "odd: output is valid JSON"; else fail "odd: output is valid JSON"; fi
	# surrogateescape: python's fsencode gives back the exact bytes
	# python3 is a test dependency (scripts/setup.sh): without it this
	# check fails rather than vanishing.
	if ! command -v python3 >/dev/null; then
		fail "odd: filename bytes round-trip exactly" "python3 is missing"
	else
		check "odd: filename bytes round-trip exactly" "1" "$(python3 -c '
import json, os, sys
want = os.fsencode(sys.argv[2])
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="surrogatepass"):
    e = json.loads(line)
    if os.fsencode(e["data"]["filename"]) == want and e["event_type"] == "file_write":
        n += 1
print(n)' "$D/agent.out" "$name")"
	fi
}

t_prompt_output() {
	new_case prompt
	start_agent "$D" || { fail "prompt: agent starts"; return; }
	workload "$D" open w "$D/now.txt" as A write A 3
	local seen=0
	# The deadline is the claim: within a second.
	wait_for "the event on stdout" 1 grep -q "\"filename\":\"$D/now.txt\"" "$D/agent.out" &&
		seen=1
	stop_agent "$D" || return
	check "prompt: an event is on stdout within a second" 1 "$seen"
}

t_bad_rules() {
	new_case badrules
	local rc=0 err
	printf 'rules:\n  - name: x\n    event: file_exec\n' >"$D/bad.yaml"
	err=$("$AGENT" --check --rules "$D/bad.yaml" 2>&1) || rc=$?
	check "bad rules: --check exits 1" 1 "$rc"
	if grep -q "$D/bad.yaml:3:12: .*file_read, file_write, file_truncate, file_mmap, file_rename or file_link" <<<"$err"; then
		ok "bad rules: error names file:line:column and what was expected"
	else
		fail "bad rules: error names file:line:column and what was expected" "$err"
	fi
	rc=0
	"$AGENT" --mode stdout --rules "$D/bad.yaml" >/dev/null 2>&1 || rc=$?
	check "bad rules: the agent refuses to start" 1 "$rc"
	rc=0
	"$AGENT" --check --rules "$D/missing.yaml" >/dev/null 2>&1 || rc=$?
	check "bad rules: an unreadable rules file is an error" 1 "$rc"
	rc=0
	"$AGENT" --check >/dev/null 2>&1 || rc=$?
	check "defaults: --check with built-in config and rules exits 0" 0 "$rc"
	printf 'stream:\n  mode: grpc\n  batchSize: lots\n' >"$D/bad-config.yaml"
	rc=0
	err=$("$AGENT" --check --config "$D/bad-config.yaml" 2>&1) || rc=$?
	check "bad config: --check exits 1" 1 "$rc"
	if grep -q "$D/bad-config.yaml:3:14: .*expected an integer" <<<"$err"; then
		ok "bad config: error names file:line:column and what was expected"
	else
		fail "bad config: error names file:line:column and what was expected" "$err"
	fi
}

# Short-lived children writing to an fd they got at fork (a shell's
# redirection), gone long before the agent reads their events: the kernel
# names the file at the call. 50 subshells write "a" to
# fd 3 through `>&3` (a dup2 onto fd 1), 50 more write "bb" from a
# grandchild whose parent never touched fd 3, and 50 exec'd printf write
# "ccc" to the fd 1 that `{ ...; } >&3` set up in the parent shell.
inherit_case() {
	local name=$1 n=50 shpid got
	shift
	new_case "$name"
	start_agent "$D" "$@" || { fail "$name: agent starts"; return; }
	# shellcheck disable=SC2016 # expanded by the inner shell
	sh -c 'exec 3>>"$1"; echo $$ >"$2"; i=0
		while [ "$i" -lt "$3" ]; do
			(printf a >&3); ( (printf bb >&3); : ); { /usr/bin/printf ccc; } >&3
			i=$((i + 1))
		done' \
		sh "$D/inherit.txt" "$D/sh.pid" "$n"
	stop_agent "$D" || return
	shpid=$(cat "$D/sh.pid")
	need "inherit: the shell's pid" "$shpid" || return
	got=$(jq -r --arg f "$D/inherit.txt" --arg p "$shpid" \
		'select(.data.filename == $f and .data.pid != $p) | "\(.data.pid) \(.data.bytes)"' \
		"$D/agent.out" | sort -u | awk '{ n[$2]++ } END { printf "a=%d bb=%d ccc=%d", n[1], n[2], n[3] }')
	check "$name: every write of $((3 * n)) short-lived children named" \
		"a=$n bb=$n ccc=$n" "$got"
}

# A child that closes its inherited fd and gets the number back from a pipe
# must not be named from the parent. Its sibling's write on the inherited
# fd is named.
inherit_reused() {
	new_case inherit-reused
	start_agent "$D" || { fail "inherit-reused: agent starts"; return; }
	workload "$D" open w "$D/parent.txt" as A write A 1 \
		fork close A pipe as R W write W 3 read R 3 end fork write A 2 end
	stop_agent "$D" || return
	check "inherit-reused: the fd reused by a pipe is not the parent's file; the inherited one is" \
		"file_write $D/parent.txt 1
file_write $D/parent.txt 2" \
		"$(jq -r --arg f "$D/parent.txt" 'select(.data.filename == $f)
			| "\(.event_type) \(.data.filename) \(.data.bytes)"' "$D/agent.out")"
}

t_inherited_fds() {
	inherit_reused
	inherit_case inherit
	printf 'probe:\n  transport: perf\n' >"$TMP_ROOT/perf-config.yaml"
	inherit_case inherit-perf --config "$TMP_ROOT/perf-config.yaml"
}

# The compile runs in sentinel-probe-build, which hands the loaded probe
# over and exits: the long-running agent never maps libLLVM, libclang or
# libbcc, keeps no child, and its tail calls still work (cp, through
# copy_file_range, is decided by a tail-called program: the kernel empties a
# program array once no user-space fd holds it, so this fails if the agent
# does not keep it). A missing or failing helper is a clear error; a killed
# agent takes its compile with it.
t_compile_helper() {
	new_case helper
	start_agent "$D" || { fail "helper: agent starts"; return; }
	local maps kids
	maps=$(grep -E -c 'libLLVM|libclang|libbcc' "/proc/$AGENT_PID/maps" || true)
	check "helper: the running agent maps no libLLVM, libclang or libbcc" 0 "$maps"
	kids=$(pgrep -P "$AGENT_PID" | wc -l)
	check "helper: the compile helper is gone once the agent is ready" 0 "$kids"
	logged "helper: the log names the compile's time and peak memory" \
		'msg="probe built" helper_ms=[0-9]+ helper_peak_rss_kib=[1-9][0-9]* programs=[1-9]' "$D/agent.err"
	head -c 777 /dev/urandom >"$D/src.bin"
	cp "$D/src.bin" "$D/copy.bin"
	stop_agent "$D" || return
	check "helper: cp's copy_file_range is reported (tail calls work after the helper exited)" \
		"file_write 777" \
		"$(jq -r --arg f "$D/copy.bin" 'select(.data.filename == $f and .event_type == "file_write")
			| "\(.event_type) \(.data.bytes)"' "$D/agent.out" | sort -u)"
	local rc=0
	SENTINEL_PROBE_BUILD=/bin/false "$AGENT" --mode stdout --config "$D/ports.yaml" \
		>/dev/null 2>"$D/false.err" || rc=$?
	check "helper: a failing helper stops the agent (exit 1)" 1 "$rc"
	logged "helper: the error names the helper and its exit status" \
		'msg="the probe.s compile helper failed \(its log above says why\)" helper=/bin/false exit=1' \
		"$D/false.err"
	# SIGKILL mid-compile: the helper dies with the agent (PDEATHSIG).
	"$AGENT" --mode stdout --config "$D/ports.yaml" >/dev/null 2>"$D/kill.err" &
	local apid=$! hpid=
	wait_for "the compile helper to start" 10 pgrep -P "$apid" -x sentinel-probe- >/dev/null
	hpid=$(pgrep -P "$apid" | head -n 1)
	kill -KILL "$apid"
	wait "$apid" 2>/dev/null || true
	if [ -n "$hpid" ] && wait_for "the helper to die with the agent" 5 bash -c "! kill -0 $hpid 2>/dev/null"; then
		ok "helper: a killed agent's compile helper dies with it"
	else
		fail "helper: a killed agent's compile helper dies with it" "helper pid '${hpid}'"
		[ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null
	fi
}

run_cases t_compile_helper t_syscall_families t_relative_paths t_dup_family t_fd_before_agent t_fd_before_agent_reused t_rename_while_open t_inherited_fds t_filter_prefix_comm t_kernel_filter_proof t_flood_drops_counted t_flood_truncate_drops_counted t_flood_rename_drops_counted t_btf_source t_perf_transport t_odd_names t_prompt_output t_bad_rules
finish
