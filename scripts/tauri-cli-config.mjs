#!/usr/bin/env node
// The Tauri CLI (its bundler) wants tauri.conf.json next to the app's Cargo.toml and reads
// relative paths from there; ours sits at the repository root, where tauri-build and
// generate_context! read it (src-tauri/build.rs) with paths relative to the root. This writes
// src-tauri/tauri.conf.json for the CLI: the root config with every file path made absolute,
// so that both read the same files. Written only for a packaging run and removed after it
// (scripts/package.sh, .github/workflows/release.yml): the root config stays the only one.
// Usage: node scripts/tauri-cli-config.mjs           (write it)
//        node scripts/tauri-cli-config.mjs --remove  (remove it)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'src-tauri', 'tauri.conf.json');

if (process.argv.includes('--remove')) {
  rmSync(out, { force: true });
  process.exit(0);
}

const config = JSON.parse(readFileSync(join(root, 'tauri.conf.json'), 'utf8'));
const abs = (p) => (typeof p !== 'string' || isAbsolute(p) || /^[a-z]+:\/\//i.test(p) ? p : resolve(root, p));
const at = (path) => path.reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), config);

// Paths to one file or folder.
for (const path of [
  ['build', 'frontendDist'],
  ['bundle', 'licenseFile'],
  ['bundle', 'linux', 'deb', 'desktopTemplate'],
  ['bundle', 'linux', 'rpm', 'desktopTemplate'],
  ['bundle', 'macOS', 'dmg', 'background'],
  ['bundle', 'windows', 'nsis', 'installerIcon'],
  ['bundle', 'windows', 'nsis', 'headerImage'],
  ['bundle', 'windows', 'nsis', 'sidebarImage'],
  ['bundle', 'windows', 'wix', 'bannerPath'],
  ['bundle', 'windows', 'wix', 'dialogImagePath'],
]) {
  const parent = at(path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent && typeof parent[key] === 'string') parent[key] = abs(parent[key]);
}
// Lists of sources.
const bundle = config.bundle ?? {};
if (Array.isArray(bundle.icon)) bundle.icon = bundle.icon.map(abs);
if (Array.isArray(bundle.resources)) bundle.resources = bundle.resources.map(abs);
else if (bundle.resources && typeof bundle.resources === 'object') {
  bundle.resources = Object.fromEntries(Object.entries(bundle.resources).map(([src, dst]) => [abs(src), dst]));
}
// Maps of installed path -> source.
for (const path of [
  ['bundle', 'linux', 'deb', 'files'],
  ['bundle', 'linux', 'rpm', 'files'],
  ['bundle', 'linux', 'appimage', 'files'],
  ['bundle', 'macOS', 'files'],
]) {
  const files = at(path);
  if (files && typeof files === 'object') {
    for (const [dst, src] of Object.entries(files)) files[dst] = abs(src);
  }
}

writeFileSync(out, JSON.stringify(config, null, 2) + '\n');
console.log(out);
