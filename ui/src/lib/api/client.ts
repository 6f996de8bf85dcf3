// What the window calls: the generated surface (`surface.ts`: one function per command, each
// taking one object of named arguments, and one subscription per event) over a transport,
// plus the transport's media URLs and one fan-out of the progress channel.

import type { ProgressEvent } from '../bindings/ProgressEvent';
import { createApi, type Api } from './surface';
import type { Transport, Unsubscribe } from './transport';

export type { Unsubscribe } from './transport';

export interface StudioApi extends Api {
  /** Which transport carries the calls. */
  readonly kind: Transport['kind'];
  /** A URL the window can load for an absolute path inside the library. */
  mediaUrl(absPath: string): string;
  /**
   * Task and download progress. `watch_progress` is called once, on the first subscriber;
   * every subscriber gets every event from then on.
   */
  onProgress(cb: (event: ProgressEvent) => void): Unsubscribe;
}

export function createStudioApi(t: Transport): StudioApi {
  const api = createApi(t);
  const progress = new Set<(event: ProgressEvent) => void>();
  let watching = false;
  const watch = () => {
    if (watching) return;
    watching = true;
    api
      .watchProgress({
        channel: (event) => {
          for (const cb of [...progress]) cb(event);
        },
      })
      .catch((e) => {
        // Asked again by the next subscriber.
        watching = false;
        console.error('watch_progress failed', e);
      });
  };
  return {
    ...api,
    kind: t.kind,
    mediaUrl: (absPath) => t.mediaUrl(absPath),
    onProgress(cb) {
      const fn = (event: ProgressEvent) => cb(event);
      progress.add(fn);
      watch();
      return () => {
        progress.delete(fn);
      };
    },
  };
}
