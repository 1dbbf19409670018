#!/usr/bin/env bash
# Builds the fuzz targets with clang, libFuzzer and ASan/UBSan (-O1 -g):
#   bash test/fuzz/build.sh [BUILD_DIR]      (default: build/fuzz)
# test/fuzz/CMakeLists.txt is a project of its own (the main build keeps its
# compiler); builds are incremental. Binaries: BUILD_DIR/fuzz_<target>.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build/fuzz}
command -v clang >/dev/null || {
	echo "fuzz: clang not found (bash scripts/setup.sh, or apt-get install clang libclang-rt-dev)" >&2
	exit 1
}
mkdir -p "$build"
# Quiet when it works; the whole output when it does not.
if ! {
	{ [ -f "$build/CMakeCache.txt" ] || cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang; } &&
		cmake --build "$build" -j "$(nproc)"
} >"$build/build.log" 2>&1; then
	cat "$build/build.log" >&2
	echo "fuzz: build failed" >&2
	exit 1
fi
