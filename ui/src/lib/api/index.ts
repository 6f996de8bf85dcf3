// Picks the transport at startup: Tauri's IPC inside the app; elsewhere (a plain browser,
// `vite dev`, tests) HTTP to the browser server, whose address and token come from the page's
// query string (`?server=http://127.0.0.1:PORT&token=…`) or from `VITE_STUDIO_SERVER` and
// `VITE_STUDIO_TOKEN`. Tauri's transport is loaded on demand, so a browser never touches it.

import { createStudioApi, type StudioApi } from './client';
import { createHttpTransport } from './http';

export { createStudioApi, type StudioApi, type Unsubscribe } from './client';

export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export interface ServerAddress {
  url: string;
  token: string;
}

/** The browser server named by the page's address, else by the build's environment; null when neither does. */
export function serverAddress(search: string = typeof window === 'undefined' ? '' : window.location.search): ServerAddress | null {
  const params = new URLSearchParams(search);
  const url = params.get('server') ?? import.meta.env.VITE_STUDIO_SERVER ?? '';
  const token = params.get('token') ?? import.meta.env.VITE_STUDIO_TOKEN ?? '';
  return url !== '' && token !== '' ? { url, token } : null;
}

/**
 * The window's API. Rejects outside Tauri when no server is named (the page says how to
 * start one).
 */
export async function pickApi(): Promise<StudioApi> {
  if (inTauri()) {
    const { createTauriTransport } = await import('./tauri');
    return createStudioApi(createTauriTransport());
  }
  const server = serverAddress();
  if (!server) {
    throw new Error(
      'No Kie Studio server to talk to. Start one (`cargo run -p studio-server`) and open this page with ' +
        '`?server=<its url>&token=<its token>`, or set VITE_STUDIO_SERVER and VITE_STUDIO_TOKEN.',
    );
  }
  return createStudioApi(createHttpTransport(server));
}
