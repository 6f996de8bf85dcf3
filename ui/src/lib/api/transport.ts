// How the generated surface (`surface.ts`) reaches the core: Tauri's IPC in the app
// (`tauri.ts`), HTTP to the browser server elsewhere (`http.ts`). A transport carries calls,
// channels and events, and nothing else: no command names, no business rules.

/** Stops a subscription. Safe to call more than once. */
export type Unsubscribe = () => void;

export interface Transport {
  readonly kind: 'tauri' | 'http';
  /** Calls a command; resolves with its result, rejects with an `ApiError`. */
  invoke(command: string, args: Record<string, unknown>): Promise<unknown>;
  /** A channel argument: what to put in `args` so the command's messages reach `onMessage`. */
  channel<T>(onMessage: (message: T) => void): unknown;
  /** An app-wide event (`studio://…`). */
  listen<T>(event: string, cb: (payload: T) => void): Unsubscribe;
  /** A URL the window can load for an absolute path inside the library. */
  mediaUrl(absPath: string): string;
}
