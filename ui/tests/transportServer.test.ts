// The HTTP transport and the generated client against the real browser server (the core in
// Rust, started by globalSetup.ts): a call, a rejection, an app-wide event and the progress
// channel, end to end. The window's own tests run over the same server (app, galleryUi, studio).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStudioApi, type StudioApi } from '../src/lib/api';
import { createHttpTransport, type HttpTransport } from '../src/lib/api/http';
import type { ProgressEvent } from '../src/lib/bindings/ProgressEvent';
import type { Task } from '../src/lib/bindings/Task';
import { resetServer, server } from './server';

let transport: HttpTransport;
let api: StudioApi;

beforeEach(async () => {
  await resetServer();
  transport = createHttpTransport({ url: server().url, token: server().token, retryMs: 100 });
  api = createStudioApi(transport);
  // The keyring outlives a reset: start without a key.
  if ((await api.getAppInfo()).key.set) {
    await api.deleteKey();
    await resetServer();
  }
});

afterEach(() => transport.close());

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('the generated client over HTTP, against the core', () => {
  it('answers calls, and rejects with a code of the generated union', async () => {
    const info = await api.getAppInfo();
    expect(info.ready).toBe(false);
    expect(info.rules.handle_max_len).toBeGreaterThan(0);
    expect(info.rules.usd_per_credit).toBeGreaterThan(0);
    await expect(api.listTasks({ limit: 5 })).rejects.toMatchObject({ code: 'not_ready' });
    const check = await api.checkInput({ model: 'sora-2-pro-storyboard', input: { n_frames: '15', shots: [{ Scene: 'a', duration: 4 }] } });
    expect(check.budgets).toEqual([{ list: 'shots', item_key: 'duration', limit: 15, used: 4, left: 11, unit: 's' }]);
  });

  it('brings a demo task through events and the progress channel', async () => {
    const changed: Task[] = [];
    const progress: ProgressEvent[] = [];
    api.onTaskChanged((t) => changed.push(t));
    api.onProgress((e) => progress.push(e));
    expect((await api.startDemo()).demo).toBe(true);
    const task = await api.submitTask({ model: 'sora-2-text-to-video', input: { prompt: 'a fox in the snow' } });
    expect(task.actions).toEqual(expect.any(Array));
    await until(() => changed.some((t) => t.id === task.id && t.is_final), 'the task to finish', 30_000);
    expect(changed.find((t) => t.id === task.id && t.is_final)?.status).toBe('succeeded');
    expect(progress.some((e) => e.task_id === task.id)).toBe(true);
  }, 40_000);
});
