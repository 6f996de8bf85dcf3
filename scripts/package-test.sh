#!/usr/bin/env bash
# The package itself (issue 12), run last by scripts/test.sh: builds the packages
# (scripts/package.sh), installs the .deb with apt on this machine, checks what it installs,
# drives the INSTALLED program in the real window under Xvfb through tauri-driver
# (tests/e2e/tests/package.rs: the welcome screen, the demo to a video that plays, quit), then
# removes the package and checks that none of its files is left and that the user's library is.
#
# The app sees only the GStreamer plugins of the packages the .deb depends on (plus the
# core's), whatever else this machine has: the test proves that the declared set plays
# H.264/AAC. KIE_PACKAGE_GST="pkg pkg ..." tries another set instead (docs/packaging.md).
# Needs root or sudo (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKG=kie-studio
APP=/usr/bin/kie-studio
fail() { echo "package-test: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The installed package is the machine's: one run at a time (another waits here). The
# window's helpers (D-Bus, keyring) do not inherit the lock.
exec 9>"${TMPDIR:-/tmp}/kie-studio-package-test.lock"
flock 9
# apt waits for another apt rather than failing at once.
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq)

WORK="$(mktemp -d)"
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

echo "== package: build (scripts/package.sh)"
built="$(./scripts/package.sh)"
printf '%s\n' "$built" | tail -n 2
deb_built="$(printf '%s\n' "$built" | tail -n 2 | cut -f1 | grep '\.deb$')"
# apt reads local files as its own unprivileged user: a copy it can reach, under a plain name.
deb="$WORK/$PKG.deb"
cp "$deb_built" "$deb"
chmod 644 "$deb"

echo "== package: install with apt"
if installed "$PKG"; then
  "${APT[@]}" purge "$PKG"
fi
"${APT[@]}" install "$deb"
installed "$PKG" || fail "apt did not install $PKG"
dpkg-query -W -f='Depends: ${Depends}\nRecommends: ${Recommends}\n' "$PKG"
# The list of its files, taken now, for the check after removal.
dpkg -L "$PKG" > "$WORK/files"

# What it installs: the program, a menu entry, icons in every size, AppStream metadata.
for f in "$APP" "/usr/share/applications/Kie Studio.desktop" /usr/share/metainfo/ai.kie.studio.metainfo.xml \
  /usr/share/icons/hicolor/{16x16,24x24,32x32,48x48,64x64,128x128,256x256,512x512}/apps/kie-studio.png; do
  grep -qxF "$f" "$WORK/files" && [ -e "$f" ] || fail "the package does not install $f"
done
grep -qx 'Exec=kie-studio' "/usr/share/applications/Kie Studio.desktop" || fail "the menu entry does not start kie-studio"
grep -qx 'Icon=kie-studio' "/usr/share/applications/Kie Studio.desktop" || fail "the menu entry has no icon"
mkdir "$WORK/tree"
dpkg-deb -x "$deb" "$WORK/tree"
appstreamcli validate-tree --no-net "$WORK/tree" || fail "the AppStream metadata does not validate"

echo "== package: the installed app in the real window"
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
cargo build -p e2e --tests --locked
# Only the plugins of the GStreamer packages the .deb depends on, and the core's.
gst_packages="${KIE_PACKAGE_GST:-$(dpkg-query -W -f='${Depends}' "$PKG" | tr ',' '\n' | awk '{print $1}' | grep '^gstreamer1\.0-' | tr '\n' ' ')}"
echo "GStreamer plugins from: libgstreamer1.0-0 $gst_packages"
mkdir "$WORK/gst"
for p in libgstreamer1.0-0 $gst_packages; do
  installed "$p" || fail "$p is not installed"
  dpkg -L "$p" | grep '/gstreamer-1.0/[^/]*\.so$' | while IFS= read -r so; do ln -sf "$so" "$WORK/gst/"; done
done
library="$WORK/user/library"
KIE_PACKAGE_TEST=1 KIE_E2E_APP="$APP" KIE_PACKAGE_LIBRARY="$library" \
  GST_PLUGIN_SYSTEM_PATH_1_0="$WORK/gst" GST_PLUGIN_PATH_1_0="" GST_REGISTRY_1_0="$WORK/gst-registry.bin" \
  xvfb-run -a -s "-screen 0 1280x800x24" ./scripts/with-keyring.sh \
  cargo test -p e2e --test package --locked -- --ignored --test-threads=1 --nocapture 9>&-
# Quitting ended it.
for _ in $(seq 50); do pgrep -f "^$APP" >/dev/null || break; sleep 0.2; done
! pgrep -f "^$APP" >/dev/null || fail "the installed app is still running after quitting"

echo "== package: remove"
"${APT[@]}" purge "$PKG"
! installed "$PKG" || fail "apt did not remove $PKG"
left=0
while IFS= read -r f; do
  [ "$f" = "/." ] && continue
  if [ -d "$f" ] && [ ! -L "$f" ]; then
    # A folder may stay only while it is shared: another package's, or holding others' files.
    if [ -z "$(ls -A "$f")" ] && ! dpkg -S "$f" >/dev/null 2>&1; then
      echo "left behind: the empty folder $f" >&2
      left=1
    fi
  elif [ -e "$f" ] || [ -L "$f" ]; then
    echo "left behind: $f" >&2
    left=1
  fi
done < "$WORK/files"
[ "$left" -eq 0 ] || fail "removing the package left program files behind"
# What the user made is theirs: removing the program keeps it (here the demo's library, which
# the app keeps beside the real one; with no key the real one is not opened yet).
find "$library-demo" -name '*.mp4' | grep -q . || fail "the video in the user's library $library-demo is gone"
[ -f "$library-demo/library.db" ] || fail "the user's library $library-demo lost its database"
echo "package-test: the .deb installs, runs the demo to a playing video, and removes cleanly"
