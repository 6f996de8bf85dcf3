#!/usr/bin/env bash
# Installs what this project needs on a Debian/Ubuntu machine, and nothing that is
# already there. Safe to run again and again.
set -euo pipefail

# System packages. Kept in one list so the README's two commands stay true.
PACKAGES=(build-essential pkg-config curl ca-certificates libdbus-1-dev
  # A real Secret Service for the keyring tests, in a private D-Bus session.
  dbus-daemon gnome-keyring libsecret-tools
  # The desktop app (Tauri 2 on WebKitGTK): build headers and libraries.
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev file
  # Playing the gallery's H.264/AAC videos in the window (WebKitGTK plays through GStreamer).
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
  # Running and driving the real window headless: X server, WebDriver for WebKitGTK.
  xvfb xauth webkit2gtk-driver
  # Checking the packages' AppStream metadata (scripts/package-test.sh).
  appstream)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js and npm for the UI (ui/): the machine's if there is one, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing Node.js and npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

# Rust: the machine's toolchain if there is one, else rustup's stable.
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done
