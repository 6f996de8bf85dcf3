#!/usr/bin/env bash
# Builds the UI and the desktop app (serving the built UI, as tests drive it): debug, or
# release with `--release` (scripts/bench.sh). Every argument goes to cargo
# (scripts/e2e.sh passes `--features test-hooks`).
# Prints the app binary's path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
for arg in "$@"; do
  [ "$arg" = "--release" ] && profile=release
done
./scripts/ui-deps.sh
npm --prefix ui run build --silent
cargo build -p kie-studio "$@" >&2
echo "$PWD/target/$profile/kie-studio"
