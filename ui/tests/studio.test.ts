import { waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { Studio } from '../src/lib/state/studio.svelte';
import { appInfo, stubApi } from './stubApi';
import { taskRow } from './taskRow';
import { server, serverPerTest } from './server';

function withInfo(mediaBase: string | null): Studio {
  const s = new Studio(stubApi().api);
  s.info = appInfo({ media_base: mediaBase });
  return s;
}

describe('media URLs', () => {
  it('joins library-relative paths to the library, and keeps absolute ones', () => {
    const s = withInfo(null);
    expect(s.media('posters/a.jpg')).toBe(`asset://localhost/${encodeURIComponent('/home/me/Kie Studio/posters/a.jpg')}`);
    expect(s.media('/elsewhere/b.png')).toBe(`asset://localhost/${encodeURIComponent('/elsewhere/b.png')}`);
    expect(s.media(null)).toBeNull();
  });

  it('plays videos from the media server when there is one', () => {
    expect(withInfo('http://127.0.0.1:4567/t0k3n/').video('media/2026-01/task 1.mp4')).toBe(
      'http://127.0.0.1:4567/t0k3n/media/2026-01/task%201.mp4',
    );
    expect(withInfo(null).video('media/a.mp4')).toBe(`asset://localhost/${encodeURIComponent('/home/me/Kie Studio/media/a.mp4')}`);
  });

  it('loads posters from the media server too, and uploads from the asset protocol', () => {
    const s = withInfo('http://127.0.0.1:4567/t0k3n');
    expect(s.poster('posters/task-1-0-poster.jpg')).toBe('http://127.0.0.1:4567/t0k3n/posters/task-1-0-poster.jpg');
    expect(s.poster('/elsewhere/p.jpg')).toBe(`asset://localhost/${encodeURIComponent('/elsewhere/p.jpg')}`);
    expect(s.media('uploads/a.png')).toBe(`asset://localhost/${encodeURIComponent('/home/me/Kie Studio/uploads/a.png')}`);
    expect(withInfo(null).poster('posters/p.jpg')).toBe(`asset://localhost/${encodeURIComponent('/home/me/Kie Studio/posters/p.jpg')}`);
    expect(s.poster(null)).toBeNull();
  });
});

describe('the stub core', () => {
  it('answers what the window asks on its own, so a test on it logs no failure', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { api, transport } = stubApi();
      const s = new Studio(api);
      await s.loadBatches();
      const stop = api.onProgress(() => undefined);
      await new Promise((r) => setTimeout(r, 0));
      stop();
      expect(transport.calls.map((c) => c.command)).toEqual(['list_batches', 'watch_progress']);
      expect(s.batches).toEqual([]);
      expect(errors).not.toHaveBeenCalled();
      // A test's own answer comes first.
      const batch = { id: 7, updated_at: 1, sent: 0 };
      const own = new Studio(stubApi({ list_batches: [batch] }).api);
      await own.loadBatches();
      expect(own.batches).toEqual([batch]);
    } finally {
      errors.mockRestore();
    }
  });
});

describe('the queue', () => {
  it('opens with the newest tasks and every older open one, and shows older ones a page at a time', async () => {
    // Tasks 1..30, one a second; task 2 still running.
    const all = Array.from({ length: 30 }, (_, i) =>
      taskRow({ id: i + 1, created_at: (i + 1) * 1000, status: i + 1 === 2 ? 'running' : 'succeeded', is_final: i + 1 !== 2 }),
    ).reverse();
    const listQueue = ({ newest, before }: Record<string, unknown>) => {
      if (before === null) return [...all.slice(0, newest as number), ...all.filter((t) => t.id === 2)];
      return all.filter((t) => t.id < (before as number)).slice(0, newest as number);
    };
    const { api, transport } = stubApi({ list_queue: listQueue });
    const s = new Studio(api);
    await s.loadTasks();
    expect(s.tasks.map((t) => t.id)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 2]);
    expect(s.queueOlderThan).toBe(19);
    // An event meanwhile: a newer record of a task already shown stays.
    s.taskChanged({ ...all.find((t) => t.id === 2)!, progress: 50, updated_at: 9_999 });
    await s.loadOlderTasks();
    expect(transport.calls.filter((c) => c.command === 'list_queue').map((c) => c.args)).toEqual([
      { newest: 12, before: null },
      { newest: 24, before: 19 },
    ]);
    expect(s.tasks.map((t) => t.id)).toEqual(all.map((t) => t.id));
    expect(s.tasks.find((t) => t.id === 2)!.progress).toBe(50);
    // Fewer than a page came: nothing older is left.
    expect(s.queueOlderThan).toBeNull();
    await s.loadOlderTasks();
    expect(transport.calls.filter((c) => c.command === 'list_queue')).toHaveLength(2);
  });
});

// A task's whole life on the real core (the browser server, on its own Kie simulator).
describe('the live queue', () => {
  const core = serverPerTest();

  it('follows tasks through events and keeps a late, older record from moving one backwards', async () => {
    const backend = core.api;
    await backend.setKey({ key: server().sim_key });
    const s = new Studio(backend);
    await s.init();
    await waitFor(() => expect(s.balance).not.toBeNull());
    const before = s.balance!.credits;
    const t = await backend.submitTask({ model: 'sora-2-text-to-video', input: { prompt: 'a fox' } });
    await waitFor(() => expect(s.tasks.find((x) => x.id === t.id)?.status).toBe('succeeded'), { timeout: 10000 });
    s.taskChanged({ ...t, status: 'running', updated_at: 0 });
    expect(s.tasks.find((x) => x.id === t.id)!.status).toBe('succeeded');
    await waitFor(() => expect(s.balance?.credits).toBe(before - 30), { timeout: 10000 });
    // The queue shows the tile-sized thumb made from the poster, not the full poster.
    await waitFor(() => expect(s.posters[t.id]).toMatch(/^thumbs\//), { timeout: 10000 });
    s.dispose();
  });
});
