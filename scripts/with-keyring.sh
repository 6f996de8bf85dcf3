#!/usr/bin/env bash
# Runs a command with a real Secret Service: a private D-Bus session with gnome-keyring
# unlocked by a throwaway password, and a throwaway HOME so no real keyring is touched.
# Usage: scripts/with-keyring.sh <command...>
set -euo pipefail
if [ -z "${KIE_KEYRING_INNER:-}" ]; then
  export KIE_KEYRING_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi
# Keep the toolchain reachable after HOME moves.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export HOME="$(mktemp -d)"
export XDG_DATA_HOME="$HOME/.local/share" XDG_RUNTIME_DIR="$HOME/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
# Test machines have no sound card: a null ALSA device lets videos with sound play (silently),
# as they would on a desktop.
printf 'pcm.!default { type null }\nctl.!default { type hw card 0 }\n' > "$HOME/.asoundrc"
# gnome-keyring unlocked by the throwaway password; `--replace` takes over from a daemon
# already on the bus. It takes the Secret Service's name a moment after it has answered:
# a client that asks before then makes D-Bus start a second daemon whose login keyring is
# locked, which wants a password prompt and fails without a display (CI, once, under load:
# "Object does not exist at path …/collection/login"; reproduced by asking before starting
# it, and `--replace --unlock` then recovers). So: wait for the name, prove the service
# works, and once more if not.
start_keyring() {
  eval "$(printf '%s' kie-test-password | gnome-keyring-daemon "$@" --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && return 0
    sleep 0.1
  done
}
# Fail loudly rather than let keyring tests skip: prove the Secret Service answers.
probe() {
  printf 'probe' | secret-tool store --label=kie-probe kie-probe 1 &&
    [ "$(secret-tool lookup kie-probe 1)" = "probe" ] && secret-tool clear kie-probe 1
}
start_keyring
if ! probe; then
  echo "with-keyring: the Secret Service did not answer; starting gnome-keyring again" >&2
  start_keyring --replace
  probe || { echo "with-keyring: the Secret Service does not work" >&2; exit 1; }
fi
export KIE_TEST_SECRET_SERVICE=1
trap 'pkill -P $$ gnome-keyring-d 2>/dev/null || true; rm -rf "$HOME"' EXIT
"$@"
