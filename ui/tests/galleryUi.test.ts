// The gallery and the character registry against the real core (the browser server): a
// virtual grid over 10,000 seeded results, search and filters, the detail panel and its
// actions, the library check, poster captures, and the characters screen.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import App from '../src/App.svelte';
import type { ResultQuery } from '../src/lib/bindings/ResultQuery';
import type { StudioApi } from '../src/lib/api';
import Gallery from '../src/lib/components/Gallery.svelte';
import { modelName } from '../src/lib/logic/tasks';
import { studioContext } from '../src/lib/state/context';
import { Studio } from '../src/lib/state/studio.svelte';
import { HEALTH_DELAY_MS } from '../src/lib/state/gallery.svelte';
import { spec } from './catalogue';
import { seedDemoLibrary, server, serverPerTest } from './server';

/** A whole `ResultQuery` (newest first, one page) with `patch` applied. */
function resultQuery(patch: Partial<ResultQuery> = {}): ResultQuery {
  return { favourites_only: false, sort: 'date', desc: true, limit: 120, offset: 0, ...patch };
}

const JPEG = btoa(String.fromCharCode(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46));

const core = serverPerTest();

/** The demo library, seeded with `many` finished videos (none: an empty one), and opened. */
async function openDemo(many = 0, before?: () => void): Promise<StudioApi> {
  await seedDemoLibrary(many);
  before?.();
  await core.api.startDemo();
  return core.api;
}

/** The demo library's folder (the server's library, `-demo`). */
function demoRoot(): string {
  return `${server().library.replace(/\/+$/, '')}-demo`;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function tiles(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid^="result-"][data-favourite]')];
}

async function openGallery(many: number, before?: () => void) {
  await openDemo(many, before);
  const user = userEvent.setup();
  render(App, { props: { api: core.api, initial: { screen: 'gallery' } } });
  await screen.findByTestId('gallery');
  await waitFor(() => expect(tiles().length).toBeGreaterThan(0), { timeout: 5000 });
  return user;
}

async function openFirst(user: ReturnType<typeof userEvent.setup>) {
  const tile = tiles()[0];
  const id = Number(tile.dataset.testid!.replace('result-', ''));
  // The tile itself, as a pointer does (the end-to-end tests click it by its test id).
  await user.click(tile);
  await screen.findByTestId('detail');
  return id;
}

/** The characters the fake used to start with, added through the core. */
async function addCharacters(api: StudioApi) {
  await api.addCharacter({ handle: 'sky_ranger', characterId: 'char_7f3a91c2', prompt: 'a sky ranger in a leather flight jacket' });
  await api.addCharacter({ handle: 'skipper.mae', characterId: 'char_2b8e4d10', prompt: 'a retired sea captain with a grey beard' });
  await api.addCharacter({ handle: 'barista_bo', characterId: 'char_9c1d5e77', prompt: 'a cheerful barista in a green apron' });
}

describe('the gallery', () => {
  it('puts only a window of tiles in the DOM with 10,000 results, and pages as it scrolls', async () => {
    await openGallery(10_000);
    const list = vi.spyOn(core.api, 'listResults');
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent('10,000 videos'));
    const before = tiles().length;
    expect(before).toBeGreaterThan(8);
    expect(before).toBeLessThan(60);
    const scroller = screen.getByTestId('gallery-scroll');
    // Just past the first page: the next one is asked for from where the first ended (a
    // cursor, straight off the core's index), and follows on from it.
    scroller.scrollTop = 6800;
    await fireEvent.scroll(scroller);
    await waitFor(() => expect(list.mock.calls.some((c) => c[0].query.after)).toBe(true));
    const first = await core.api.listResults({ query: resultQuery({ limit: 120 }) });
    const second = list.mock.calls.find((c) => c[0].query.after)![0].query;
    expect(second.after).toEqual(first.next);
    const next = await core.api.listResults({ query: resultQuery({ offset: 120 }) });
    await waitFor(() => expect(screen.getByTestId(`result-${next.items[0].id}`).dataset.index).toBe('120'));
    // Far down: a few hundred rows further, another window, fetched by offset.
    scroller.scrollTop = 200_000;
    await fireEvent.scroll(scroller);
    await waitFor(() => {
      expect(tiles().length).toBeGreaterThan(8);
      expect(Math.min(...tiles().map((t) => Number(t.dataset.index)))).toBeGreaterThan(2000);
    }, { timeout: 5000 });
    expect(tiles().length).toBeLessThan(60);
    const offsets = list.mock.calls.map((c) => c[0].query.offset);
    expect(offsets.some((o) => o >= 2000)).toBe(true);
    expect(list.mock.calls.every((c) => c[0].query.limit <= 120)).toBe(true);
    // The tiles show the model, a date and what it cost.
    const t = tiles()[0];
    const shown = (await core.api.listResults({ query: resultQuery({ offset: Number(t.dataset.index), limit: 1 }) })).items[0];
    expect(t.dataset.testid).toBe(`result-${shown.id}`);
    expect(t.textContent).toContain(modelName(await core.api.getCatalogue(), shown.model));
    expect(t.textContent).toMatch(/credits/);
  }, 30_000);

  it('searches prompts as you type, and says when nothing matches', async () => {
    const user = await openGallery(2_000);
    await user.type(screen.getByTestId('gallery-search'), 'fox sno');
    await waitFor(() => {
      const n = Number(screen.getByTestId('gallery-count').textContent!.replace(/\D/g, ''));
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(2_000);
    });
    // The core's matches, in its order (a tile shows the prompt cut short, or a storyboard's
    // first shot, so the words matched may not be on it).
    const found = await core.api.listResults({ query: resultQuery({ search: 'fox sno' }) });
    expect(found.total).toBeLessThan(2_000);
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${found.total.toLocaleString('en-US')} videos`));
    await waitFor(() => {
      const shown = tiles().map((t) => Number(t.dataset.testid!.replace('result-', '')));
      expect(shown.length).toBeGreaterThan(0);
      expect(shown).toEqual(found.items.slice(0, shown.length).map((r) => r.id));
    });
    expect(found.items.every((r) => /fox/i.test(r.prompt ?? '') || /fox/i.test(r.notes ?? '') || r.model === 'sora-2-pro-storyboard')).toBe(true);
    expect(tiles().filter((t) => /fox/i.test(t.textContent!)).length).toBeGreaterThan(tiles().length / 2);
    await user.clear(screen.getByTestId('gallery-search'));
    await user.type(screen.getByTestId('gallery-search'), 'zebra');
    expect(await screen.findByText('Nothing matches “zebra”.')).toBeInTheDocument();
    expect(tiles()).toHaveLength(0);
  }, 20_000);

  it('filters favourites, model and kind', async () => {
    const user = await openGallery(1_000);
    const favTotal = (await core.api.listResults({ query: resultQuery({ favourites_only: true, limit: 1 }) })).total;
    expect(favTotal).toBeGreaterThan(0);
    await user.click(screen.getByTestId('gallery-filter-favourites'));
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${favTotal} videos`));
    expect(tiles().every((t) => t.dataset.favourite === 'true')).toBe(true);
    await user.click(screen.getByTestId('gallery-filter-favourites'));
    // The seeded library holds videos only: no characters.
    await user.selectOptions(screen.getByTestId('gallery-filter-kind'), 'character');
    const chars = (await core.api.listResults({ query: resultQuery({ kind: 'character', limit: 1 }) })).total;
    expect(chars).toBe(0);
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${chars} characters`));
    await user.selectOptions(screen.getByTestId('gallery-filter-kind'), 'all');
    await user.selectOptions(screen.getByTestId('gallery-filter-model'), 'sora-2-pro-storyboard');
    const boards = (await core.api.listResults({ query: resultQuery({ model: 'sora-2-pro-storyboard', limit: 1 }) })).total;
    expect(boards).toBeGreaterThan(0);
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${boards} videos`));
    await waitFor(() => expect(tiles().length > 0 && tiles().every((t) => t.textContent!.includes('Storyboard'))).toBe(true));
    await user.selectOptions(screen.getByTestId('gallery-sort'), 'cost-asc');
    expect(screen.getByTestId('gallery-sort')).toHaveValue('cost-asc');
  }, 20_000);

  it('filters by a whole family of models, grouped by family', async () => {
    const user = await openGallery(300);
    const select = screen.getByTestId('gallery-filter-model') as HTMLSelectElement;
    const catalogue = await core.api.getCatalogue();
    const families: string[] = [];
    for (const m of catalogue) if (!families.includes(m.family)) families.push(m.family);
    await waitFor(() => expect([...select.querySelectorAll('optgroup')].map((g) => g.label)).toEqual(families));
    const sora = select.querySelector<HTMLOptGroupElement>('optgroup[label="Sora"]')!;
    expect(within(sora).getByRole('option', { name: 'All Sora models' })).toHaveValue('family:Sora');
    const all = (await core.api.listResults({ query: resultQuery({ limit: 1 }) })).total;
    const soraTotal = (await core.api.listResults({ query: resultQuery({ family: 'Sora', limit: 1 }) })).total;
    expect(soraTotal).toBeGreaterThan(0);
    await user.selectOptions(select, 'family:Sora');
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${soraTotal.toLocaleString('en-US')} videos`));
    const klingTotal = (await core.api.listResults({ query: resultQuery({ family: 'Kling', limit: 1 }) })).total;
    await user.selectOptions(select, 'family:Kling');
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${klingTotal.toLocaleString('en-US')} videos`));
    expect(soraTotal + klingTotal).toBeLessThanOrEqual(all);
    // One model again: the family goes.
    await user.selectOptions(select, 'sora-2-pro-storyboard');
    expect(select).toHaveValue('sora-2-pro-storyboard');
    await user.click(screen.getByTestId('gallery-clear'));
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(`${all.toLocaleString('en-US')} videos`));
  }, 20_000);

  it('stars a tile as a favourite', async () => {
    const user = await openGallery(30);
    const tile = tiles().find((t) => t.dataset.favourite === 'false')!;
    const id = tile.dataset.testid!.replace('result-', '');
    await user.click(screen.getByTestId(`result-${id}-star`));
    await waitFor(() => expect(screen.getByTestId(`result-${id}`)).toHaveAttribute('data-favourite', 'true'));
    expect((await core.api.getResult({ id: Number(id) })).view.favourite).toBe(true);
  });

  it('opens a result with its prompt and details; arrows move, Escape closes', async () => {
    const user = await openGallery(30);
    const id = await openFirst(user);
    const detail = await core.api.getResult({ id });
    const r = detail.view;
    expect(screen.getByTestId('detail-prompt')).toHaveTextContent(r.prompt!);
    // The seeded Kie task ids: 32 hex digits.
    await waitFor(() => expect(screen.getByTestId('detail-task-id').textContent).toMatch(/^[0-9a-f]{32}$/));
    expect(screen.getByTestId('detail-credits')).toHaveTextContent(/credits/);
    expect(screen.getByTestId('detail-video')).toBeInTheDocument();
    expect(screen.getByTestId('detail-favourite')).toHaveAttribute('data-on', String(r.favourite));
    // The model's own settings, by their labels in the catalogue.
    const setting = spec(r.model).fields.find((f) => f.name !== 'prompt' && f.widget !== 'textarea' && f.name in detail.task.input);
    if (setting) expect(screen.getByTestId('detail')).toHaveTextContent(setting.label);
    await user.keyboard('{ArrowRight}');
    await waitFor(() => expect(screen.getByTestId('detail')).not.toHaveAttribute('data-result', String(id)));
    await user.keyboard('{ArrowLeft}');
    await waitFor(() => expect(screen.getByTestId('detail')).toHaveAttribute('data-result', String(id)));
    await user.click(screen.getByTestId('detail-favourite'));
    await waitFor(() => expect(screen.getByTestId('detail-favourite')).toHaveAttribute('data-on', String(!r.favourite)));
    expect(screen.getByTestId(`result-${id}`)).toHaveAttribute('data-favourite', String(!r.favourite));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('detail')).toBeNull());
  });

  it('keeps typed notes when moving on, and the scroll position when coming back', async () => {
    const user = await openGallery(3_000);
    const id = await openFirst(user);
    await user.type(screen.getByTestId('detail-notes'), 'not saved by hand');
    await user.keyboard('{Escape}');
    await waitFor(async () => expect((await core.api.getResult({ id })).view.notes).toBe('not saved by hand'));
    const scroller = screen.getByTestId('gallery-scroll');
    scroller.scrollTop = 50_000;
    await fireEvent.scroll(scroller);
    await waitFor(() => expect(Math.min(...tiles().map((t) => Number(t.dataset.index)))).toBeGreaterThan(400));
    await new Promise((r) => setTimeout(r, 30));
    await user.click(screen.getByTestId('nav-create'));
    await screen.findByTestId('model-form');
    await user.click(screen.getByTestId('nav-gallery'));
    await waitFor(() => expect(screen.getByTestId('gallery-scroll').scrollTop).toBe(50_000));
    await waitFor(() => {
      expect(tiles().length).toBeGreaterThan(8);
      expect(Math.min(...tiles().map((t) => Number(t.dataset.index)))).toBeGreaterThan(400);
    });
  }, 20_000);

  it('stays on the open result when a new one arrives, and Escape in a question only closes the question', async () => {
    const user = await openGallery(30);
    const id = await openFirst(user);
    await core.api.submitTask({ model: 'sora-2-text-to-video', input: { prompt: 'A brand new one' } });
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent('31 videos'), { timeout: 15_000 });
    await waitFor(() => expect(screen.getByTestId('detail')).toHaveTextContent('2 of 31'));
    expect(screen.getByTestId('detail')).toHaveAttribute('data-result', String(id));
    await user.click(screen.getByTestId('detail-delete'));
    await screen.findByTestId('confirm-dialog');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).toBeNull());
    expect(screen.getByTestId('detail')).toBeInTheDocument();
  }, 30_000);

  it('copies the prompt', async () => {
    const user = await openGallery(5);
    const write = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: write }, configurable: true });
    const id = await openFirst(user);
    await user.click(screen.getByTestId('detail-copy-prompt'));
    expect(write).toHaveBeenCalledWith((await core.api.getResult({ id })).view.prompt);
    expect(screen.getByTestId('detail-copy-prompt')).toHaveTextContent('Copied');
  });

  it('remixes: Create opens with the model and its settings filled in', async () => {
    const user = await openGallery(30);
    // A text-to-video result (the model filter lists the catalogue once it has loaded).
    const select = screen.getByTestId('gallery-filter-model');
    await waitFor(() => expect(within(select).getByRole('option', { name: 'Sora 2 – Text to video' })).toBeInTheDocument());
    await user.selectOptions(select, 'sora-2-text-to-video');
    await waitFor(() => expect(tiles().length > 0 && tiles().every((t) => t.textContent!.includes('Sora 2 – Text to video'))).toBe(true));
    const id = await openFirst(user);
    const d = await core.api.getResult({ id });
    await user.click(screen.getByTestId('detail-remix'));
    const form = await screen.findByTestId('model-form');
    expect(form).toHaveAttribute('data-model', 'sora-2-text-to-video');
    expect(screen.getByTestId('input-prompt')).toHaveValue(d.task.input.prompt as string);
    expect(screen.getByTestId(`input-n_frames-${d.task.input.n_frames}`)).toHaveAttribute('aria-checked', 'true');
  });

  it('makes a character from a video: the characters form with the video chosen', async () => {
    const user = await openGallery(30);
    await user.selectOptions(screen.getByTestId('gallery-filter-kind'), 'video');
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(/videos/));
    const id = await openFirst(user);
    const kie = (await core.api.getResult({ id })).task.kie_task_id!;
    await user.click(screen.getByTestId('detail-make-character'));
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', 'sora-2-characters-pro'));
    expect(screen.getByTestId('input-origin_task_id')).toHaveValue(kie);
  });

  it('deletes only after asking, and the tile goes', async () => {
    const user = await openGallery(30);
    const id = await openFirst(user);
    await user.click(screen.getByTestId('detail-delete'));
    expect(await screen.findByTestId('confirm-dialog')).toHaveTextContent('cannot be undone');
    await user.click(screen.getByTestId('confirm-no'));
    expect(screen.getByTestId('detail')).toBeInTheDocument();
    expect((await core.api.getResult({ id })).view.id).toBe(id);
    await user.click(screen.getByTestId('detail-delete'));
    await user.click(await screen.findByTestId('confirm-yes'));
    await waitFor(() => expect(screen.queryByTestId('detail')).toBeNull());
    await waitFor(() => expect(screen.queryByTestId(`result-${id}`)).toBeNull());
    await expect(core.api.getResult({ id })).rejects.toMatchObject({ code: 'not_in_library' });
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent('29 videos'));
  });

  it('keeps notes, and finds a result by them', async () => {
    const user = await openGallery(30);
    const id = await openFirst(user);
    expect(screen.getByTestId('detail-notes-save')).toBeDisabled();
    // A seeded result may carry notes already: these replace them.
    await user.clear(screen.getByTestId('detail-notes'));
    await user.type(screen.getByTestId('detail-notes'), 'zanzibar trip');
    await user.click(screen.getByTestId('detail-notes-save'));
    await waitFor(() => expect(screen.getByTestId('detail-notes-save')).toBeDisabled());
    expect((await core.api.getResult({ id })).view.notes).toBe('zanzibar trip');
    await user.keyboard('{Escape}');
    await user.type(screen.getByTestId('gallery-search'), 'zanz');
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent('1 video'));
    expect(tiles().map((t) => t.dataset.testid)).toEqual([`result-${id}`]);
  });

  it('exports: with no folder chosen (the server has no dialog) it says nothing and can export again', async () => {
    const user = await openGallery(5);
    const id = await openFirst(user);
    // What the window gets: the export was cancelled.
    expect(await core.api.exportResult({ id })).toBeNull();
    await user.click(screen.getByTestId('detail-export'));
    await waitFor(() => expect(screen.getByTestId('detail-export')).toHaveTextContent('Export…'));
    expect(screen.getByTestId('detail-export')).toBeEnabled();
    expect(screen.queryByTestId('detail-export-result')).toBeNull();
    expect(screen.getByTestId('detail').querySelector('[role="alert"]')).toBeNull();
  });

  it('checks the library on opening: says what is wrong, and a rescan says what it repaired', async () => {
    // Two videos gone from disk (the oldest), a file the app named for a task that exists
    // (a second video of the newest task: linked back by a rescan) and a stray file.
    let oldest: string[] = [];
    const user = await openGallery(20, () => {
      const media = join(demoRoot(), 'media');
      const videos = filesUnder(media)
        .filter((f) => /task-\d+-0\.mp4$/.test(f))
        .sort((a, b) => Number(/task-(\d+)-/.exec(a)![1]) - Number(/task-(\d+)-/.exec(b)![1]));
      oldest = videos.slice(0, 2);
      const newest = videos[videos.length - 1];
      copyFileSync(newest, newest.replace(/-0\.mp4$/, '-1.mp4'));
      copyFileSync(newest, join(dirname(newest), 'stray.mp4'));
      for (const f of oldest) rmSync(f);
    });
    // The check waits for the first screen (HEALTH_DELAY_MS), then reports.
    expect(screen.queryByTestId('health-banner')).toBeNull();
    const banner = await screen.findByTestId('health-banner', {}, { timeout: HEALTH_DELAY_MS + 3000 });
    expect(banner).toHaveTextContent('2 videos are missing from disk, 2 files are not in the library');
    // Their tiles say so too (the oldest results).
    const missing = (await core.api.libraryHealth()).missing;
    expect(missing).toHaveLength(2);
    const scroller = screen.getByTestId('gallery-scroll');
    scroller.scrollTop = 100_000;
    await fireEvent.scroll(scroller);
    await screen.findByTestId(`result-${missing[0].id}-missing`);
    await user.click(banner);
    await user.click(await screen.findByTestId('health-rescan'));
    const report = await screen.findByTestId('health-report');
    expect(report).toHaveTextContent('Linked back 1 file');
    expect(report).toHaveTextContent('2 videos missing from disk, 1 file not in the library');
    expect(screen.getByTestId('health-banner')).toHaveTextContent('2 videos are missing from disk, 1 file is not in the library');
  });

  it('says there is nothing yet in an empty library', async () => {
    await openDemo(0);
    render(App, { props: { api: core.api, initial: { screen: 'gallery' } } });
    expect(await screen.findByText('No videos yet — make one in Create.')).toBeInTheDocument();
    expect(screen.getByTestId('gallery-count')).toHaveTextContent('0 videos');
    expect(screen.queryByTestId('health-banner')).toBeNull();
  });
});

describe('poster captures', () => {
  it('captures a poster for each video in view that has none, two at a time, once', async () => {
    // The seeded videos have posters, and so do Sora's; the watermark remover's have none
    // (Kie gives no first frame).
    const api = await openDemo(0);
    for (const s of ['a1b2c3d4', 'e5f6a7b8', 'c9d0e1f2']) {
      await api.submitTask({ model: 'sora-watermark-remover', input: { video_url: `https://sora.chatgpt.com/p/s_${s}` } });
    }
    await waitFor(
      async () => expect((await api.listResults({ query: resultQuery({ kind: 'video' }) })).total).toBe(3),
      { timeout: 20_000, interval: 200 },
    );
    const studio = new Studio(api);
    await studio.init({ screen: 'gallery' });
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    studio.gallery.capture = async (src) => {
      seen.push(src);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return JPEG;
    };
    const save = vi.spyOn(api, 'savePoster');
    render(Gallery, { context: studioContext(studio) });
    await waitFor(() => expect(tiles().length).toBeGreaterThan(0));
    const inView = new Set(tiles().map((t) => Number(t.dataset.testid!.replace('result-', ''))));
    const page = (await api.listResults({ query: resultQuery({ limit: 1000 }) })).items;
    const wanted = page.filter((r) => inView.has(r.id) && r.kind === 'video' && !r.poster_path).map((r) => r.id);
    expect(wanted.length).toBeGreaterThan(1);
    await waitFor(() => expect(save).toHaveBeenCalledTimes(wanted.length));
    expect(most).toBeLessThanOrEqual(2);
    expect(new Set(save.mock.calls.map((c) => c[0].id))).toEqual(new Set(wanted));
    expect(save.mock.calls.every((c) => c[0].image === JPEG)).toBe(true);
    // The tile shows it at once.
    // (the core's copy of the capture, in the library's posters folder).
    const saved = await save.mock.results.find((_r, i) => save.mock.calls[i][0].id === wanted[0])!.value;
    expect(saved.poster_path).toMatch(/^posters\/.+\.jpg$/);
    await waitFor(() => expect(screen.getByTestId(`result-${wanted[0]}`).querySelector('img')?.getAttribute('src')).toContain(saved.poster_path));
    // Scrolling away and back captures nothing again.
    studio.gallery.reload(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(save).toHaveBeenCalledTimes(wanted.length);
    expect(seen.length).toBe(wanted.length);
    studio.dispose();
  }, 40_000);
});

describe('the characters screen', () => {
  async function openCharacters(many = 5) {
    const api = await openDemo(many);
    await addCharacters(api);
    const user = userEvent.setup();
    render(App, { props: { api, initial: { screen: 'characters' } } });
    await screen.findByTestId('characters');
    await screen.findByTestId('character-sky_ranger');
    return user;
  }

  it('shows every character, and searches them', async () => {
    const user = await openCharacters();
    const mae = screen.getByTestId('character-skipper.mae');
    expect(mae).toHaveTextContent('retired sea captain');
    await user.type(screen.getByTestId('characters-search'), 'apron');
    expect(screen.getByTestId('character-barista_bo')).toBeInTheDocument();
    expect(screen.queryByTestId('character-sky_ranger')).toBeNull();
    await user.clear(screen.getByTestId('characters-search'));
    await user.type(screen.getByTestId('characters-search'), '@sky');
    expect(screen.getByTestId('character-sky_ranger')).toBeInTheDocument();
    expect(screen.queryByTestId('character-barista_bo')).toBeNull();
  });

  it('adds a handle by hand, refuses a duplicate in plain words and keeps the input, removes after asking', async () => {
    const user = await openCharacters();
    await user.type(screen.getByTestId('character-add-handle'), '@new_hero');
    await user.type(screen.getByTestId('character-add-id'), 'char_new');
    await user.type(screen.getByTestId('character-add-prompt'), 'a brave new hero');
    await user.click(screen.getByTestId('character-add-save'));
    expect(await screen.findByTestId('character-new_hero')).toHaveTextContent('a brave new hero');
    expect(screen.getByTestId('character-add-handle')).toHaveValue('');

    await user.type(screen.getByTestId('character-add-handle'), 'Barista_Bo');
    await user.type(screen.getByTestId('character-add-prompt'), 'another barista');
    await user.click(screen.getByTestId('character-add-save'));
    expect(await screen.findByTestId('character-add-error')).toHaveTextContent('@Barista_Bo is already in your characters');
    expect(screen.getByTestId('character-add-handle')).toHaveValue('Barista_Bo');
    expect(screen.getByTestId('character-add-prompt')).toHaveValue('another barista');

    await user.click(screen.getByTestId('character-new_hero-remove'));
    await user.click(await screen.findByTestId('confirm-no'));
    expect(screen.getByTestId('character-new_hero')).toBeInTheDocument();
    await user.click(screen.getByTestId('character-new_hero-remove'));
    await user.click(await screen.findByTestId('confirm-yes'));
    await waitFor(() => expect(screen.queryByTestId('character-new_hero')).toBeNull());
    expect((await core.api.listCharacters()).some((c) => c.handle === 'new_hero')).toBe(false);
  });

  it('copies a handle', async () => {
    const user = await openCharacters();
    const write = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: write }, configurable: true });
    await user.click(screen.getByTestId('character-sky_ranger-copy'));
    expect(write).toHaveBeenCalledWith('@sky_ranger');
    expect(screen.getByTestId('character-sky_ranger-copy')).toHaveTextContent('Copied');
  });

  it('uses a character in a prompt: @handle in the prompt and its id in the character list', async () => {
    const user = await openCharacters();
    await user.click(screen.getByTestId('character-sky_ranger-use'));
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', 'sora-2-text-to-video'));
    expect(screen.getByTestId('input-prompt')).toHaveValue('@sky_ranger ');
    expect(screen.getByTestId('input-character_id_list-0')).toHaveValue('char_7f3a91c2');
  });

  it('makes a character from a chosen video', async () => {
    const user = await openCharacters();
    // Offered once the catalogue (with the characters model) is in.
    await user.click(await screen.findByTestId('character-make'));
    const picker = await screen.findByTestId('origin-video-picker');
    const first = await waitFor(() => {
      const b = picker.querySelector<HTMLElement>('[data-testid^="origin-video-"]:not([data-testid="origin-video-picker"])');
      expect(b).not.toBeNull();
      return b!;
    });
    const taskId = Number(first.dataset.testid!.replace('origin-video-', ''));
    const kie = (await core.api.getTask({ id: taskId })).kie_task_id;
    await user.click(first);
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', 'sora-2-characters-pro'));
    expect(screen.getByTestId('input-origin_task_id')).toHaveValue(kie);
  });
});

describe('@handle completion', () => {
  it('adds the character id to the list when a handle is picked', async () => {
    const api = await openDemo(0);
    await addCharacters(api);
    const user = userEvent.setup();
    render(App, { props: { api, initial: { screen: 'create', model: 'sora-2-text-to-video' } } });
    const prompt = (await screen.findByTestId('input-prompt')) as HTMLTextAreaElement;
    await user.type(prompt, 'A walk with @sky');
    await screen.findByTestId('handle-completion-sky_ranger');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(prompt.value).toBe('A walk with @sky_ranger '));
    expect(screen.getByTestId('input-character_id_list-0')).toHaveValue('char_7f3a91c2');
    // The same handle again: no duplicate.
    await user.type(prompt, 'and @sky');
    await screen.findByTestId('handle-completion-sky_ranger');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(prompt.value).toBe('A walk with @sky_ranger and @sky_ranger '));
    expect(screen.queryByTestId('input-character_id_list-1')).toBeNull();
  });
});
