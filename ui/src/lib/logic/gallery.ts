// The gallery's filters as the user sets them, and what they become: the `ResultQuery` of
// `list_results`, the count line and the words of an empty gallery.

import type { ResultKind } from '../bindings/ResultKind';
import type { ResultQuery } from '../bindings/ResultQuery';
import { formatCredits } from './format';

export type KindFilter = 'all' | 'video' | 'character';
export type SortChoice = 'date-desc' | 'date-asc' | 'cost-desc' | 'cost-asc';

export interface GalleryFilters {
  /** As typed; searched in prompts and notes (prefix matching). */
  search: string;
  /** A catalogue model id, or '' for every model. */
  model: string;
  /** A whole family of models ("Kling"), or '' (one of `model` and `family` is set, at most). */
  family: string;
  kind: KindFilter;
  favouritesOnly: boolean;
  /** `YYYY-MM-DD` from a date input, or ''. The whole day counts. */
  from: string;
  /** `YYYY-MM-DD` from a date input, or ''. The whole day counts. */
  to: string;
  sort: SortChoice;
  /** Only one batch's results (from the queue's "Show in gallery"), or null. */
  batch: number | null;
}

export const DEFAULT_FILTERS: GalleryFilters = {
  search: '',
  model: '',
  family: '',
  kind: 'all',
  favouritesOnly: false,
  from: '',
  to: '',
  sort: 'date-desc',
  batch: null,
};

export const SORT_CHOICES: Array<{ value: SortChoice; label: string }> = [
  { value: 'date-desc', label: 'Newest first' },
  { value: 'date-asc', label: 'Oldest first' },
  { value: 'cost-desc', label: 'Most credits first' },
  { value: 'cost-asc', label: 'Fewest credits first' },
];

/** Local midnight at the start of a `YYYY-MM-DD` day, in ms; null when not a date. */
export function dayStart(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** Local midnight after a `YYYY-MM-DD` day (so "to" includes the whole day). */
export function dayEnd(date: string): number | null {
  const start = dayStart(date);
  if (start === null) return null;
  const d = new Date(start);
  d.setDate(d.getDate() + 1);
  return d.getTime();
}

/** The query for one page of the gallery (a filter not set is left out). */
export function toResultQuery(f: GalleryFilters, offset: number, limit: number): ResultQuery {
  const search = f.search.trim();
  const [sort, dir] = f.sort.split('-') as ['date' | 'cost', 'asc' | 'desc'];
  const q: ResultQuery = { favourites_only: f.favouritesOnly, sort, desc: dir === 'desc', limit, offset };
  if (search !== '') q.search = search;
  if (f.model !== '') q.model = f.model;
  else if (f.family !== '') q.family = f.family;
  if (f.kind !== 'all') q.kind = f.kind as ResultKind;
  const from = f.from ? dayStart(f.from) : null;
  if (from !== null) q.from_ms = from;
  const to = f.to ? dayEnd(f.to) : null;
  if (to !== null) q.to_ms = to;
  if (f.batch !== null) q.batch = f.batch;
  return q;
}

/** Whether anything narrows the gallery (the sort does not). */
export function isFiltered(f: GalleryFilters): boolean {
  return f.batch !== null || f.search.trim() !== '' || f.model !== '' || f.family !== '' || f.kind !== 'all' || f.favouritesOnly || f.from !== '' || f.to !== '';
}

/** "1,234 videos", "1 video", "3 characters". */
export function countLabel(total: number, kind: KindFilter): string {
  const [one, many] = kind === 'character' ? ['character', 'characters'] : ['video', 'videos'];
  return `${formatCredits(total)} ${total === 1 ? one : many}`;
}

/** What an empty gallery says, and whether "Create" is the way out. */
export function emptyMessage(f: GalleryFilters): { title: string; hint: string; create: boolean } {
  const search = f.search.trim();
  if (!isFiltered(f)) {
    return { title: 'No videos yet — make one in Create.', hint: 'Everything you make is kept here, on this computer.', create: true };
  }
  if (search !== '') {
    const others = isFiltered({ ...f, search: '' });
    return {
      title: `Nothing matches “${search}”.`,
      hint: others ? 'Try fewer words, or clear the other filters.' : 'Try fewer or shorter words: prompts and notes are searched.',
      create: false,
    };
  }
  if (f.from && f.to && (dayStart(f.from) ?? 0) > (dayStart(f.to) ?? 0)) {
    return { title: 'Nothing matches these dates.', hint: 'The “from” date is after the “to” date.', create: false };
  }
  if (f.favouritesOnly && !f.model && !f.family && f.kind === 'all' && !f.from && !f.to) {
    return { title: 'No favourites yet.', hint: 'Open a video and press the star to keep it here.', create: false };
  }
  return { title: 'Nothing matches these filters.', hint: 'Clear a filter to see more.', create: false };
}

/** A family's choice in the model filter: its value (model ids never start so). */
const FAMILY_PREFIX = 'family:';

/** The model filter's value for these filters: a model id, `family:<name>`, or '' for all. */
export function modelFilterValue(f: Pick<GalleryFilters, 'model' | 'family'>): string {
  if (f.model !== '') return f.model;
  return f.family !== '' ? `${FAMILY_PREFIX}${f.family}` : '';
}

/** What choosing `value` in the model filter sets. */
export function modelFilterFrom(value: string): Pick<GalleryFilters, 'model' | 'family'> {
  if (value.startsWith(FAMILY_PREFIX)) return { model: '', family: value.slice(FAMILY_PREFIX.length) };
  return { model: value, family: '' };
}
