// A transport that records what it is asked and answers from a table, for tests of the
// window's own code (the client, state, a component) without the core.
import { createStudioApi, type StudioApi } from '../src/lib/api';
import type { AppInfo } from '../src/lib/bindings/AppInfo';
import type { Rules } from '../src/lib/bindings/Rules';
import type { Transport, Unsubscribe } from '../src/lib/api/transport';

/** As the core gives them in `AppInfo.rules`. */
export const RULES: Rules = { usd_per_credit: 0.005, handle_max_len: 40, handle_chars: 'A-Za-z0-9_.' };

/** The app's state as the core gives it for a ready real library with a saved key. */
export function appInfo(patch: Partial<AppInfo> = {}): AppInfo {
  return {
    version: '1',
    ready: true,
    demo: false,
    library_path: '/home/me/Kie Studio/',
    log_dir: null,
    media_base: null,
    key: { set: true, source: 'keyring', last4: 'abcd' },
    hosts: null,
    library_problem: null,
    rules: RULES,
    ...patch,
  };
}

export interface StubTransport extends Transport {
  /** Every call, in order. */
  calls: Array<{ command: string; args: Record<string, unknown> }>;
  /** Channels handed out, in order: send to one to play a message. */
  channels: Array<(message: unknown) => void>;
  /** Plays an app-wide event to its listeners. */
  emit(event: string, payload: unknown): void;
}

/**
 * What the window asks on its own once a library is open, answered as an empty library would
 * (a test's own answers replace them): without them every stub-based test logs its failure.
 */
export const BACKGROUND: Record<string, unknown> = {
  list_batches: [],
  watch_progress: null,
};

/**
 * `answers[command]` is the result (or a function of the arguments), else `BACKGROUND`'s; a
 * missing one rejects with `internal`.
 */
export function stubTransport(given: Record<string, unknown> = {}): StubTransport {
  const answers = { ...BACKGROUND, ...given };
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const t: StubTransport = {
    kind: 'tauri',
    calls: [],
    channels: [],
    async invoke(command, args) {
      t.calls.push({ command, args });
      if (!(command in answers)) throw { code: 'internal', message: `no answer for ${command}`, problems: [] };
      const a = answers[command];
      return typeof a === 'function' ? (a as (args: Record<string, unknown>) => unknown)(args) : a;
    },
    channel<T>(onMessage: (message: T) => void): unknown {
      t.channels.push(onMessage as (message: unknown) => void);
      return `channel-${t.channels.length}`;
    },
    listen<T>(event: string, cb: (payload: T) => void): Unsubscribe {
      const fn = (p: unknown) => cb(p as T);
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(fn);
      return () => listeners.get(event)?.delete(fn);
    },
    mediaUrl: (p) => `asset://localhost/${encodeURIComponent(p)}`,
    emit(event, payload) {
      for (const cb of listeners.get(event) ?? []) cb(payload);
    },
  };
  return t;
}

export function stubApi(answers: Record<string, unknown> = {}): { api: StudioApi; transport: StubTransport } {
  const transport = stubTransport(answers);
  return { api: createStudioApi(transport), transport };
}
