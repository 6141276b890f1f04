#!/usr/bin/env bash
# `npm run stress`: set up, then the long stress storm against a real daemon and real QEMU
# (bounded: STRESS_SECONDS, default 60; see test/stress/run.ts for the other knobs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/test/stress/run.js "$@"
