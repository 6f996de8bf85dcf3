// The UI's tests against the real core: the browser server started by globalSetup.ts, reset
// before each test, seeded when a test needs a library.
import { cleanup } from '@testing-library/svelte';
import { afterEach, beforeEach, inject, vi } from 'vitest';
import { createStudioApi, type StudioApi } from '../src/lib/api';
import { createHttpTransport, type HttpTransport } from '../src/lib/api/http';
import type { ServerInfo } from './serverInfo';

export function server(): ServerInfo {
  return inject('server');
}

async function post(path: string, body: unknown = {}): Promise<unknown> {
  const s = server();
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A fresh app: no library open, both library folders empty, the simulator's faults cleared. */
export async function resetServer(): Promise<void> {
  await post('/_test/reset');
  const s = server();
  await fetch(`${s.sim_url}/_sim/faults`, { method: 'DELETE' });
}

/** `n` finished videos in the demo library (`start_demo` opens it). */
export async function seedDemoLibrary(results: number, seed = 1): Promise<{ results: number; newest: number | null }> {
  return (await post('/_test/seed', { results, seed })) as { results: number; newest: number | null };
}

/** Makes the simulator misbehave on its next calls (`kie-sim`'s fault rules). */
export async function simFault(rule: { endpoint: string; fault: Record<string, unknown>; times?: number }): Promise<void> {
  const s = server();
  const res = await fetch(`${s.sim_url}/_sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([rule]),
  });
  if (!res.ok) throw new Error(`fault: ${res.status} ${await res.text()}`);
}

/** A window's API on the server, connected anew: by `serverPerTest`. */
export interface TestCore {
  /** A new connection (the one before it closed), as a window gets it. */
  connect(): StudioApi;
  /** The API of the last connection (each test starts with one). */
  readonly api: StudioApi;
}

/** The keyring outlives a reset: delete the key, if any (on a connection of its own). */
async function forgetKey(): Promise<boolean> {
  const { url, token } = server();
  const t = createHttpTransport({ url, token });
  try {
    const api = createStudioApi(t);
    if (!(await api.getAppInfo()).key.set) return false;
    await api.deleteKey();
    return true;
  } finally {
    t.close();
  }
}

/**
 * Every test of this file (or `describe`) on a fresh core: before each, no local storage, the
 * server reset with no key in the keyring, and a connection (`demo`: with the demo library
 * open); after each, the window unmounted, mocks restored, the connection closed and no key
 * left for the next test. A file's own `afterEach` runs before this one's (vitest runs them
 * in reverse), so it can still use `api`.
 */
export function serverPerTest(options: { demo?: boolean } = {}): TestCore {
  let transport: HttpTransport | null = null;
  let api: StudioApi | null = null;
  const core: TestCore = {
    connect() {
      const s = server();
      transport?.close();
      transport = createHttpTransport({ url: s.url, token: s.token });
      api = createStudioApi(transport);
      return api;
    },
    get api() {
      if (!api) throw new Error('not connected: serverPerTest connects before each test');
      return api;
    },
  };
  beforeEach(async () => {
    localStorage.clear();
    await resetServer();
    if (await forgetKey()) await resetServer();
    core.connect();
    if (options.demo) await core.api.startDemo();
  });
  afterEach(async () => {
    cleanup();
    vi.restoreAllMocks();
    transport?.close();
    transport = null;
    api = null;
    localStorage.clear();
    await forgetKey();
  });
  return core;
}
