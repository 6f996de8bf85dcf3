// The transport in a plain browser and in tests: HTTP to the browser server (the real core on
// loopback, `crates/server`).
//
//   POST {url}/api/{command}   Authorization: Bearer {token}; body: the arguments as JSON.
//                              200: the result as JSON; any other status: an `ApiError`.
//   GET  {url}/events?token=   Server-Sent Events; each `data:` is JSON: `{"ready": true}` once
//                              connected, `{"event", "payload"}` (app-wide events) or
//                              `{"channel", "message"}` (a channel argument's messages).
//   GET  {url}/asset?token=&path=   a file of the open library.
//
// A channel argument is the string `"__CHANNEL__:{id}"`. The event stream is read with
// `fetch` and a streaming body reader (not `EventSource`, which Node has not), opened once on
// the first `listen` or `channel`, and reopened after an error.

import type { ApiError } from '../bindings/ApiError';
import { toApiError } from '../logic/errors';
import type { Transport, Unsubscribe } from './transport';

export interface HttpTransportOptions {
  /** The server's address, e.g. `http://127.0.0.1:4567`. */
  url: string;
  /** Its random token. */
  token: string;
  /** Wait before reopening the event stream after it failed or ended (ms); 1000 unless told. */
  retryMs?: number;
  /** How long a call with a channel argument waits for the event stream (ms); 5000 unless told. */
  readyTimeoutMs?: number;
}

export interface HttpTransport extends Transport {
  readonly kind: 'http';
  /** Closes the event stream for good (tests; a page never needs to). */
  close(): void;
}

const CHANNEL_PREFIX = '__CHANNEL__:';

type Message =
  | { ready: true }
  | { event: string; payload: unknown }
  | { channel: number; message: unknown };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function createHttpTransport(opts: HttpTransportOptions): HttpTransport {
  const base = opts.url.replace(/\/+$/, '');
  const token = opts.token;
  const retryMs = opts.retryMs ?? 1000;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 5000;

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const channels = new Map<number, (message: unknown) => void>();
  // Unique per transport; a random start keeps two pages on one server apart.
  let nextChannel = Math.floor(Math.random() * 1_000_000_000) + 1;

  // ---- the event stream ----
  let started = false;
  let closed = false;
  let cancelReader: (() => void) | null = null;
  let ready!: Promise<void>;
  let markReady!: () => void;
  const resetReady = () => {
    ready = new Promise((r) => (markReady = r));
  };
  resetReady();

  function dispatch(data: string): void {
    let msg: Message;
    try {
      msg = JSON.parse(data) as Message;
    } catch {
      console.error('event stream: not JSON', data);
      return;
    }
    if (!isObject(msg)) return;
    try {
      if ('ready' in msg) {
        markReady();
      } else if ('event' in msg && typeof msg.event === 'string') {
        for (const cb of [...(listeners.get(msg.event) ?? [])]) cb(msg.payload);
      } else if ('channel' in msg && typeof msg.channel === 'number') {
        channels.get(msg.channel)?.(msg.message);
      }
    } catch (e) {
      console.error('event stream: a listener failed', e);
    }
  }

  /** Reads one connection to its end; SSE: `data:` lines until a blank line make a message. */
  async function readOnce(): Promise<void> {
    const res = await fetch(`${base}/events?token=${encodeURIComponent(token)}`, {
      headers: { Accept: 'text/event-stream' },
    });
    if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
    const reader = res.body.getReader();
    cancelReader = () => void reader.cancel().catch(() => {});
    if (closed) {
      cancelReader();
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    const line = (l: string) => {
      if (l === '') {
        if (data.length > 0) dispatch(data.join('\n'));
        data = [];
      } else if (l.startsWith('data:')) {
        data.push(l.slice(l[5] === ' ' ? 6 : 5));
      }
      // `:` comments (keep-alive), `event:`, `id:` and `retry:` are not used.
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const n = buffer.search(/\r\n|\n|\r/);
        if (n < 0) break;
        // A `\r` at the very end may be the first half of a `\r\n`.
        if (buffer[n] === '\r' && n === buffer.length - 1) break;
        const len = buffer[n] === '\r' && buffer[n + 1] === '\n' ? 2 : 1;
        line(buffer.slice(0, n));
        buffer = buffer.slice(n + len);
      }
    }
  }

  async function run(): Promise<void> {
    while (!closed) {
      try {
        await readOnce();
      } catch (e) {
        if (!closed) console.warn('event stream failed; reconnecting', e);
      }
      cancelReader = null;
      if (closed) break;
      // Whatever was sent while disconnected is lost; a call with a channel waits again.
      resetReady();
      await sleep(retryMs);
    }
  }

  function openStream(): void {
    if (started || closed) return;
    started = true;
    void run();
  }

  /** Waits (a bounded time) for the event stream, so that no channel message is missed. */
  async function streamReady(): Promise<void> {
    openStream();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([ready, new Promise<void>((r) => (timer = setTimeout(r, readyTimeoutMs)))]);
    clearTimeout(timer);
  }

  function hasChannel(args: Record<string, unknown>): boolean {
    return Object.values(args).some(
      (v) => typeof v === 'string' && v.startsWith(CHANNEL_PREFIX) && channels.has(Number(v.slice(CHANNEL_PREFIX.length))),
    );
  }

  // ---- calls ----
  async function invoke(command: string, args: Record<string, unknown>): Promise<unknown> {
    if (hasChannel(args)) await streamReady();
    let res: Response;
    try {
      res = await fetch(`${base}/api/${encodeURIComponent(command)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw { code: 'internal', message: `Kie Studio's server at ${base} cannot be reached: ${why}`, problems: [] } satisfies ApiError;
    }
    const text = await res.text();
    if (res.ok) return text === '' ? null : JSON.parse(text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = `HTTP ${res.status} from ${command}: ${text.slice(0, 200)}`;
    }
    throw toApiError(body);
  }

  return {
    kind: 'http',
    invoke,

    channel<T>(onMessage: (message: T) => void): unknown {
      const id = nextChannel++;
      channels.set(id, onMessage as (message: unknown) => void);
      openStream();
      return `${CHANNEL_PREFIX}${id}`;
    },

    listen<T>(event: string, cb: (payload: T) => void): Unsubscribe {
      // One function per subscription, so that subscribing the same `cb` twice needs two unsubscribes.
      const fn = (payload: unknown) => cb(payload as T);
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      openStream();
      return () => {
        listeners.get(event)?.delete(fn);
      };
    },

    mediaUrl: (absPath) => `${base}/asset?token=${encodeURIComponent(token)}&path=${encodeURIComponent(absPath)}`,

    close() {
      closed = true;
      cancelReader?.();
    },
  };
}
