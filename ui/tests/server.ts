// The UI's tests against the real core: the browser server started by globalSetup.ts, reset
// before each test, seeded when a test needs a library.
import { inject } from 'vitest';

/** What globalSetup.ts read from the server's first line. */
export interface ServerInfo {
  url: string;
  token: string;
  library: string;
  sim_url: string;
  sim_key: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    server: ServerInfo;
  }
}

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
