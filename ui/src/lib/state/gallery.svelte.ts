// The gallery's state, kept for the whole session so that leaving the gallery and coming
// back finds the same filters and scroll position: the filters, pages of results fetched by
// offset as rows come into view (cached; a refresh keeps showing the old page until the new
// one arrives), what the library health check found, and the poster captures.

import type { Health } from '../bindings/Health';
import type { Rescan } from '../bindings/Rescan';
import type { ResultCursor } from '../bindings/ResultCursor';
import type { ResultRow } from '../bindings/ResultRow';
import type { ResultView } from '../bindings/ResultView';
import { plainErrorText, toApiError } from '../logic/errors';
import { DEFAULT_FILTERS, toResultQuery, type GalleryFilters } from '../logic/gallery';
import { captureFrame } from '../logic/posterCapture';
import { PosterQueue } from '../logic/posterQueue';
import { thumbOrPoster } from '../logic/tasks';
import { PAGE_SIZE } from '../logic/virtualGrid';
import type { Studio } from './studio.svelte';

/** The gallery's health check waits this long after it opens. */
export const HEALTH_DELAY_MS = 1500;
/** And runs again on opening only after this long. */
export const HEALTH_EVERY_MS = 5 * 60_000;

export class Gallery {
  private readonly studio: Studio;
  readonly pageSize: number;

  filters: GalleryFilters = $state({ ...DEFAULT_FILTERS });
  /** Results matching the filters; null until the first page answers. */
  total: number | null = $state(null);
  /** Pages by index (replaced whole, never mutated: tiles compare by identity). */
  pages: Record<number, ResultView[]> = $state.raw({});
  /** Bumped on every reload; answers for an older one are dropped. */
  generation = $state(0);
  error: string | null = $state(null);
  /** Where the grid was scrolled to (restored when the gallery opens again). */
  scrollTop = 0;

  /** Results known to have no file on disk (from the health check or the detail panel). */
  missing: Record<number, true> = $state({});
  health: Health | null = $state(null);
  healthError: string | null = $state(null);
  rescan: Rescan | null = $state(null);
  rescanning = $state(false);

  /** The index of the result open in the detail panel. */
  openIndex: number | null = $state(null);
  /** Its id: when a refresh moves it (a new result arrived), the panel follows it. */
  private openId: number | null = null;
  /** A result open while the filters changed: reopened if it still matches. */
  private reopenId: number | null = null;

  /** Captures a poster from a video URL (replaced in tests). */
  capture: (src: string) => Promise<string> = (src) => captureFrame(src);
  readonly posters: PosterQueue;

  private fresh = new Map<number, number>();
  /** Where each page ended (its `next`), by the generation it was fetched in: the page after
   * it is asked for from there, straight off the core's index, however deep. */
  private nexts = new Map<number, { gen: number; cursor: ResultCursor | null }>();
  private inflight = new Map<number, number>();
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private healthTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the last health check started (ms since the epoch). */
  private healthAt: number | null = null;

  constructor(studio: Studio, pageSize = PAGE_SIZE) {
    this.studio = studio;
    this.pageSize = pageSize;
    this.posters = new PosterQueue((id) => this.capturePoster(id), 2);
  }

  // ---- pages ----

  /** Changes filters: the gallery starts again from the top. */
  setFilters(patch: Partial<GalleryFilters>): void {
    this.filters = { ...this.filters, ...patch };
    this.scrollTop = 0;
    // A search typed just before opening a tile lands after the click: keep that result open
    // if it still matches, rather than closing it under the user's hand.
    this.reopenId = this.openIndex !== null ? this.openId : null;
    this.openIndex = null;
    this.reload(false);
  }

  /**
   * Fetch again. `keep`: the pages shown stay until their new version arrives (after a
   * change in the library); otherwise they go at once (the filters changed).
   */
  reload(keep = true): void {
    this.generation++;
    this.fresh.clear();
    this.inflight.clear();
    this.nexts.clear();
    if (!keep) {
      this.pages = {};
      this.total = null;
    }
    void this.ensure([0]);
  }

  /** After an event: reload soon, once for a burst. */
  refreshSoon(ms = 150): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.reload(true);
    }, ms);
  }

  /** Makes sure these pages are (being) fetched for the current filters. */
  async ensure(pages: number[]): Promise<void> {
    const gen = this.generation;
    await Promise.all(
      pages
        .filter((p) => p >= 0 && this.fresh.get(p) !== gen && this.inflight.get(p) !== gen)
        .map((p) => this.fetchPage(p, gen)),
    );
  }

  private async fetchPage(p: number, gen: number): Promise<void> {
    this.inflight.set(p, gen);
    try {
      const query = toResultQuery(this.filters, p * this.pageSize, this.pageSize);
      const before = this.nexts.get(p - 1);
      if (before && before.gen === gen && before.cursor) {
        query.after = before.cursor;
        query.offset = 0;
      }
      const page = await this.studio.api.listResults({ query });
      if (gen !== this.generation) return;
      this.fresh.set(p, gen);
      this.nexts.set(p, { gen, cursor: page.next });
      this.pages = { ...this.pages, [p]: page.items };
      this.total = Number(page.total);
      this.error = null;
      this.followOpen();
    } catch (e) {
      if (gen === this.generation) this.error = plainErrorText(toApiError(e).code);
    } finally {
      if (this.inflight.get(p) === gen) this.inflight.delete(p);
    }
  }

  itemAt(index: number): ResultView | undefined {
    return this.pages[Math.floor(index / this.pageSize)]?.[index % this.pageSize];
  }

  /** A loaded result by id. */
  find(id: number): ResultView | undefined {
    for (const items of Object.values(this.pages)) {
      const r = items.find((x) => x.id === id);
      if (r) return r;
    }
    return undefined;
  }

  /** A command changed a result (favourite, notes, poster): every copy shows it at once. */
  patch(row: Partial<ResultRow> & { id: number }): void {
    let changed = false;
    const next: Record<number, ResultView[]> = {};
    for (const [k, items] of Object.entries(this.pages)) {
      const i = items.findIndex((x) => x.id === row.id);
      if (i === -1) {
        next[Number(k)] = items;
      } else {
        const copy = items.slice();
        copy[i] = { ...copy[i], ...row };
        next[Number(k)] = copy;
        changed = true;
      }
    }
    if (changed) this.pages = next;
    const r = this.studio.results.findIndex((x) => x.id === row.id);
    if (r !== -1) this.studio.results[r] = { ...this.studio.results[r], ...row };
  }

  /** A result was deleted: its tile goes at once, then the pages are fetched again. */
  removed(id: number): void {
    const next: Record<number, ResultView[]> = {};
    for (const [k, items] of Object.entries(this.pages)) next[Number(k)] = items.filter((x) => x.id !== id);
    this.pages = next;
    if (this.total !== null) this.total = Math.max(0, this.total - 1);
    delete this.missing[id];
    if (this.health) this.health = { ...this.health, missing: this.health.missing.filter((r) => r.id !== id) };
    this.studio.results = this.studio.results.filter((x) => x.id !== id);
    this.reload(true);
  }

  // ---- the detail panel ----

  open(index: number): void {
    this.openIndex = index;
    this.openId = this.itemAt(index)?.id ?? null;
  }

  close(): void {
    this.openIndex = null;
    this.openId = null;
  }

  /** After new pages: keep the panel on the same result, wherever it moved to. */
  private followOpen(): void {
    if (this.openIndex === null) {
      const id = this.reopenId;
      this.reopenId = null;
      if (id === null) return;
      for (const [k, items] of Object.entries(this.pages)) {
        const i = items.findIndex((x) => x.id === id);
        if (i !== -1) {
          this.openIndex = Number(k) * this.pageSize + i;
          this.openId = id;
          return;
        }
      }
      this.openId = null;
      return;
    }
    const here = this.itemAt(this.openIndex);
    if (this.openId === null) {
      this.openId = here?.id ?? null;
      return;
    }
    if (!here || here.id === this.openId) return;
    for (const [k, items] of Object.entries(this.pages)) {
      const i = items.findIndex((x) => x.id === this.openId);
      if (i !== -1) {
        this.openIndex = Number(k) * this.pageSize + i;
        return;
      }
    }
  }

  /** Moves the detail panel by `delta` results; false at either end. */
  step(delta: number): boolean {
    if (this.openIndex === null || this.total === null) return false;
    const next = this.openIndex + delta;
    if (next < 0 || next >= this.total) return false;
    this.openIndex = next;
    this.openId = this.itemAt(next)?.id ?? null;
    void this.ensure([Math.floor(next / this.pageSize)]);
    return true;
  }

  // ---- library health ----

  /**
   * The check the gallery runs when it opens: after the first screen is up, and not again
   * within HEALTH_EVERY_MS (it reads an entry per file, which at 100,000 videos is real work).
   */
  checkHealthSoon(delayMs = HEALTH_DELAY_MS): void {
    if (this.healthTimer || (this.healthAt !== null && Date.now() - this.healthAt < HEALTH_EVERY_MS)) return;
    this.healthTimer = setTimeout(() => {
      this.healthTimer = null;
      void this.checkHealth();
    }, delayMs);
  }

  async checkHealth(): Promise<void> {
    this.healthAt = Date.now();
    try {
      const h = await this.studio.api.libraryHealth();
      this.setHealth(h);
      this.healthError = null;
    } catch (e) {
      this.healthError = plainErrorText(toApiError(e).code);
    }
  }

  private setHealth(h: Health): void {
    this.health = h;
    const missing: Record<number, true> = {};
    for (const r of h.missing) missing[r.id] = true;
    this.missing = missing;
  }

  async rescanLibrary(): Promise<void> {
    if (this.rescanning) return;
    this.rescanning = true;
    try {
      const report = await this.studio.api.rescanLibrary();
      this.rescan = report;
      this.setHealth(report.health);
      this.healthError = null;
      if (report.relinked.length || report.found.length) this.reload(true);
    } catch (e) {
      this.healthError = plainErrorText(toApiError(e).code);
    } finally {
      this.rescanning = false;
    }
  }

  /** The detail panel found out whether the file is on disk. */
  fileKnown(id: number, present: boolean): void {
    if (present && this.missing[id]) {
      const { [id]: _gone, ...rest } = this.missing;
      this.missing = rest;
    } else if (!present && !this.missing[id]) {
      this.missing = { ...this.missing, [id]: true };
    }
  }

  // ---- posters ----

  /** Whether a tile for `r` should ask for a poster to be captured. */
  needsPoster(r: ResultView): boolean {
    return r.kind === 'video' && !!r.path && !r.poster_path && !this.missing[r.id];
  }

  private async capturePoster(id: number): Promise<void> {
    const r = this.find(id);
    if (!r || !this.needsPoster(r)) return;
    const src = this.studio.video(r.path);
    if (!src) return;
    const image = await this.capture(src);
    const row = await this.studio.api.savePoster({ id, image });
    this.patch(row);
    const pic = thumbOrPoster(row);
    if (pic) this.studio.posters[row.task_id] = pic;
  }

  /** Another library was opened: nothing of the old one stays. */
  reset(): void {
    this.filters = { ...DEFAULT_FILTERS };
    this.pages = {};
    this.total = null;
    this.generation++;
    this.fresh.clear();
    this.inflight.clear();
    this.nexts.clear();
    this.scrollTop = 0;
    this.missing = {};
    this.health = null;
    this.healthAt = null;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
    this.rescan = null;
    this.openIndex = null;
    this.openId = null;
    this.reopenId = null;
    this.posters.clear();
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.healthTimer) clearTimeout(this.healthTimer);
  }
}
