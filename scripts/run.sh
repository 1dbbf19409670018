#!/usr/bin/env bash
# The main job on embedded defaults, on this machine: set up, build, and run
# the agent with its built-in config and rules, printing JSON lines.
# Extra arguments go to sentinel-agent (e.g. --rules my-rules.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >&2
exec build/release/sentinel-agent --mode stdout "$@"
