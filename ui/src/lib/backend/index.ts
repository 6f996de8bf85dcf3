// Picks the backend at startup: Tauri's IPC inside the app, the in-memory fake elsewhere
// (a plain browser, `vite preview`, tests). Both are loaded on demand so the app bundle does
// not run the fake, and the browser never touches Tauri's IPC.

import type { Backend } from './types';
import type { FakeOptions } from './fake';

export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export async function pickBackend(fakeOptions: FakeOptions = {}): Promise<Backend> {
  if (inTauri()) {
    const { createTauriBackend } = await import('./tauri');
    return createTauriBackend();
  }
  const { createFakeBackend } = await import('./fake');
  return createFakeBackend(fakeOptions);
}
