#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, golden and real-QEMU integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Integration tests boot real guests under TCG: two at a time fits these 2-core machines.
exec node --test --test-concurrency=2 --test-timeout=180000 "${@:-dist/test/}"
