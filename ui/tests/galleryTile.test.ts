// A tile's picture: the 1× thumb, the HiDPI one offered beside it (`srcset`), and the 1× one
// alone when the HiDPI one cannot be loaded (a thumb from before there were two sizes).
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../src/lib/bindings/ResultView';
import GalleryTile from '../src/lib/components/GalleryTile.svelte';
import { studioContext } from '../src/lib/state/context';
import { Studio } from '../src/lib/state/studio.svelte';
import { appInfo, stubApi } from './stubApi';

const BASE = 'http://127.0.0.1:4567/t0k3n';

function result(patch: Partial<ResultView> = {}): ResultView {
  return {
    id: 5,
    task_id: 3,
    idx: 0,
    kind: 'video',
    path: 'media/2026/03/task-3-0.mp4',
    size: 1000,
    sha256: 'ab',
    poster_path: 'posters/task-3-poster.jpg',
    thumb_path: 'thumbs/task-3-poster.jpg',
    thumb_hidpi_path: 'thumbs/task-3-poster@2x.jpg',
    favourite: false,
    notes: null,
    text_json: null,
    source_url: null,
    created_at: 1,
    model: 'sora-2-text-to-video',
    prompt: 'a fox',
    task_status: 'succeeded',
    task_created_at: 1,
    credits_estimated: 30,
    credits_consumed: 30,
    task_finished_at: 2,
    demo: false,
    ...patch,
  };
}

function show(r: ResultView) {
  const studio = new Studio(stubApi().api);
  studio.info = appInfo({ media_base: BASE });
  render(GalleryTile, { props: { r, index: 0, height: 240, onopen: () => {} }, context: studioContext(studio) });
  return screen.getByTestId(`result-${r.id}`).querySelector('img');
}

afterEach(() => cleanup());

describe('a gallery tile’s picture', () => {
  it('is the 1× thumb, with the HiDPI one for screens that want it', () => {
    const img = show(result())!;
    expect(img.getAttribute('src')).toBe(`${BASE}/thumbs/task-3-poster.jpg`);
    expect(img.getAttribute('srcset')).toBe(`${BASE}/thumbs/task-3-poster.jpg 1x, ${BASE}/thumbs/task-3-poster%402x.jpg 2x`);
  });

  it('falls back to the 1× thumb when the HiDPI one is not there, and stays a picture', async () => {
    const img = show(result())!;
    await fireEvent.error(img);
    const after = screen.getByTestId('result-5').querySelector('img')!;
    expect(after.getAttribute('src')).toBe(`${BASE}/thumbs/task-3-poster.jpg`);
    expect(after.hasAttribute('srcset')).toBe(false);
    // The 1× one failing too: the placeholder, no broken picture.
    await fireEvent.error(after);
    expect(screen.getByTestId('result-5').querySelector('img')).toBeNull();
  });

  it('offers no HiDPI picture when the poster stands in for a thumb', () => {
    const img = show(result({ thumb_path: 'posters/task-3-poster.jpg', thumb_hidpi_path: null }))!;
    expect(img.getAttribute('src')).toBe(`${BASE}/posters/task-3-poster.jpg`);
    expect(img.hasAttribute('srcset')).toBe(false);
  });
});
