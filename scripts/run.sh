#!/usr/bin/env bash
# The main job on this machine, on embedded defaults: set up, build, start
# the reference detector (localhost:50051) and the agent in grpc mode with
# its built-in rules. Anomalies (e.g. `echo x >> /etc/some-file`) appear as
# JSON lines on stdout from the detector; logs go to stderr. Ctrl-C stops both.
# Health: http://localhost:9101/readyz; metrics: :9102/metrics (agent) and
# :9103/metrics (detector).
# Extra arguments go to sentinel-agent (e.g. --rules my-rules.yaml, or
# --mode stdout to print every event instead).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >&2
build/release/sentinel-detector &
det=$!
trap 'kill -TERM "$det" 2>/dev/null; wait "$det" 2>/dev/null' EXIT
build/release/sentinel-agent --mode grpc "$@"
