#!/usr/bin/env bash
# Benchmarks of sentinel-agent: syscall overhead against no agent and against
# a minimal BPF program, delivery/loss flat out and on bursts, ring buffer vs
# perf buffer, start-up time and peak RSS. Prints a Markdown report (and
# writes it to --out FILE). Run as root. See test/bench/README.md.
#
#   bench.sh [--quick] [--out FILE] [--duration S] [--rounds N] [--startup-runs N]
#
# Binaries (defaults: build/release of this checkout):
#   AGENT_BIN=.../sentinel-agent LOADGEN_BIN=.../sentinel-loadgen
#   PROBE_BIN=.../sentinel-minimal-probe
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build/release}
AGENT_BIN=${AGENT_BIN:-$BUILD/sentinel-agent}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD/test/bench/sentinel-loadgen}
PROBE_BIN=${PROBE_BIN:-$BUILD/test/bench/sentinel-minimal-probe}

DURATION=5
ROUNDS=3
STARTUP_RUNS=5
OUT=""
QUICK=0
CMDLINE="$0${*:+ $*}"

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=${2:?--out needs a file}; shift ;;
	--duration) DURATION=${2:?--duration needs seconds}; shift ;;
	--rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
	--startup-runs) STARTUP_RUNS=${2:?--startup-runs needs a number}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
if [ "$QUICK" -eq 1 ]; then
	DURATION=2
	ROUNDS=1
	STARTUP_RUNS=2
fi

die() {
	echo "bench: $*" >&2
	exit 1
}
log() { echo "bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (BPF)"
command -v jq >/dev/null || die "needs jq"
for b in "$AGENT_BIN" "$LOADGEN_BIN" "$PROBE_BIN"; do
	[ -x "$b" ] || die "missing $b (bash scripts/build.sh release)"
done

WORK=$(mktemp -d /dev/shm/sentinel-bench.XXXXXX)
LGDIR=$WORK/lg
mkdir -p "$LGDIR"
STARTED=() # pids this script started; only these are ever signalled

cleanup() {
	local p
	for p in "${STARTED[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${STARTED[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- inputs for the agent ----------------------------------------------------

cat >"$WORK/nomatch.yaml" <<'EOF'
rules:
  - name: nothing-here
    event: file_write
    match:
      pathPrefixes: ["/nonexistent/"]
EOF
for t in auto ringbuf perf; do
	cat >"$WORK/config-$t.yaml" <<EOF
probe:
  transport: $t
  ringBufferKiB: 16384
  perfBufferPagesPerCpu: 256
  drainIntervalMs: 10
EOF
done

# --- per-run results -----------------------------------------------------------
# Each array maps a row name to the space-separated values of its runs.
declare -A RATE CPURATE SYSC SECS CNT FWD FK DB DP UT UR SE HWM TRANSPORT PROBECNT SUMMARY
declare -A ROWDESC
ROWS=()

add() { # add ARRAY ROW VALUE
	local -n _a=$1
	_a[$2]+="${_a[$2]:+ }$3"
}

median() {
	# shellcheck disable=SC2086 # word splitting of the value list is intended
	printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "";
		      else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
sum() {
	# shellcheck disable=SC2086
	printf '%s\n' $1 | awk '{ s += $1 } END { printf "%d\n", s }'
}
fmt_int() { # 1234567.8 -> 1,234,568
	awk -v v="$1" 'BEGIN {
		if (v == "") { print "–"; exit }
		s = sprintf("%.0f", v); neg = (s ~ /^-/); if (neg) s = substr(s, 2)
		o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
		print (neg ? "-" : "") s o }'
}
fmt_list() { # all values, thousands separators, joined by " / "
	local v out=""
	for v in $1; do out+="${out:+ / }$(fmt_int "$v")"; done
	echo "$out"
}
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN { if (b == 0) print "–"; else printf f "\n", a / b }'; }

kv() { # kv LINE KEY -> value of KEY=value in a logfmt line
	sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"
}

wait_for() { # wait_for FILE PATTERN PID TIMEOUT_S: 0 once FILE has PATTERN
	local file=$1 pat=$2 pid=$3 deadline
	deadline=$(($(date +%s) + $4))
	until grep -q -- "$pat" "$file" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.005
	done
}

stop_pid() { # stop_pid PID: SIGTERM, wait, exit status in STOP_RC; forget PID
	local p keep=()
	STOP_RC=0
	kill -TERM "$1"
	wait "$1" || STOP_RC=$?
	for p in "${STARTED[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	STARTED=("${keep[@]}")
}

elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'; }

# run_loadgen ROW JSONFILE ARGS...: runs the load, records rate/syscalls/seconds
run_loadgen() {
	local row=$1 json=$2
	shift 2
	local TIMEFORMAT='%3U %3S' cpu
	{ time "$LOADGEN_BIN" --mode write --bytes 1 --append --dir "$LGDIR" "$@" \
		>"$json" 2>"$WORK/lg.err"; } 2>"$WORK/lg.time" ||
		die "loadgen failed: $(cat "$WORK/lg.err")"
	cpu=$(tail -n 1 "$WORK/lg.time" | awk '{ print $1 + $2 }')
	add RATE "$row" "$(jq -r .rate "$json")"
	add CPURATE "$row" "$(awk -v n="$(jq -r .syscalls "$json")" -v c="$cpu" \
		'BEGIN { printf "%.1f\n", (c > 0) ? n / c : 0 }')"
	add SYSC "$row" "$(jq -r .syscalls "$json")"
	add SECS "$row" "$(jq -r .seconds "$json")"
}

row() { # row NAME DESCRIPTION: declare a row once, in report order
	if [ -z "${ROWDESC[$1]+x}" ]; then
		ROWS+=("$1")
		ROWDESC[$1]=$2
	fi
}

# (a) no agent
bench_none() {
	row a "no agent"
	log "(a) no agent"
	run_loadgen a "$WORK/lg.json" --duration "$DURATION"
}

# (m) minimal probe: ROW FLAG
bench_probe() {
	local r=$1 flag=$2 pid
	row "$r" "minimal probe $flag ($([ "$flag" = --raw ] && echo raw_tracepoint/sys_exit ||
		echo tracepoint syscalls/sys_enter_write))"
	log "($r) sentinel-minimal-probe $flag"
	"$PROBE_BIN" "$flag" >"$WORK/probe.out" 2>"$WORK/probe.err" &
	pid=$!
	STARTED+=("$pid")
	wait_for "$WORK/probe.out" '^ready' "$pid" 60 ||
		die "minimal probe $flag did not get ready: $(cat "$WORK/probe.err")"
	run_loadgen "$r" "$WORK/lg.json" --duration "$DURATION"
	stop_pid "$pid"
	[ "$STOP_RC" -eq 0 ] || die "minimal probe $flag exited $STOP_RC: $(cat "$WORK/probe.err")"
	add PROBECNT "$r" "$(tail -n 1 "$WORK/probe.out" | jq -r .count)"
}

# start_agent OUTFILE RULES|"" CONFIG: sets APID, ARDY_MS (launch to ready)
start_agent() {
	local out=$1 rules=$2 config=$3 t0 t1
	local args=(--mode stdout --config "$config")
	[ -n "$rules" ] && args+=(--rules "$rules")
	t0=$EPOCHREALTIME
	"$AGENT_BIN" "${args[@]}" >"$out" 2>"$WORK/agent.err" &
	APID=$!
	STARTED+=("$APID")
	wait_for "$WORK/agent.err" 'msg="agent ready"' "$APID" 120 ||
		die "agent did not get ready: $(tail -n 20 "$WORK/agent.err")"
	t1=$EPOCHREALTIME
	ARDY_MS=$(elapsed_ms "$t0" "$t1")
	ASTART_MS=$(kv "$(grep 'msg="probe attached"' "$WORK/agent.err" | tail -n 1)" startup_ms)
	# The compile helper's peak (its rusage, logged by the agent).
	AHELPER_KIB=$(kv "$(grep 'msg="probe built"' "$WORK/agent.err" | tail -n 1)" helper_peak_rss_kib)
}

# stop_agent ROW: SIGTERM, checks exit 0, records the summary counters
stop_agent() {
	local r=$1 line
	stop_pid "$APID"
	[ "$STOP_RC" -eq 0 ] || die "agent exited $STOP_RC: $(tail -n 20 "$WORK/agent.err")"
	line=$(grep 'msg=stopped' "$WORK/agent.err" | tail -n 1)
	[ -n "$line" ] || die "agent printed no summary line"
	SUMMARY[$r]=${line#*msg=stopped }
	add FWD "$r" "$(kv "$line" forwarded)"
	add FK "$r" "$(kv "$line" filtered_kernel)"
	add DB "$r" "$(kv "$line" dropped_buffer)"
	add DP "$r" "$(kv "$line" dropped_perf)"
	add UT "$r" "$(kv "$line" untracked_fds)"
	add UR "$r" "$(kv "$line" unresolved)"
	add SE "$r" "$(kv "$line" sink_errors)"
	add TRANSPORT "$r" "$(kv "$(grep 'msg="probe attached"' "$WORK/agent.err" | tail -n 1)" transport)"
	grep -q 'no rules file; using built-in rules' "$WORK/agent.err" && BUILTIN_RULES_SEEN=1
	return 0
}
BUILTIN_RULES_SEEN=0

# bench_agent ROW DESC OUT(file|/dev/null) RULES CONFIG COUNT(0|1) LOADGEN-ARGS...
bench_agent() {
	local r=$1 desc=$2 out=$3 rules=$4 config=$5 count=$6 pid n
	shift 6
	row "$r" "$desc"
	log "($r) agent: $desc"
	start_agent "$out" "$rules" "$config"
	run_loadgen "$r" "$WORK/lg.json" "$@"
	[ "$r" = c ] && add HWM c "$(awk '/^VmHWM:/ { print $2 }' "/proc/$APID/status")"
	stop_agent "$r"
	if [ "$count" -eq 1 ]; then
		# the loadgen's events: its pid and a file in its directory
		pid=$(jq -r .pid "$WORK/lg.json")
		n=$(grep -F "\"pid\":\"$pid\"" "$out" | grep -cF "\"filename\":\"$LGDIR/" || true)
		add CNT "$r" "${n:-0}"
		rm -f "$out"
	fi
}

# --- run -------------------------------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
OTHERS_BEFORE=$(pgrep -x sentinel-agent | wc -l || true)
T_START=$EPOCHREALTIME
log "work dir $WORK; ${ROUNDS} round(s) of ${DURATION}s runs"

FLAT=(--duration "$DURATION")
BURST=(--burst 1000 --burst-interval-ms 100 --duration "$DURATION")
for ((i = 1; i <= ROUNDS; i++)); do
	log "round $i/$ROUNDS"
	bench_none
	bench_probe m-raw --raw
	bench_probe m-tp --tracepoint
	bench_agent b "agent, rules match nothing (file_write under /nonexistent/)" /dev/null \
		"$WORK/nomatch.yaml" "$WORK/config-auto.yaml" 0 "${FLAT[@]}"
	bench_agent c "agent, built-in rules (every event), stdout → /dev/null" /dev/null \
		"" "$WORK/config-auto.yaml" 0 "${FLAT[@]}"
	bench_agent c2 "agent, built-in rules, stdout → tmpfs file (counted)" "$WORK/agent.out" \
		"" "$WORK/config-auto.yaml" 1 "${FLAT[@]}"
	bench_agent burst "agent, built-in rules, bursts of 1000 writes every 100 ms" \
		"$WORK/agent.out" "" "$WORK/config-auto.yaml" 1 "${BURST[@]}"
	bench_agent rb "as (c'), probe.transport: ringbuf" "$WORK/agent.out" \
		"" "$WORK/config-ringbuf.yaml" 1 "${FLAT[@]}"
	bench_agent perf "as (c'), probe.transport: perf" "$WORK/agent.out" \
		"" "$WORK/config-perf.yaml" 1 "${FLAT[@]}"
done

log "start-up: $STARTUP_RUNS run(s)"
READY=""
ASTART=""
HELPER=""
for ((i = 1; i <= STARTUP_RUNS; i++)); do
	start_agent /dev/null "" "$WORK/config-auto.yaml"
	READY+="${READY:+ }$ARDY_MS"
	ASTART+="${ASTART:+ }${ASTART_MS:-0}"
	HELPER+="${HELPER:+ }${AHELPER_KIB:-0}"
	stop_agent startup
	sleep 0.2
done

T_TOTAL=$(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
OTHERS_AFTER=$(pgrep -x sentinel-agent | wc -l || true)

# --- report ------------------------------------------------------------------------

label() {
	case $1 in
	c2) echo "(c')" ;;
	burst | rb | perf) echo "$1" ;;
	*) echo "($1)" ;;
	esac
}

# paired per-round ratio rate(X)/rate(Y), median over rounds
paired_ratio() { # paired_ratio X Y [ARRAY]
	local -n _r=${3:-RATE}
	paste <(tr ' ' '\n' <<<"${_r[$1]}") <(tr ' ' '\n' <<<"${_r[$2]}") |
		awk '$2 > 0 { printf "%.3f\n", $1 / $2 }' | tr '\n' ' '
}

verdict() { # verdict OK(0|1)
	if [ "$1" -eq 1 ]; then echo "**met**"; else echo "**MISSED**"; fi
}

report() {
	local r ra rm rb rc ratio ratio_tp pr pr_m goal_b lost loss_ok=1 n cnt sys
	ra=$(median "${RATE[a]}")
	rm=$(median "${RATE[m-raw]}")
	rb=$(median "${RATE[b]}")
	rc=$(median "${RATE[c]}")
	echo "# sentinel-agent benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -n), kernel $(uname -r), $(nproc) CPUs"
	echo "- command: \`$CMDLINE\` (${ROUNDS} interleaved round(s), ${DURATION} s per run, ${T_TOTAL} s total)"
	echo "- load average before/after: $LOAD_BEFORE / $LOAD_AFTER;" \
		"other sentinel-agent processes before/after: $OTHERS_BEFORE / $OTHERS_AFTER"
	echo "- workload: \`sentinel-loadgen --mode write --bytes 1 --append\` (write(2) of 1 byte to an" \
		"O_APPEND file on tmpfs, one thread, flat out unless noted)"
	echo
	echo "## 1. Overhead on 1-byte write(2)"
	echo
	echo "| row | setup | syscalls/s (median) | vs (a) | added ns/syscall | all runs |" \
		"syscalls per CPU-s (median) | added CPU-ns/syscall |"
	echo "|---|---|---:|---:|---:|---|---:|---:|"
	for r in a m-raw m-tp b c c2; do
		[ -n "${RATE[$r]:-}" ] || continue
		local m mc
		m=$(median "${RATE[$r]}")
		mc=$(median "${CPURATE[$r]}")
		echo "| $(label "$r") | ${ROWDESC[$r]} | $(fmt_int "$m") | $(div "$m" "$ra") |" \
			"$(awk -v m="$m" -v a="$ra" 'BEGIN { printf "%.0f", 1e9 / m - 1e9 / a }') |" \
			"$(fmt_list "${RATE[$r]}") | $(fmt_int "$mc") |" \
			"$(awk -v m="$mc" -v a="$(median "${CPURATE[a]}")" \
				'BEGIN { printf "%.0f", 1e9 / m - 1e9 / a }') |"
	done
	echo
	ratio=$(div "$rm" "$rb")
	ratio_tp=$(div "$(median "${RATE[m-tp]}")" "$rb")
	pr=$(paired_ratio m-raw b)
	pr_m=$(median "$pr")
	goal_b=$(awk -v x="$ratio" 'BEGIN { print (x <= 1.15) ? 1 : 0 }')
	echo "- cost of (b) relative to the minimal raw-tracepoint program: rate(m-raw)/rate(b) =" \
		"**$ratio** (per round: ${pr% }; median $pr_m). Goal ≤ 1.15: $(verdict "$goal_b")."
	echo "- relative to the minimal \`sys_enter_write\` tracepoint program: rate(m-tp)/rate(b) = $ratio_tp."
	pr=$(paired_ratio m-raw b CPURATE)
	ratio=$(div "$(median "${CPURATE[m-raw]}")" "$(median "${CPURATE[b]}")")
	echo "- the same on the loadgen's CPU time (user+sys; insensitive to other processes taking the" \
		"CPU): cpurate(m-raw)/cpurate(b) = **$ratio** (per round: ${pr% };" \
		"median $(median "$pr")). Goal ≤ 1.15:" \
		"$(verdict "$(awk -v x="$ratio" 'BEGIN { print (x <= 1.15) ? 1 : 0 }')")."
	echo "- (b) kernel-filtered events (filtered_kernel, per run): $(fmt_list "${FK[b]}");" \
		"forwarded: $(fmt_list "${FWD[b]}")."
	echo "- (c) forwarding everything to /dev/null: rate(a)/rate(c) = $(div "$ra" "$rc");" \
		"delivered $(fmt_int "$(median "$(paste <(tr ' ' '\n' <<<"${FWD[c]}") \
			<(tr ' ' '\n' <<<"${SECS[c]}") | awk '{ print $1 / $2 }')")") events/s" \
		"(agent's \`forwarded\` counter / loadgen seconds, median; includes a few events of other processes)."
	echo
	echo "## 2. Delivery and loss"
	echo
	echo "Counted rows: JSON lines with the loadgen's pid and a file in its directory" \
		"(\`grep -F\`), against the syscalls the loadgen reports. (c) cannot be counted" \
		"(stdout is /dev/null): its loss is read from the agent's counters."
	echo
	echo "| row | load | transport | syscalls/s (median) | delivered events/s (median) |" \
		"events / syscalls (Σ runs) | lost (Σ) | dropped_buffer | dropped_perf |" \
		"untracked_fds | unresolved | sink_errors |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for r in c c2 burst rb perf; do
		[ -n "${RATE[$r]:-}" ] || continue
		local load="flat out" tr deliv evs lostcell
		[ "$r" = burst ] && load="1000 every 100 ms"
		tr=$(tr ' ' '\n' <<<"${TRANSPORT[$r]}" | sort -u | tr '\n' ' ')
		if [ "$r" = c ]; then
			deliv=$(paste <(tr ' ' '\n' <<<"${FWD[c]}") <(tr ' ' '\n' <<<"${SECS[c]}") |
				awk '{ print $1 / $2 }')
			evs="$(fmt_int "$(sum "${FWD[c]}")") fwd / $(fmt_int "$(sum "${SYSC[c]}")")"
			n=$(($(sum "${DB[c]}") + $(sum "${DP[c]}") + $(sum "${SE[c]}")))
			lostcell="$n (drop counters)"
			[ "$n" -eq 0 ] || loss_ok=0
		else
			deliv=$(paste <(tr ' ' '\n' <<<"${CNT[$r]}") <(tr ' ' '\n' <<<"${SECS[$r]}") |
				awk '{ print $1 / $2 }')
			cnt=$(sum "${CNT[$r]}")
			sys=$(sum "${SYSC[$r]}")
			evs="$(fmt_int "$cnt") / $(fmt_int "$sys")"
			lost=$((sys - cnt))
			lostcell="$(fmt_int "$lost") ($(awk -v l="$lost" -v s="$sys" \
				'BEGIN { printf "%.3f%%", s ? 100 * l / s : 0 }'))"
			case $r in c2 | burst) [ "$lost" -eq 0 ] || loss_ok=0 ;; esac
		fi
		echo "| $(label "$r") | $load | ${tr% } | $(fmt_int "$(median "${RATE[$r]}")") |" \
			"$(fmt_int "$(median "$deliv")") | $evs | $lostcell | $(sum "${DB[$r]}") |" \
			"$(sum "${DP[$r]}") | $(sum "${UT[$r]}") | $(sum "${UR[$r]}") | $(sum "${SE[$r]}") |"
	done
	echo
	echo "- Goal: zero loss flat out ((c), (c')) and on bursts: $(verdict "$loss_ok")."
	echo "- (c) lost = dropped_buffer + dropped_perf + sink_errors; \`fwd\` counts every process's" \
		"forwarded events, so it exceeds the loadgen's syscalls by the few others."
	echo "- \`unresolved\` events are not the loadgen's (its counted loss is separate): they come from" \
		"processes that exit within a drain interval of their first I/O on an inherited fd," \
		"e.g. this script's own short-lived helpers (jq, grep, awk) on inherited pipes."
	if [ "$BUILTIN_RULES_SEEN" -eq 0 ]; then
		echo "- WARNING: the agent did not report using its built-in rules in the (c) rows."
	fi
	echo
	echo "## 3. Start-up and memory"
	echo
	echo "| measure | median | all runs |"
	echo "|---|---:|---|"
	echo "| launch → \`agent ready\` (ms, polled every 5 ms) | $(fmt_int "$(median "$READY")") |" \
		"$(fmt_list "$READY") |"
	echo "| agent's own \`startup_ms\` (probe attached line) | $(fmt_int "$(median "$ASTART")") |" \
		"$(fmt_list "$ASTART") |"
	echo "| compile helper's peak RSS (sentinel-probe-build), MiB | $(awk -v k="$(median "$HELPER")" \
		'BEGIN { printf "%.1f", k / 1024 }') | $(tr ' ' '\n' <<<"$HELPER" |
		awk '{ printf "%s%.1f", (NR > 1 ? " / " : ""), $1 / 1024 }') |"
	echo "| the agent's peak RSS (VmHWM) in (c), ring buffer included, MiB | $(awk -v k="$(median "${HWM[c]}")" \
		'BEGIN { printf "%.1f", k / 1024 }') | $(tr ' ' '\n' <<<"${HWM[c]}" |
		awk '{ printf "%s%.1f", (NR > 1 ? " / " : ""), $1 / 1024 }') |"
	echo
	echo "## Agent summary lines (last run of each row)"
	echo
	echo '```'
	for r in b c c2 burst rb perf; do
		[ -n "${SUMMARY[$r]:-}" ] && printf '%-6s %s\n' "$(label "$r")" "${SUMMARY[$r]}"
	done
	echo '```'
	echo
	echo "Minimal probe counts (all processes, per run): m-raw $(fmt_list "${PROBECNT[m-raw]}");" \
		"m-tp $(fmt_list "${PROBECNT[m-tp]}")."
}

if [ -n "$OUT" ]; then
	report | tee "$OUT"
else
	report
fi
