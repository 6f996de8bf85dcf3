// The model picker's grouping, search and words, from the core's model cards.
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '../src/lib/bindings/ModelCard';
import {
  availabilityTitle,
  byFamily,
  formatDayMonth,
  priceRange,
  searchModels,
  stateLabel,
  takesLabel,
  takesMakes,
} from '../src/lib/logic/models';
import { CATALOGUE } from './catalogue';

/** Cards as `list_models` gives them, from the catalogue fixture (prices made up). */
const CARDS: ModelCard[] = CATALOGUE.map((m, i) => ({
  id: m.id,
  name: m.name,
  family: m.family,
  summary: m.summary,
  output: m.output,
  takes: m.takes ?? [],
  makes: m.makes ?? null,
  credits_min: 10 + i,
  credits_max: 10 + i * 3,
  price_is_estimate: !!m.pricing?.estimate,
  status: null,
  alternative: null,
}));

describe('families', () => {
  it('groups by family in the order families first appear, Sora first', () => {
    const groups = byFamily(CARDS);
    const order: string[] = [];
    for (const m of CATALOGUE) if (!order.includes(m.family)) order.push(m.family);
    expect(groups.map((g) => g.family)).toEqual(order);
    expect(order[0]).toBe('Sora');
    expect(order).toEqual(expect.arrayContaining(['Kling', 'Seedance', 'Wan', 'Hailuo', 'Grok Imagine', 'Veo']));
    // Every card once, in catalogue order within its family.
    expect(groups.flatMap((g) => g.items).length).toBe(CARDS.length);
    for (const g of groups) expect(g.items.map((c) => c.id)).toEqual(CARDS.filter((c) => c.family === g.family).map((c) => c.id));
  });
});

describe('search', () => {
  it('keeps everything for a blank search', () => {
    expect(searchModels(CARDS, '  ')).toBe(CARDS);
  });

  it('narrows by name, family and summary, every word, any case and accents', () => {
    const kling = searchModels(CARDS, 'KLING');
    expect(kling.length).toBeGreaterThan(0);
    expect(kling.every((c) => c.family === 'Kling' || /kling/i.test(c.name + c.summary))).toBe(true);
    expect(searchModels(CARDS, 'grok imagine').every((c) => c.family === 'Grok Imagine')).toBe(true);
    const some = CARDS.find((c) => c.family === 'Veo')!;
    const word = some.summary.split(/\s+/).find((w) => /^\p{L}{6,}$/u.test(w))!;
    expect(searchModels(CARDS, word).map((c) => c.id)).toContain(some.id);
    expect(searchModels(CARDS, 'véo').map((c) => c.family)).toContain('Veo');
    expect(searchModels(CARDS, 'kling zzzz')).toEqual([]);
  });
});

describe('card words', () => {
  it('shows a price range from the core, one price when they agree, and marks estimates', () => {
    expect(priceRange({ credits_min: 30, credits_max: 630, price_is_estimate: false })).toBe('30–630 credits');
    expect(priceRange({ credits_min: 30, credits_max: 30, price_is_estimate: false })).toBe('30 credits');
    expect(priceRange({ credits_min: 1.5, credits_max: 1234.5, price_is_estimate: true })).toBe('1.5–1,234.5 credits (est.)');
    expect(priceRange({ credits_min: null, credits_max: null, price_is_estimate: false })).toBeNull();
  });

  it('says what a model takes and makes', () => {
    expect(takesLabel(['text', 'image', 'clip'])).toBe('Text + image + clip');
    expect(takesMakes({ takes: ['text'], makes: '3–15 s · 720p–4K · sound' })).toBe('Text → 3–15 s · 720p–4K · sound');
    expect(takesMakes({ takes: [], makes: 'a reusable character' })).toBe('a reusable character');
    expect(takesMakes({ takes: ['video'], makes: null })).toBe('Video');
  });

  it('dates what Kie said in the user’s locale, day and short month', () => {
    const since = new Date(2026, 10, 30, 15, 0).getTime();
    expect(formatDayMonth(since, 'en-GB')).toBe('30 Nov');
    expect(formatDayMonth(since, 'en-US')).toBe('Nov 30');
    const status = { model: 'm', state: 'paused' as const, message: 'paused', since_ms: since };
    expect(availabilityTitle(status, 'en-GB')).toBe('Kie said this model was paused on 30 Nov.');
    expect(availabilityTitle({ ...status, state: 'disabled' }, 'en-GB')).toBe('Kie said this model was disabled on 30 Nov.');
    expect(stateLabel(status)).toBe('Paused');
    expect(stateLabel({ state: 'disabled' })).toBe('Disabled');
  });
});
