// The model picker's words and grouping: families in the order the catalogue lists them, a
// search over what the picker shows, and each card's price range, "takes → makes" line and
// availability, all from the core's `ModelCard`s (`list_models`). Nothing here decides a
// price or whether a model is available: it only says what the core answered.

import type { ModelCard } from '../bindings/ModelCard';
import type { ModelStatus } from '../bindings/ModelStatus';
import { formatCredits } from './format';

export interface Family<T> {
  family: string;
  items: T[];
}

/** Items grouped by family, families in the order they first appear (the catalogue's: Sora first). */
export function byFamily<T extends { family: string }>(items: T[]): Family<T>[] {
  const out: Family<T>[] = [];
  const index = new Map<string, Family<T>>();
  for (const item of items) {
    let f = index.get(item.family);
    if (!f) {
      f = { family: item.family, items: [] };
      index.set(item.family, f);
      out.push(f);
    }
    f.items.push(item);
  }
  return out;
}

/** Lower case without accents, for matching what the user typed. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * The cards a search keeps: every word typed must appear in the card's name, family,
 * summary, what it takes or what it makes ("kling 4k", "image"). A blank search keeps all.
 */
export function searchModels(cards: ModelCard[], query: string): ModelCard[] {
  const words = fold(query).split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return cards;
  return cards.filter((c) => {
    const hay = fold([c.name, c.family, c.summary, c.makes ?? '', ...c.takes].join(' '));
    return words.every((w) => hay.includes(w));
  });
}

/** "30 credits", "30–630 credits", "… (est.)"; null when the core gave no price. */
export function priceRange(card: Pick<ModelCard, 'credits_min' | 'credits_max' | 'price_is_estimate'>): string | null {
  const lo = card.credits_min;
  const hi = card.credits_max ?? lo;
  if (lo === null || hi === null) return null;
  const span = lo === hi ? formatCredits(lo) : `${formatCredits(lo)}–${formatCredits(hi)}`;
  const unit = lo === hi && lo === 1 ? 'credit' : 'credits';
  return `${span} ${unit}${card.price_is_estimate ? ' (est.)' : ''}`;
}

const TAKES: Record<string, string> = {
  text: 'Text',
  image: 'Image',
  clip: 'Clip',
  audio: 'Audio',
  video: 'Video',
};

/** What a model takes, in words: ["text", "image"] → "Text + image". */
export function takesLabel(takes: string[]): string {
  return takes
    .map((t, i) => {
      const word = TAKES[t] ?? t;
      return i === 0 ? word : word.toLowerCase();
    })
    .join(' + ');
}

/** "Text + image → 3–15 s · 720p–4K · sound", from what the core says it takes and makes. */
export function takesMakes(card: Pick<ModelCard, 'takes' | 'makes'>): string {
  const takes = takesLabel(card.takes);
  const makes = card.makes?.trim() ?? '';
  if (takes && makes) return `${takes} → ${makes}`;
  return takes || makes;
}

/** "Paused" / "Disabled", for the picker's badge. */
export function stateLabel(status: Pick<ModelStatus, 'state'>): string {
  return status.state === 'disabled' ? 'Disabled' : 'Paused';
}

/** A day as a day and a short month in the user's locale ("30 Nov", or "Nov 30"). */
export function formatDayMonth(ms: number, locale?: string | string[]): string {
  return new Date(ms).toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}

/** "Kie said this model was paused on 30 Nov." */
export function availabilityTitle(status: ModelStatus, locale?: string | string[]): string {
  const said = status.state === 'disabled' ? 'disabled' : 'paused';
  return `Kie said this model was ${said} on ${formatDayMonth(status.since_ms, locale)}.`;
}
