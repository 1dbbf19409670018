#!/usr/bin/env bash
# Configure and build one flavour into build/<flavour>:
#   release  optimised, what scripts/run.sh and the benchmarks use
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer, what the tests use
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
asan) args=(-DCMAKE_BUILD_TYPE=Debug -DSENTINEL_SANITIZE=ON) ;;
*) echo "build.sh: unknown flavour '$flavour' (release|asan)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" "${args[@]}" >/dev/null
cmake --build "build/$flavour" -j"$(nproc)"
