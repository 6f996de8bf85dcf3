// The gallery's filters → the `ResultQuery` of list_results, the count line, empty words.
import { describe, expect, it } from 'vitest';
import { countLabel, DEFAULT_FILTERS, dayEnd, dayStart, emptyMessage, isFiltered, toResultQuery } from '../src/lib/logic/gallery';

describe('filters to query', () => {
  it('leaves out what is not set, newest first', () => {
    expect(toResultQuery(DEFAULT_FILTERS, 240, 120)).toEqual({
      favourites_only: false,
      sort: 'date',
      desc: true,
      limit: 120,
      offset: 240,
    });
  });

  it('maps every filter', () => {
    const q = toResultQuery(
      {
        search: '  fox sno ',
        model: 'sora-2-text-to-video',
        family: '',
        kind: 'video',
        favouritesOnly: true,
        from: '2026-03-01',
        to: '2026-03-31',
        sort: 'cost-asc',
        batch: null,
      },
      0,
      120,
    );
    expect(q.search).toBe('fox sno');
    expect(q.model).toBe('sora-2-text-to-video');
    expect(q.kind).toBe('video');
    expect(q.favourites_only).toBe(true);
    // Whole local days: from midnight of the first, to midnight after the last (exclusive).
    expect(q.from_ms).toBe(new Date(2026, 2, 1).getTime());
    expect(q.to_ms).toBe(new Date(2026, 3, 1).getTime());
    expect(q.sort).toBe('cost');
    expect(q.desc).toBe(false);
    expect(toResultQuery({ ...DEFAULT_FILTERS, kind: 'character', sort: 'cost-desc' }, 0, 1)).toMatchObject({ kind: 'character', sort: 'cost', desc: true });
    expect(toResultQuery({ ...DEFAULT_FILTERS, sort: 'date-asc' }, 0, 1)).toMatchObject({ sort: 'date', desc: false });
  });

  it('reads dates from date inputs only', () => {
    expect(dayStart('2026-12-31')).toBe(new Date(2026, 11, 31).getTime());
    expect(dayEnd('2026-12-31')).toBe(new Date(2027, 0, 1).getTime());
    expect(dayStart('')).toBeNull();
    expect(dayStart('31/12/2026')).toBeNull();
    expect(toResultQuery({ ...DEFAULT_FILTERS, from: 'nonsense' }, 0, 1).from_ms).toBeUndefined();
  });

  it('knows whether anything narrows the gallery (the sort does not)', () => {
    expect(isFiltered(DEFAULT_FILTERS)).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, sort: 'cost-desc' })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, search: '  ' })).toBe(false);
    expect(isFiltered({ ...DEFAULT_FILTERS, favouritesOnly: true })).toBe(true);
    expect(isFiltered({ ...DEFAULT_FILTERS, to: '2026-01-01' })).toBe(true);
  });
});

describe('words', () => {
  it('counts videos and characters', () => {
    expect(countLabel(1234, 'all')).toBe('1,234 videos');
    expect(countLabel(1, 'video')).toBe('1 video');
    expect(countLabel(0, 'video')).toBe('0 videos');
    expect(countLabel(3, 'character')).toBe('3 characters');
  });

  it('says why the gallery is empty', () => {
    expect(emptyMessage(DEFAULT_FILTERS)).toMatchObject({ title: 'No videos yet — make one in Create.', create: true });
    expect(emptyMessage({ ...DEFAULT_FILTERS, search: 'foo' }).title).toBe('Nothing matches “foo”.');
    expect(emptyMessage({ ...DEFAULT_FILTERS, favouritesOnly: true }).title).toBe('No favourites yet.');
    expect(emptyMessage({ ...DEFAULT_FILTERS, from: '2026-05-02', to: '2026-05-01' }).hint).toContain('after');
    expect(emptyMessage({ ...DEFAULT_FILTERS, model: 'x' }).title).toBe('Nothing matches these filters.');
  });
});
