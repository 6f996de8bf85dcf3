#!/usr/bin/env bash
# Builds the Linux packages of Kie Studio: the UI, the app in the `dist` profile (fat LTO,
# one codegen unit, stripped; no test hooks), then a .deb and an .rpm through the Tauri
# bundler (the @tauri-apps/cli pinned in ui/package.json). Prints each package's path and
# size last, one per line: `<path><TAB><bytes> bytes (<MiB> MB)`. Measurements: docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

./scripts/ui-deps.sh
npm --prefix ui run build --silent
# Default features only: custom-protocol (the built UI), never test-hooks.
cargo build -p kie-studio --profile dist --locked >&2

# The bundler takes the binary from <target>/release and patches it in place: give it a copy
# in a target folder of its own, so the dist build (and the tests' release build) stay as
# they are.
STAGE="$PWD/target/package"
rm -rf "$STAGE/release/bundle"
mkdir -p "$STAGE/release"
cp target/dist/kie-studio "$STAGE/release/kie-studio"

# The CLI reads its config from src-tauri/ (see scripts/tauri-cli-config.mjs).
trap 'node scripts/tauri-cli-config.mjs --remove' EXIT
node scripts/tauri-cli-config.mjs >/dev/null
(cd src-tauri && CARGO_TARGET_DIR="$STAGE" node ../ui/node_modules/@tauri-apps/cli/tauri.js \
  bundle --bundles deb,rpm --ci) >&2

deb=$(find "$STAGE/release/bundle/deb" -maxdepth 1 -name '*.deb' | head -n 1)
rpm=$(find "$STAGE/release/bundle/rpm" -maxdepth 1 -name '*.rpm' | head -n 1)
[ -f "$deb" ] && [ -f "$rpm" ] || { echo "package.sh: the bundler made no .deb or no .rpm" >&2; exit 1; }
# The issue's budget for a download a user waits for.
limit=12000000
size=$(stat -c %s "$deb")
[ "$size" -le "$limit" ] || { echo "package.sh: the .deb is $size bytes, over the 12 MB budget" >&2; exit 1; }
for f in "$deb" "$rpm"; do
  b=$(stat -c %s "$f")
  printf '%s\t%s bytes (%s MB)\n' "$f" "$b" "$(awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }')"
done
