# shellcheck shell=bash
# Pass/fail bookkeeping shared by the shell test suites (integration,
# container, kind): sourced, never run. Each suite prints its own summary
# from T_PASS, T_FAIL and T_XFAIL.

T_PASS=0
T_FAIL=0
T_XFAIL=0

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

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}

# note TEXT: context for a reader of the log, not a check.
note() { printf '# %s\n' "$*"; }
