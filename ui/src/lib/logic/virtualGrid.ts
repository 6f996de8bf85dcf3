// The gallery's virtual grid: fixed tile sizes per container width, and from the scroll
// position which rows (± a few for smooth scrolling) are in the DOM and which pages of
// results they need. Pure arithmetic, so it is tested without a browser.

export interface GridLayout {
  columns: number;
  /** Width of one tile in px. */
  tileWidth: number;
  /** Height of one tile (picture and caption) in px. */
  tileHeight: number;
  /** Tile height plus the gap below it: the distance from one row's top to the next. */
  rowHeight: number;
  gap: number;
}

/** A tile is never narrower than this (the picture stays readable). */
export const MIN_TILE = 216;
export const GAP = 14;
/** The caption under the picture: prompt (two lines), model and date, cost. */
export const CAPTION = 96;
/** Rows kept in the DOM above and below the visible ones. */
export const OVERSCAN_ROWS = 2;
/** Results per `list_results` call. */
export const PAGE_SIZE = 120;

/**
 * Columns and tile size for a container `width` px wide: as many columns of at least
 * MIN_TILE as fit (1 to 8), the tiles sharing the width; the picture is 16:9.
 */
export function gridLayout(width: number, minTile = MIN_TILE, gap = GAP, caption = CAPTION): GridLayout {
  const w = Math.max(0, width);
  const columns = Math.min(8, Math.max(1, Math.floor((w + gap) / (minTile + gap))));
  const tileWidth = Math.max(1, Math.floor((w - gap * (columns - 1)) / columns));
  const tileHeight = Math.round((tileWidth * 9) / 16) + caption;
  return { columns, tileWidth, tileHeight, rowHeight: tileHeight + gap, gap };
}

export function rowCount(total: number, layout: GridLayout): number {
  return Math.ceil(Math.max(0, total) / layout.columns);
}

/** The height of the whole grid: every row, without the gap after the last one. */
export function gridHeight(total: number, layout: GridLayout): number {
  const rows = rowCount(total, layout);
  return rows === 0 ? 0 : rows * layout.rowHeight - layout.gap;
}

export interface VisibleRange {
  /** First row in the DOM. */
  firstRow: number;
  /** One past the last row in the DOM. */
  endRow: number;
  /** First result index in the DOM. */
  start: number;
  /** One past the last result index in the DOM. */
  end: number;
  /** The DOM window's offset from the top of the grid (translateY). */
  offsetY: number;
}

/**
 * What is in the DOM for a scroll position: the rows that intersect the viewport, plus
 * `overscan` rows on each side, clamped to the grid. `scrollTop` is measured from the top
 * of the grid (subtract any header above it first).
 */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  layout: GridLayout,
  total: number,
  overscan = OVERSCAN_ROWS,
): VisibleRange {
  const rows = rowCount(total, layout);
  if (rows === 0) return { firstRow: 0, endRow: 0, start: 0, end: 0, offsetY: 0 };
  const top = Math.max(0, scrollTop);
  const firstVisible = Math.min(rows - 1, Math.floor(top / layout.rowHeight));
  const endVisible = Math.min(rows, Math.ceil((top + Math.max(0, viewportHeight)) / layout.rowHeight));
  const firstRow = Math.max(0, firstVisible - overscan);
  const endRow = Math.min(rows, Math.max(endVisible, firstVisible + 1) + overscan);
  return {
    firstRow,
    endRow,
    start: firstRow * layout.columns,
    end: Math.min(total, endRow * layout.columns),
    offsetY: firstRow * layout.rowHeight,
  };
}

/** The page indices (of `pageSize` results each) that hold results `start` to `end - 1`. */
export function pagesFor(start: number, end: number, pageSize = PAGE_SIZE): number[] {
  if (end <= start) return [];
  const first = Math.floor(start / pageSize);
  const last = Math.floor((end - 1) / pageSize);
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p);
  return out;
}

/**
 * Where to scroll so that result `index` is fully visible; `null` when it already is.
 * Used when the detail panel moves to the next result, so the grid follows.
 */
export function scrollToShow(index: number, scrollTop: number, viewportHeight: number, layout: GridLayout): number | null {
  const row = Math.floor(index / layout.columns);
  const top = row * layout.rowHeight;
  const bottom = top + layout.tileHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return null;
}

/**
 * The tile the keyboard moves to from `index` in a grid of `count` results laid out in
 * `columns`: ←/→ one step (across rows), ↑/↓ one row, Home/End the first and the last result.
 * ↓ from the row above a shorter last row lands on its last tile. `null`: the key does not
 * move (not a grid key, or already at the edge).
 */
export function gridKeyMove(index: number, key: string, columns: number, count: number): number | null {
  if (count <= 0 || index < 0 || index >= count) return null;
  const cols = Math.max(1, columns);
  let to: number;
  switch (key) {
    case 'ArrowLeft':
      to = index - 1;
      break;
    case 'ArrowRight':
      to = index + 1;
      break;
    case 'ArrowUp':
      to = index - cols;
      break;
    case 'ArrowDown':
      // No row below: stay. A shorter row below: its last tile.
      if (Math.floor(index / cols) >= Math.floor((count - 1) / cols)) return null;
      to = Math.min(count - 1, index + cols);
      break;
    case 'Home':
      to = 0;
      break;
    case 'End':
      to = count - 1;
      break;
    default:
      return null;
  }
  return to < 0 || to >= count || to === index ? null : to;
}
