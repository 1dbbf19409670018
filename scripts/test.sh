#!/usr/bin/env bash
# Everything the tests need, from a fresh machine: set up, build under
# ASan/UBSan, run unit and integration tests (real BPF, needs root), then the
# style and static checks. Exit status 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh asan
# A second kernel's BTF (Debian 6.1) for test_btfoff: offsets that only fit
# the running kernel cannot pass against both.
bash test/tools/fetch_btf61.sh
# podman and the local base image, before the tests: the evasion suite's
# container case (container ids of processes that live a few ms) needs
# them, not only the image test that runs later.
bash scripts/setup-containers.sh
status=0
ctest --test-dir build/asan --output-on-failure --timeout 600 || status=1
# Mutants that must die (test/mutants/*.mut): each a small change to what
# users see (loss counts, matching, bytes, names, acks, reloads, escaping,
# readiness), each must make its test fail. ~11 min on 2 cores.
python3 test/mutants/run.py || status=1
# A test that could not run says SKIP; only the reasons in test/skips.allow pass.
bash test/check_skips.sh build/asan/Testing/Temporary/LastTest.log || status=1
bash scripts/lint.sh || status=1
if [ "$status" -eq 0 ]; then echo "sentinel-ebpf tests: PASS"; else echo "sentinel-ebpf tests: FAIL"; fi
exit "$status"
