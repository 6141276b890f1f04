#!/usr/bin/env bash
# The main job: set everything up, then boot the tiny example guest through vmkit, embedded, with its
# console on this terminal. Exits 0 when the guest powers off.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./bin/vmkit run --console examples/tiny.yaml
