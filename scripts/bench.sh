#!/usr/bin/env bash
# `npm run bench`: set up, then run the benchmarks (results in bench/results/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/bench/run.js "$@"
