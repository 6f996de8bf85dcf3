import { describe, expect, it } from 'vitest';
import { Studio } from '../src/lib/state/studio.svelte';
import { RULES, stubApi } from './stubApi';
import { createFastFake } from './todoServer';

function withInfo(mediaBase: string | null): Studio {
  const s = new Studio(stubApi().api);
  s.info = {
    version: '1',
    ready: true,
    demo: false,
    library_path: '/home/me/Kie Studio/',
    media_base: mediaBase,
    key: { set: true, source: 'keyring', last4: 'abcd' },
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

// TODO(server): against the browser server (a demo task's whole life, events and balance).
describe.skip('the live queue', () => {
  it('follows tasks through events and keeps a late, older record from moving one backwards', async () => {
    const backend = createFastFake({ demo: true });
    const s = new Studio(backend);
    await s.init();
    const t = await backend.submitTask({ model: 'sora-2-text-to-video', input: { prompt: 'a fox' } });
    await new Promise((r) => setTimeout(r, 600));
    const done = s.tasks.find((x) => x.id === t.id)!;
    expect(done.status).toBe('succeeded');
    s.taskChanged({ ...t, status: 'running', updated_at: 0 });
    expect(s.tasks.find((x) => x.id === t.id)!.status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.balance?.credits).toBe(9970);
    expect(s.posters[t.id]).toMatch(/^posters\//);
    s.dispose();
  });
});
