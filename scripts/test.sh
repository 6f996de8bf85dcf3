#!/usr/bin/env bash
# Installs what is missing, then runs every check and test: formatting, lints, the Rust
# tests (with a real Secret Service), the UI's type check and tests, the end-to-end tests
# of the real window, and last the package itself (built, installed with apt, run, removed:
# scripts/package-test.sh). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

# Keep a copy of everything printed, to total the test counts at the end.
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
exec > >(tee "$LOG") 2>&1

echo "== UI packages and build (the app embeds ui/dist)"
./scripts/ui-deps.sh
npm --prefix ui run build --silent

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (with a real Secret Service in a private D-Bus session)"
./scripts/with-keyring.sh cargo test --workspace --exclude e2e --locked --no-fail-fast

echo "== UI type check and tests (through the browser server: the real core, over HTTP)"
npm --prefix ui run check
cargo build -p studio-server --features test-hooks --locked
./scripts/with-keyring.sh npm --prefix ui test

echo "== end-to-end tests of the real window"
./scripts/e2e.sh

echo "== the package: built, installed with apt, run in the real window, removed"
./scripts/package-test.sh

# One closing line for every runner above (cargo's and vitest's counts added up).
sum() { sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -oE "$1" | grep -oE "[0-9]+ $2" | awk '{s+=$1} END {print s+0}' || true; }
passed=$(( $(sum 'test result: [a-z]+\. [0-9]+ passed' passed) + $(sum '^ +Tests +[0-9]+ passed' passed) ))
failed=$(( $(sum '[0-9]+ passed; [0-9]+ failed' failed) + $(sum '^ +Tests +.*[0-9]+ failed' failed) ))
echo "Summary: $passed passed, $failed failed"
