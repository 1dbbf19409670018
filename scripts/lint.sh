#!/usr/bin/env bash
# clang-format and cppcheck over the project's C sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^probes/' || true)
[ "${#files[@]}" -gt 0 ] || mapfile -t files < <(find agent common test -name '*.[ch]')
status=0
if ! clang-format --dry-run --Werror "${files[@]}"; then
	echo "lint: clang-format differences (run: clang-format -i <file>)" >&2
	status=1
fi
if ! cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	--inline-suppr --std=c11 -D_GNU_SOURCE -Icommon -Iagent -Iprobes \
	--suppress=missingIncludeSystem "${files[@]}"; then
	echo "lint: cppcheck findings" >&2
	status=1
fi
# Shell: warnings and errors. SC2034 is off because the integration tests
# set variables (AGENT, WORKLOAD, AGENT_MODE) that the sourced lib.sh reads.
mapfile -t scripts < <(git ls-files '*.sh' 2>/dev/null || true)
if [ "${#scripts[@]}" -gt 0 ] && ! shellcheck -x -S warning -e SC2034 "${scripts[@]}"; then
	echo "lint: shellcheck findings" >&2
	status=1
fi
# Test scripts: no check that cannot fail (test/lint_tests.py), and the
# lint itself still finds each kind of mistake.
mapfile -t test_scripts < <(printf '%s\n' "${scripts[@]}" | grep '^test/' || true)
if [ "${#test_scripts[@]}" -gt 0 ] && ! python3 test/lint_tests.py "${test_scripts[@]}"; then
	echo "lint: test checks that cannot fail (see test/lint_tests.py)" >&2
	status=1
fi
bash test/lint_tests_selftest.sh || status=1
[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
