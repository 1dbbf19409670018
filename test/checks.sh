# shellcheck shell=bash
# Pass/fail bookkeeping shared by the shell test suites (integration,
# container, kind): sourced, never run. Each suite prints its own summary
# from T_PASS, T_FAIL and T_XFAIL.

T_PASS=0
T_FAIL=0
T_XFAIL=0
T_SKIP=0

# report TAG NAME [DETAIL...]: one result line, each detail on its own line.
report() {
	printf '%-4s %s\n' "$1" "$2"
	shift 2
	[ $# -gt 0 ] && printf '     %s\n' "$@"
	return 0
}

ok() {
	T_PASS=$((T_PASS + 1))
	report ok "$1"
}

# fail NAME [DETAIL...]: one failed check.
fail() {
	T_FAIL=$((T_FAIL + 1))
	report FAIL "$@"
}

# xfail NAME [DETAIL...]: a known gap, reported but not counted as a failure.
xfail() {
	T_XFAIL=$((T_XFAIL + 1))
	report XFAIL "$@"
}

# skip NAME REASON: a check that cannot run here. CI fails on a skip whose
# NAME is not listed, with its reason, in test/skips.allow
# (test/check_skips.sh reads the `SKIP NAME: REASON` lines from the log).
skip() {
	T_SKIP=$((T_SKIP + 1))
	printf 'SKIP %s: %s\n' "$1" "$2"
}

# need NAME VALUE: VALUE was captured from output and is about to be used as
# an expectation; an empty one would make the check pass for any output, so
# it fails NAME instead and returns 1 (the caller returns or skips the check).
need() {
	[ -n "$2" ] && return 0
	fail "$1" "the value this check compares against was empty"
	return 1
}

# wait_for WHAT SECONDS CMD [ARGS...]: runs CMD every 50 ms until it succeeds
# (0) or SECONDS pass (1, with "timed out after SECONDS s waiting for WHAT"
# on stderr). For waits on something observable: an event in a file, a
# metric's value, a port, a log line. A sleep stays only where elapsed time
# is itself under test, with a comment saying so.
wait_for() {
	local what=$1 secs=$2 end
	shift 2
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@"; do
		if [ "$(date +%s%N)" -ge "$end" ]; then
			printf 'timed out after %s s waiting for %s\n' "$secs" "$what" >&2
			return 1
		fi
		sleep 0.05
	done
}

# run_cases CASE...: runs each case function in the order given. With
# SENTINEL_CASES set (names separated by spaces) only those run, still in
# this order: the mutant runner runs the case that must kill its mutant. A
# name there that is not one of this suite's cases fails, so a renamed case
# cannot make a mutant's test pass by running nothing.
run_cases() {
	local c
	for c in ${SENTINEL_CASES:-}; do
		[[ " $* " == *" $c "* ]] || fail "case $c exists" "the cases here: $*"
	done
	for c in "$@"; do
		if [ -z "${SENTINEL_CASES:-}" ] || [[ " $SENTINEL_CASES " == *" $c "* ]]; then
			"$c"
		fi
	done
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}

# note TEXT: context for a reader of the log, not a check.
note() { printf '# %s\n' "$*"; }
