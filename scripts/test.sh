#!/usr/bin/env bash
# Installs what is missing, then runs every check and test: formatting, lints, and the
# whole test suite. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (with a real Secret Service in a private D-Bus session)"
./scripts/with-keyring.sh cargo test --workspace --locked
