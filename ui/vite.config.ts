/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The window of the Tauri app. `npm run dev` serves it on a fixed port for `tauri dev`;
// `npm run build` writes ui/dist, which the shell bundles. Nothing is fetched from the
// internet at run time: no CDN, no web fonts.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: ['es2021', 'chrome105', 'safari15'],
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // The real core over HTTP (crates/server), started once for every test file.
    globalSetup: ['tests/globalSetup.ts'],
    // One server, one library: test files run one after another.
    fileParallelism: false,
    testTimeout: 20000,
  },
});
