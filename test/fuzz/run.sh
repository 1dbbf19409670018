#!/usr/bin/env bash
# Runs every fuzz target for a bounded time; fails if any of them crashes.
#
#   bash test/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]    (default: 20 s, all)
#
# For each target: build (incremental), replay every input saved under
# regressions/<target>/, then fuzz for SECONDS starting from a fresh copy of
# corpus/<target>/ (the checked-in corpus is never written). Crash inputs
# go to build/fuzz/crashes/<target>/, logs to build/fuzz/logs/<target>.log,
# the grown corpus stays in build/fuzz/work/<target>/. BUILD_DIR in the
# environment overrides build/fuzz. See README.md for long runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build/fuzz}
seconds=${1:-20}
shift || true
all=(rules config path json detector_decode podmeta kpath nameop)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")

case "$seconds" in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]  (targets: ${all[*]})" >&2
	exit 2
	;;
esac

log() { printf 'fuzz: %s\n' "$*"; }

start=$SECONDS
log "building in $build"
bash "$here/build.sh" "$build"
mkdir -p "$build/logs" "$build/work" "$build/crashes"

# A finding must fail the run, whatever the caller's sanitizer settings.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1

# "N runs, E exec/s, cov C, ft F, corpus K" from a libFuzzer log.
summary() {
	local runs rate line
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$1" | tail -n 1)
	rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$1" | tail -n 1)
	line=$(grep -aE '^#[0-9]+[[:space:]].*cov: ' "$1" | tail -n 1 || true)
	printf '%s runs, %s exec/s, %s' "${runs:-?}" "${rate:-?}" \
		"$(sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, ft \2, corpus \3/p' <<<"$line")"
}

status=0
for t in "${targets[@]}"; do
	bin=$build/fuzz_$t
	logf=$build/logs/$t.log
	crashes=$build/crashes/$t
	work=$build/work/$t
	if [ ! -x "$bin" ] || [ ! -d "$here/corpus/$t" ]; then
		log "$t FAIL (no such target: ${all[*]})"
		status=1
		continue
	fi
	mkdir -p "$crashes"
	: >"$logf"

	# Every crash ever found, first: they must stay fixed.
	mapfile -t regressions < <(find "$here/regressions/$t" -type f ! -name '*.md' 2>/dev/null | sort)
	if [ "${#regressions[@]}" -gt 0 ] &&
		! "$bin" -rss_limit_mb=2048 -timeout=5 "${regressions[@]}" >>"$logf" 2>&1; then
		log "$t FAIL: a regression input crashes again (log: $logf)"
		tail -n 40 "$logf" | sed 's/^/    /'
		status=1
		continue
	fi

	rm -rf "$work"
	mkdir -p "$work"
	cp -R "$here/corpus/$t/." "$work/"
	dict=()
	[ -f "$here/dict/$t.dict" ] && dict=("-dict=$here/dict/$t.dict")
	if "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "${dict[@]}" "$work" >>"$logf" 2>&1; then
		log "$t PASS: ${#regressions[@]} regressions, $(summary "$logf")"
	else
		log "$t FAIL (log: $logf)"
		grep -aE -A 30 'ERROR:|fuzz invariant failed|SUMMARY|runtime error' "$logf" | head -n 60 |
			sed 's/^/    /' || true
		grep -a 'Test unit written to' "$logf" | sed 's/^/    /' || true
		log "reproduce: $bin <crash file>; keep it as a regression: see test/fuzz/README.md"
		status=1
	fi
done

if [ "$status" -eq 0 ]; then
	log "PASS (${#targets[@]} targets, ${seconds} s each, $((SECONDS - start)) s in all)"
else
	log "FAIL"
fi
exit "$status"
