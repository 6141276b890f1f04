#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, golden and real-QEMU integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Integration tests boot real guests under TCG: two at a time fits these 2-core machines.
# Only *.test.js files: node would otherwise also run every other file under a test/ directory (helpers,
# and the long stress runner that `npm run stress` starts).
if [ $# -eq 0 ]; then
  mapfile -t files < <(find dist/test -name '*.test.js' | sort)
  set -- "${files[@]}"
fi
exec node --test --test-concurrency=2 --test-timeout=180000 "$@"
