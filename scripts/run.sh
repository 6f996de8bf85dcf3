#!/usr/bin/env bash
# Installs what is missing, then runs the main program. Until the desktop app lands this
# is the local Kie simulator, on http://127.0.0.1:8787 with the key "demo-key".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
exec cargo run --quiet -p kie-sim -- --port "${KIE_SIM_PORT:-8787}" --key "${KIE_SIM_KEY:-demo-key}" --gen-ms "${KIE_SIM_GEN_MS:-8000}"
