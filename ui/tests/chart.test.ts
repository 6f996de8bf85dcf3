// The spend chart's day labels: as many as fit, counted back from today, so the newest bar is
// always named (Chart.js's own skipping counts from the first day).
import { describe, expect, it } from 'vitest';
import { dayLabelShown } from '../src/lib/chart';

function shown(count: number, width: number): number[] {
  return Array.from({ length: count }, (_, i) => i).filter((i) => dayLabelShown(i, count, width));
}

describe('the spend chart’s day labels', () => {
  it('always name the last day, and as many others as fit', () => {
    // 30 days on 1100 px: 17 fit, so every other day, from the last back.
    const wide = shown(30, 1100);
    expect(wide.at(-1)).toBe(29);
    expect(wide).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]);
    // Narrow: fewer, the last still named.
    const narrow = shown(30, 500);
    expect(narrow.at(-1)).toBe(29);
    expect(narrow.length).toBeLessThanOrEqual(Math.floor(500 / 64));
    // Room for all: all.
    expect(shown(7, 1100)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // No room at all: still the last day.
    expect(shown(30, 0)).toEqual([29]);
  });
});
