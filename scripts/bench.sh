#!/usr/bin/env bash
# Benchmarks of the gallery (not tests: nothing passes or fails on time). Seeds a library of
# 10 and one of 10,000 videos and prints, measured side by side in one run with their
# ratios: launch to the first gallery tile, full-text search latency, and scroll frame times
# through the whole gallery. The app measured is the DEBUG build of scripts/build-app.sh,
# run under Xvfb with a private D-Bus session and gnome-keyring, driven by tauri-driver.
# Options go to the bench (e.g. --runs 3, --core-only); see scripts/bench.sh --help.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build -p e2e --bin bench --locked
case " $* " in
  *" --core-only "* | *" --help "* | *" -h "*) exec ./target/debug/bench "$@" ;;
esac
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
KIE_E2E_APP="$(./scripts/build-app.sh | tail -n 1)"
export KIE_E2E_APP
# One window at a time: each app is a full WebKit process, and there are two cores.
exec xvfb-run -a -s "-screen 0 1280x800x24" ./scripts/with-keyring.sh ./target/debug/bench "$@"
