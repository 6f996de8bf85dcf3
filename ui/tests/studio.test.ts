import { waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStudioApi } from '../src/lib/api';
import { createHttpTransport, type HttpTransport } from '../src/lib/api/http';
import { Studio } from '../src/lib/state/studio.svelte';
import { RULES, stubApi } from './stubApi';
import { resetServer, server } from './server';

function withInfo(mediaBase: string | null): Studio {
  const s = new Studio(stubApi().api);
  s.info = {
    version: '1',
    ready: true,
    demo: false,
    library_path: '/home/me/Kie Studio/',
    log_dir: null,
    media_base: mediaBase,
    key: { set: true, source: 'keyring', last4: 'abcd' },
    hosts: null,
    library_problem: null,
    rules: RULES,
  };
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

// A task's whole life on the real core (the browser server, on its own Kie simulator).
describe('the live queue', () => {
  let transport: HttpTransport | null = null;
  beforeEach(async () => {
    await resetServer();
  });
  afterEach(async () => {
    // The keyring outlives a reset: leave no key behind.
    const { url, token } = server();
    const api = createStudioApi(createHttpTransport({ url, token }));
    if ((await api.getAppInfo()).key.set) await api.deleteKey();
    transport?.close();
    transport = null;
  });

  it('follows tasks through events and keeps a late, older record from moving one backwards', async () => {
    const { url, token, sim_key } = server();
    transport = createHttpTransport({ url, token });
    const backend = createStudioApi(transport);
    await backend.setKey({ key: sim_key });
    const s = new Studio(backend);
    await s.init();
    await waitFor(() => expect(s.balance).not.toBeNull());
    const before = s.balance!.credits;
    const t = await backend.submitTask({ model: 'sora-2-text-to-video', input: { prompt: 'a fox' } });
    await waitFor(() => expect(s.tasks.find((x) => x.id === t.id)?.status).toBe('succeeded'), { timeout: 10000 });
    s.taskChanged({ ...t, status: 'running', updated_at: 0 });
    expect(s.tasks.find((x) => x.id === t.id)!.status).toBe('succeeded');
    await waitFor(() => expect(s.balance?.credits).toBe(before - 30), { timeout: 10000 });
    await waitFor(() => expect(s.posters[t.id]).toMatch(/^posters\//), { timeout: 10000 });
    s.dispose();
  });
});
