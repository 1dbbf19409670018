#!/usr/bin/env bash
# The test lint (test/lint_tests.py) must find each kind of check that cannot
# fail, and nothing in the right way of writing it. Run by scripts/lint.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
status=0

# expect FILE WANTED: WANTED is the lint's output for FILE, "" for none.
expect() {
	local got
	got=$(python3 "$here/lint_tests.py" "$t/$1" | sed "s|^$t/||") || true
	if [ "$got" != "$2" ]; then
		printf 'lint self-test %s: expected\n%s\ngot\n%s\n' "$1" "$2" "$got" >&2
		status=1
	fi
}

cat >"$t/bad_and.sh" <<'EOF'
grep -q x f && ok "found x"
[ "$n" -eq 0 ] &&
	ok "split over lines"
EOF
expect bad_and.sh 'bad_and.sh:1: ok-without-fail: `&& ok` with no `|| fail`
bad_and.sh:2: ok-without-fail: `&& ok` with no `|| fail`'

cat >"$t/bad_if.sh" <<'EOF'
if [ "$n" -eq 0 ]; then
	ok "n is zero" # a comment with else in it
fi
if a; then ok "one line"; fi
EOF
expect bad_if.sh 'bad_if.sh:1: ok-without-fail: `if ... then ok` has no else branch
bad_if.sh:4: ok-without-fail: `if ... then ok` has no else branch'

cat >"$t/bad_capture.sh" <<'EOF'
pid=$(sed -n 's/pid=//p' log)
check "no own events" "$pid" "$(other)"
jq --arg p "$(sed -n 1p f)" 'select(.pid == $p)' out
EOF
expect bad_capture.sh 'bad_capture.sh:2: unguarded-capture: $pid (captured on line 1) used as an expectation without `need`
bad_capture.sh:3: unguarded-capture: a $(...) capture used directly as a jq --arg expectation'

cat >"$t/bad_finish.sh" <<'EOF'
t_one() { check "one" 1 1; }
run_cases t_one
EOF
expect bad_finish.sh 'bad_finish.sh:2: no-finish: ends with `run_cases`, not `finish`: a failed check would not fail the suite'

cat >"$t/good.sh" <<'EOF'
grep -q x f && ok "found x" || fail "found x"
if [ "$n" -eq 0 ]; then
	ok "n is zero"
else
	fail "n is zero" "$n"
fi
if ! cmd; then
	fail "cmd"
	return
fi
ok "cmd"
pid=$(sed -n 's/pid=//p' log)
need "the pid" "$pid" || return
check "no own events" "$pid" "$(other)"
echo "if then ok fi" "&& ok"
cat <<'X'
a && ok "in a here-document"
X
EOF
expect good.sh ''

[ "$status" -eq 0 ] && echo "lint self-test: ok"
exit "$status"
