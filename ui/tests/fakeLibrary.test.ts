// The fake's library side stands in for the shell's gallery commands: it must search, filter,
// sort and page like `library::list_results`, and repair like `gallery::rescan`.
import { describe, expect, it } from 'vitest';
import { createFastFake, fakeSearchMatches } from '../src/lib/backend/fake';

// The smallest JPEG header the fake (and the shell) recognise as an image.
const JPEG = btoa(String.fromCharCode(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46));

describe('fake search, as the full-text index', () => {
  it('matches every typed word as a prefix, within one document', () => {
    expect(fakeSearchMatches('fox sno', ['A red fox in the snow'])).toBe(true);
    expect(fakeSearchMatches('FOX', ['a red fox'])).toBe(true);
    expect(fakeSearchMatches('ox', ['a red fox'])).toBe(false);
    expect(fakeSearchMatches('fox intro', ['a red fox', 'use for the intro'])).toBe(false);
    expect(fakeSearchMatches('intro', ['a red fox', 'use for the intro'])).toBe(true);
    // Nothing searchable: no filter.
    expect(fakeSearchMatches('@ -', ['anything'])).toBe(true);
  });
});

describe('fake library', () => {
  it('holds thousands of results and pages, filters and sorts them', async () => {
    const b = createFastFake({ demo: true, many: 10_000 });
    const all = await b.listResults({ limit: 120, offset: 0 });
    expect(all.total).toBe(10_000);
    expect(all.items).toHaveLength(120);
    const next = await b.listResults({ limit: 120, offset: 120 });
    expect(next.items[0].created_at).toBeLessThanOrEqual(all.items[119].created_at);
    const asc = await b.listResults({ limit: 5, sort: 'date', desc: false });
    expect(asc.items[0].created_at).toBeLessThan(all.items[0].created_at);
    const dear = await b.listResults({ limit: 3, sort: 'cost', desc: true });
    const cheap = await b.listResults({ limit: 3, sort: 'cost', desc: false });
    expect(dear.items[0].credits_consumed!).toBeGreaterThan(cheap.items[0].credits_consumed!);
    const chars = await b.listResults({ kind: 'character', limit: 1 });
    expect(chars.total).toBeGreaterThan(0);
    expect(chars.total).toBeLessThan(1000);
    const fav = await b.listResults({ favourites_only: true, limit: 1000 });
    expect(fav.items.every((r) => r.favourite)).toBe(true);
    const from = all.items[50].created_at;
    const ranged = await b.listResults({ from_ms: from, to_ms: all.items[10].created_at + 1, limit: 1000 });
    expect(ranged.total).toBe(41);
  });

  it('favourites, notes (searched), posters and delete', async () => {
    const b = createFastFake({ demo: true, many: 50 });
    const [first] = (await b.listResults({ limit: 1 })).items;
    expect((await b.setFavourite(first.id, true)).favourite).toBe(true);
    await b.setNotes(first.id, 'zanzibar trip');
    expect((await b.listResults({ search: 'zanz' })).items.map((r) => r.id)).toEqual([first.id]);
    await expect(b.savePoster(first.id, btoa('not an image'))).rejects.toMatchObject({ code: 'refused' });
    const row = await b.savePoster(first.id, JPEG);
    expect(row.poster_path).toMatch(/^posters\/.*-poster\.jpg$/);
    expect(b.mediaUrl(`/lib/${row.poster_path}`)).toBe(`data:image/jpeg;base64,${JPEG}`);
    const detail = await b.getResult(first.id);
    expect(detail).toMatchObject({ file_present: true, view: { id: first.id, favourite: true }, task: { id: first.task_id } });
    expect(detail.task.input).toBeTruthy();
    await b.deleteResult(first.id);
    expect((await b.listResults({ limit: 1000 })).total).toBe(49);
    await expect(b.getResult(first.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reports missing files and orphans, and a rescan repairs what it can', async () => {
    const b = createFastFake({ demo: true, seed: true, many: 20 });
    const h = await b.libraryHealth();
    expect(h.missing).toHaveLength(2);
    expect(h.orphans).toHaveLength(2);
    expect((await b.getResult(h.missing[0].id)).file_present).toBe(false);
    const r = await b.rescanLibrary();
    expect(r.relinked).toHaveLength(1);
    expect(r.health.missing).toHaveLength(1);
    expect(r.health.orphans).toEqual(['media/holiday-edit-final.mp4']);
  });

  it('exports to a folder, or nothing when the dialog is cancelled', async () => {
    const b = createFastFake({ demo: true, many: 3 });
    const [r] = (await b.listResults({ kind: 'video', limit: 1 })).items;
    const out = await b.exportResult(r.id);
    expect(out!.video).toMatch(/^\/home\/you\/Videos\/.*\.mp4$/);
    expect(out!.sidecar).toMatch(/\.json$/);
    const cancelled = createFastFake({ demo: true, many: 3, exportDir: null });
    const [r2] = (await cancelled.listResults({ kind: 'video', limit: 1 })).items;
    expect(await cancelled.exportResult(r2.id)).toBeNull();
  });

  it('lists characters with the poster of their origin video', async () => {
    const b = createFastFake({ demo: true, seed: true });
    const list = await b.listCharacters();
    expect(list.find((c) => c.handle === 'skipper.mae')).toMatchObject({ origin_video_task_id: 1, poster_path: expect.stringMatching(/^posters\//) });
    expect(list.find((c) => c.handle === 'barista_bo')).toMatchObject({ poster_path: null, origin_video_task_id: null });
  });
});
