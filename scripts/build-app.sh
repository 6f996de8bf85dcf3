#!/usr/bin/env bash
# Builds the UI and the desktop app (debug, serving the built UI, as tests drive it).
# Extra arguments go to cargo (scripts/e2e.sh passes `--features test-hooks`).
# Prints the app binary's path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ui-deps.sh
npm --prefix ui run build --silent
cargo build -p kie-studio "$@" >&2
echo "$PWD/target/debug/kie-studio"
