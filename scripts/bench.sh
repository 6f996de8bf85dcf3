#!/usr/bin/env bash
# Benchmarks of the gallery (not tests: nothing passes or fails on time). Seeds libraries of
# 10, 10,000 and 100,000 videos with real-sized posters and prints, measured side by side in
# one run, every figure with its ratio to the smallest library and its goal: launch to the
# first screen and to the first gallery tile, memory (PSS of the app and its WebKit
# processes), core and window search, scroll frame times; a blank Tauri window of the same
# Tauri version as the floor for launch and memory; the 1 GiB download against curl and the
# poller with 200 running tasks.
# Everything is a RELEASE build: the app (with its test hooks, as the e2e tests drive it),
# the blank window, the bench, and the programs the I/O figures run. Under Xvfb with a
# private D-Bus session and gnome-keyring, driven by tauri-driver.
# Options go to the bench (e.g. --runs 2, --libraries 10,10000, --no-io, --json); see
# scripts/bench.sh --help.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
# The bench, and the CLI and browser server its I/O figures run (found beside it).
cargo build --release --locked -p e2e -p kie-cli -p studio-server --bin bench --bin kie --bin kie-studio-server >&2
case " $* " in
  *" --core-only "* | *" --help "* | *" -h "*) exec ./target/release/bench "$@" ;;
esac
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
KIE_E2E_APP="$(./scripts/build-app.sh --release --locked --features test-hooks | tail -n 1)"
# The blank window, built in one go with the app so that both use the same build of Tauri
# (the app's is already there: only the blank window's own crate is compiled).
cargo build --release --locked -p kie-studio -p blank-window --features kie-studio/test-hooks >&2
KIE_BENCH_BLANK="$PWD/target/release/blank-window"
export KIE_E2E_APP KIE_BENCH_BLANK
# One window at a time: each app is a full WebKit process, and there are two cores.
exec xvfb-run -a -s "-screen 0 1280x800x24" ./scripts/with-keyring.sh ./target/release/bench "$@"
