#!/usr/bin/env bash
# What the probe costs per syscall, from the kernel's own accounting
# (kernel.bpf_stats_enabled=1: run_time_ns and run_cnt per program), which
# scheduling noise does not move the way wall-clock rates move here.
#
#   bash test/bench/bpf_stats.sh [ROUNDS] [AGENT...]     (root; default 5 rounds)
#
# Each round runs, one after the other (interleaved, so a drift of the
# machine hits every candidate alike): the minimal probe
# (sentinel-minimal-probe on raw sys_exit: the floor), then each AGENT with
# rules that match nothing the load writes (a path rule on /nonexistent/:
# every write is decided in the kernel, the case the budget is about), each
# for SECONDS of sentinel-loadgen --mode write --bytes 1 --append flat out.
# Per candidate it prints the median over rounds of the nanoseconds all its
# raw_tracepoint programs ran per syscall (sum of run_time_ns over the
# programs, divided by the sys_exit program's run_cnt: every syscall runs
# each program once), and that minus the floor.
#
# LOAD_MODE=open-close measures instead what the probe costs on calls it
# does not report (openat + close: close is a 32-bit read's number, whose
# entry reads a register and whose exit looks up the in-flight map).
# LOAD_MODE=ioctl: ioctl(FIONREAD), whose cmd the probe reads at entry and
# exit to tell a reflink (FICLONE) from the rest. LOAD_MODE=mprotect: a
# JIT's W^X toggle on an anonymous page (every other call adds PROT_WRITE,
# which the probe looks up among the file ranges it remembers).
#
# BUILD (default build/release) names sentinel-minimal-probe and
# sentinel-loadgen; AGENTs default to $BUILD/sentinel-agent. SECONDS: 3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build/release}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
LOAD_MODE=${LOAD_MODE:-write}
case $LOAD_MODE in
write) load_args=(--mode write --bytes 1 --append) ;;
open-close) load_args=(--mode open-close) ;;
ioctl) load_args=(--mode ioctl) ;;
mprotect) load_args=(--mode mprotect) ;;
*) echo "bpf_stats: LOAD_MODE is write, open-close, ioctl or mprotect" >&2; exit 2 ;;
esac
rounds=${1:-5}
shift || true
agents=("$@")
[ "${#agents[@]}" -gt 0 ] || agents=("$BUILD/sentinel-agent")
PROBE=$BUILD/test/bench/sentinel-minimal-probe
LOADGEN=$BUILD/test/bench/sentinel-loadgen
for b in "$PROBE" "$LOADGEN" "${agents[@]}"; do
	[ -x "$b" ] || { echo "bpf_stats: $b is missing (build it first)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "bpf_stats: needs root" >&2; exit 2; }

work=$(mktemp -d /tmp/sentinel-bpfstats.XXXXXX)
prev=$(sysctl -n kernel.bpf_stats_enabled)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$prev"
	rm -rf "$work"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1
mkdir -p "$work/load"
printf 'rules:\n  - {name: none, event: file_write, match: {pathPrefixes: ["/nonexistent/"]}}\n' \
	>"$work/rules.yaml"
printf 'health: {port: 0}\nmetrics: {port: 0}\n' >"$work/config.yaml"

# ns_per_syscall PID: the candidate's raw_tracepoint programs' time per
# syscall. Its programs are those whose ids its fds hold (/proc/PID/fdinfo:
# bpftool's own pid column needs a bpftool built with it).
ns_per_syscall() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | jq -sc .)
	bpftool prog show -j | jq -r --argjson ids "$ids" '
		[.[] | select(.type == "raw_tracepoint" and (.id as $i | $ids | index($i)))]
		| (map(.run_time_ns) | add) as $t
		| (map(select(.name | test("sys_exit"))) | .[0].run_cnt) as $n
		| def per(re): (map(select(.name | test(re))) | .[0]) as $p
			| if $p and $p.run_cnt > 0 then $p.run_time_ns / $p.run_cnt else 0 end;
		  if $n and $n > 0 then "\($t / $n) \(per("sys_enter")) \(per("sys_exit"))"
		  else "nan 0 0" end'
}

# run NAME CMD...: start CMD, wait until it is ready, load, read, stop
run() {
	local name=$1 i
	shift
	: >"$work/$name.err"
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	pid=$!
	for i in $(seq 1 600); do
		grep -qE 'msg="agent ready"|^ready' "$work/$name.err" "$work/$name.out" && break
		kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; exit 1; }
		sleep 0.05
	done
	"$LOADGEN" "${load_args[@]}" --dir "$work/load" \
		--duration "$SECONDS_PER_RUN" >/dev/null
	read -r total enter exit <<<"$(ns_per_syscall "$pid")"
	echo "$total" >>"$work/$name.ns"
	echo "$enter" >>"$work/$name.enter"
	echo "$exit" >>"$work/$name.exit"
	kill -INT "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

names=(minimal)
for i in "${!agents[@]}"; do names+=("agent$i"); done
for r in $(seq 1 "$rounds"); do
	run minimal "$PROBE"
	for i in "${!agents[@]}"; do
		run "agent$i" "${agents[$i]}" --mode stdout --config "$work/config.yaml" \
			--rules "$work/rules.yaml"
	done
	echo "round $r: $(for n in "${names[@]}"; do printf '%s=%.1f ' "$n" "$(tail -n 1 "$work/$n.ns")"; done)"
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
floor=$(median "$work/minimal.ns")
printf '\n| candidate | ns per syscall (median of %d) | over the minimal program | per sys_enter run | per sys_exit run |\n|---|---|---|---|---|\n' "$rounds"
printf '| minimal probe (raw sys_exit, a counter) | %.1f | 0 | - | %.1f |\n' "$floor" "$(median "$work/minimal.exit")"
for i in "${!agents[@]}"; do
	m=$(median "$work/agent$i.ns")
	printf '| %s | %.1f | %+.1f | %.1f | %.1f |\n' "${agents[$i]}" "$m" "$(echo "$m - $floor" | bc -l)" \
		"$(median "$work/agent$i.enter")" "$(median "$work/agent$i.exit")"
done
