// The transport inside the app: Tauri's IPC. The ONLY file of the window that imports
// `@tauri-apps/*`.

import { Channel, convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen as tauriListen, type UnlistenFn } from '@tauri-apps/api/event';

import { toApiError } from '../logic/errors';
import type { Transport, Unsubscribe } from './transport';

export function createTauriTransport(): Transport {
  return {
    kind: 'tauri',

    async invoke(command, args) {
      try {
        return await invoke<unknown>(command, args);
      } catch (e) {
        throw toApiError(e);
      }
    },

    channel<T>(onMessage: (message: T) => void): unknown {
      const channel = new Channel<T>();
      channel.onmessage = onMessage;
      return channel;
    },

    // Tauri's `listen` is asynchronous; this returns an unsubscribe that works at any time.
    listen<T>(event: string, cb: (payload: T) => void): Unsubscribe {
      let stopped = false;
      let unlisten: UnlistenFn | null = null;
      tauriListen<T>(event, (e) => {
        if (!stopped) cb(e.payload);
      })
        .then((fn) => {
          if (stopped) fn();
          else unlisten = fn;
        })
        .catch((e) => console.error(`could not listen to ${event}`, e));
      return () => {
        if (stopped) return;
        stopped = true;
        unlisten?.();
      };
    },

    mediaUrl: (absPath) => convertFileSrc(absPath),
  };
}
