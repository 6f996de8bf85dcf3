#!/usr/bin/env bash
# End-to-end tests: the real app window under Xvfb, driven through tauri-driver and
# WebKitWebDriver, against the simulator, with a private D-Bus session and gnome-keyring.
# Screenshots land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
# The app with the core's test hooks (a keyring entry per test, the picker's files, the
# export folder); what run.sh builds and what is packaged has none.
KIE_E2E_APP="$(./scripts/build-app.sh --features test-hooks | tail -n 1)"
export KIE_E2E_APP
cargo build -p e2e --tests --locked
# One window at a time: two cores, and each app is a full WebKit process.
exec xvfb-run -a -s "-screen 0 1280x800x24" ./scripts/with-keyring.sh \
  cargo test -p e2e --tests --locked --no-fail-fast -- --test-threads=1 "$@"
