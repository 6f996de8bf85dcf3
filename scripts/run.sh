#!/usr/bin/env bash
# Installs what is missing, builds Kie Studio and launches it.
# Options are passed to the app, e.g. --library DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run.sh: no display. Kie Studio is a desktop app: run this in a desktop session" >&2
  echo "(or under 'xvfb-run -a ./scripts/run.sh' to start it on a virtual screen)." >&2
  exit 1
fi
APP="$(./scripts/build-app.sh | tail -n 1)"
exec "$APP" "$@"
