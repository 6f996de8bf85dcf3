// The virtual grid's arithmetic: columns and tile sizes by width, what is in the DOM for a
// scroll position (with overscan), and which pages that needs.
import { describe, expect, it } from 'vitest';
import { gridHeight, gridKeyMove, gridLayout, pagesFor, rowCount, scrollToShow, visibleRange } from '../src/lib/logic/virtualGrid';

describe('grid layout', () => {
  it('fits as many columns of at least the minimum width as there is room for', () => {
    // (944 + 14) / (216 + 14) = 4.16 → 4 columns of (944 - 3 × 14) / 4 = 225 px.
    const l = gridLayout(944, 216, 14, 96);
    expect(l.columns).toBe(4);
    expect(l.tileWidth).toBe(225);
    expect(l.tileHeight).toBe(Math.round((225 * 9) / 16) + 96);
    expect(l.rowHeight).toBe(l.tileHeight + 14);
    expect(gridLayout(100, 216, 14, 96).columns).toBe(1);
    expect(gridLayout(0, 216, 14, 96).columns).toBe(1);
    expect(gridLayout(10_000, 216, 14, 96).columns).toBe(8);
  });

  it('is as tall as its rows, without a gap after the last', () => {
    const l = gridLayout(944, 216, 14, 96);
    expect(rowCount(10_000, l)).toBe(2500);
    expect(gridHeight(10_000, l)).toBe(2500 * l.rowHeight - 14);
    expect(gridHeight(0, l)).toBe(0);
    expect(rowCount(5, l)).toBe(2);
  });
});

describe('visible range', () => {
  // Rows 100 px apart, 4 columns, for round numbers.
  const l = { columns: 4, tileWidth: 200, tileHeight: 90, rowHeight: 100, gap: 10 };

  it('keeps the visible rows and two more on each side', () => {
    const r = visibleRange(1000, 350, l, 10_000, 2);
    // Rows 10..13 are visible (1000 to 1350), plus 8, 9 and 14, 15.
    expect(r.firstRow).toBe(8);
    expect(r.endRow).toBe(16);
    expect(r.start).toBe(32);
    expect(r.end).toBe(64);
    expect(r.offsetY).toBe(800);
    // At most (visible + 2 × overscan) rows, whatever the library's size.
    expect(r.end - r.start).toBeLessThanOrEqual((4 + 4) * 4);
  });

  it('clamps at the top and bottom', () => {
    const top = visibleRange(0, 350, l, 10_000, 2);
    expect(top.firstRow).toBe(0);
    expect(top.start).toBe(0);
    expect(top.endRow).toBe(6);
    const rows = 2500;
    const bottom = visibleRange(rows * 100 - 350, 350, l, 10_000, 2);
    expect(bottom.endRow).toBe(rows);
    expect(bottom.end).toBe(10_000);
    // Scrolled past the end (the list shrank): still the last rows, never an empty window.
    const past = visibleRange(10_000_000, 350, l, 10_000, 2);
    expect(past.end).toBe(10_000);
    expect(past.start).toBeGreaterThan(9_900);
    // A last row that is not full.
    expect(visibleRange(0, 350, l, 6, 2).end).toBe(6);
  });

  it('is empty for an empty gallery and a negative scroll is the top', () => {
    expect(visibleRange(0, 800, l, 0)).toEqual({ firstRow: 0, endRow: 0, start: 0, end: 0, offsetY: 0 });
    expect(visibleRange(-50, 350, l, 100, 0).start).toBe(0);
  });

  it('without overscan, only the rows that show', () => {
    const r = visibleRange(150, 100, l, 10_000, 0);
    // 150..250 touches rows 1 and 2.
    expect([r.firstRow, r.endRow]).toEqual([1, 3]);
  });
});

describe('pages', () => {
  it('names the pages a range of results needs', () => {
    expect(pagesFor(0, 24, 120)).toEqual([0]);
    expect(pagesFor(100, 140, 120)).toEqual([0, 1]);
    expect(pagesFor(120, 240, 120)).toEqual([1]);
    expect(pagesFor(9_990, 10_000, 120)).toEqual([83]);
    expect(pagesFor(5, 5, 120)).toEqual([]);
  });
});

describe('scrolling to a result', () => {
  const l = { columns: 4, tileWidth: 200, tileHeight: 90, rowHeight: 100, gap: 10 };
  it('scrolls only when the result is not fully visible', () => {
    expect(scrollToShow(5, 0, 400, l)).toBeNull();
    // Row 10 is below: scroll so its bottom is at the bottom.
    expect(scrollToShow(40, 0, 400, l)).toBe(1000 + 90 - 400);
    // Row 1 is above.
    expect(scrollToShow(4, 500, 400, l)).toBe(100);
  });
});

describe('moving through the grid with the keyboard', () => {
  // 10 results in 4 columns:  0 1 2 3 / 4 5 6 7 / 8 9
  const move = (i: number, key: string) => gridKeyMove(i, key, 4, 10);

  it('steps left and right across rows, and stops at the ends', () => {
    expect(move(1, 'ArrowRight')).toBe(2);
    expect(move(3, 'ArrowRight')).toBe(4);
    expect(move(4, 'ArrowLeft')).toBe(3);
    expect(move(0, 'ArrowLeft')).toBeNull();
    expect(move(9, 'ArrowRight')).toBeNull();
  });

  it('moves a whole row up and down by the columns', () => {
    expect(move(1, 'ArrowDown')).toBe(5);
    expect(move(5, 'ArrowUp')).toBe(1);
    expect(move(2, 'ArrowUp')).toBeNull();
    expect(move(9, 'ArrowDown')).toBeNull();
    expect(move(8, 'ArrowDown')).toBeNull();
  });

  it('lands on the last tile of a shorter last row', () => {
    expect(move(6, 'ArrowDown')).toBe(9);
    expect(move(7, 'ArrowDown')).toBe(9);
    expect(move(5, 'ArrowDown')).toBe(9);
    expect(move(4, 'ArrowDown')).toBe(8);
  });

  it('goes to the first and the last result with Home and End', () => {
    expect(move(6, 'Home')).toBe(0);
    expect(move(6, 'End')).toBe(9);
    expect(move(0, 'Home')).toBeNull();
    expect(move(9, 'End')).toBeNull();
  });

  it('ignores other keys, an empty grid and an index outside it', () => {
    expect(move(3, 'Enter')).toBeNull();
    expect(move(3, ' ')).toBeNull();
    expect(gridKeyMove(0, 'ArrowRight', 4, 0)).toBeNull();
    expect(gridKeyMove(12, 'ArrowLeft', 4, 10)).toBeNull();
  });

  it('works in one column and follows the layout as the window changes', () => {
    expect(gridKeyMove(2, 'ArrowDown', 1, 5)).toBe(3);
    expect(gridKeyMove(2, 'ArrowRight', 1, 5)).toBe(3);
    expect(gridKeyMove(2, 'ArrowDown', 8, 100)).toBe(10);
    expect(gridKeyMove(10, 'ArrowUp', 8, 100)).toBe(2);
    expect(gridKeyMove(0, 'ArrowDown', 0, 5)).toBe(1);
  });
});
