import { describe, expect, it } from 'vitest';
import { findMention as find, insertMention, matchOffers, type HandleRules } from '../src/lib/logic/mentions';

/** As the core gives them in `AppInfo.rules`. */
const RULES: HandleRules = { handle_chars: 'A-Za-z0-9_.', handle_max_len: 40 };
const findMention = (text: string, caret: number) => find(text, caret, RULES);

describe('@handle completion', () => {
  it('finds the handle being typed at the caret', () => {
    const t = 'A walk with @sk';
    expect(findMention(t, t.length)).toEqual({ start: 12, end: 15, prefix: 'sk' });
    expect(findMention('@', 1)).toEqual({ start: 0, end: 1, prefix: '' });
    expect(findMention('hi @sky_r.x', 11)?.prefix).toBe('sky_r.x');
  });

  it('finds the whole handle when the caret is inside it', () => {
    const t = 'with @skyranger today';
    expect(findMention(t, 8)).toEqual({ start: 5, end: 15, prefix: 'sk' });
  });

  it('ignores e-mail addresses, finished words and text without @', () => {
    expect(findMention('me@example', 10)).toBeNull();
    expect(findMention('@sky is here', 12)).toBeNull();
    expect(findMention('no handle', 9)).toBeNull();
    expect(findMention('@@x', 3)).toBeNull();
    expect(findMention('', 0)).toBeNull();
  });

  it('starts after punctuation or a line break', () => {
    expect(findMention('(@ab', 4)?.prefix).toBe('ab');
    expect(findMention('line\n@ab', 8)?.prefix).toBe('ab');
  });

  it('inserts @handle and a space, caret after it', () => {
    const t = 'A walk with @sk';
    const q = findMention(t, t.length)!;
    expect(insertMention(t, q, 'sky_ranger')).toEqual({ text: 'A walk with @sky_ranger ', caret: 24 });
  });

  it('replaces the whole word and does not double a following space', () => {
    const t = 'with @skyr today';
    const q = findMention(t, 8)!;
    const r = insertMention(t, q, '@sky_ranger');
    expect(r.text).toBe('with @sky_ranger today');
    expect(r.caret).toBe('with @sky_ranger '.length);
  });

  it('takes what a handle is made of, and its length, from the rules', () => {
    const t = 'hi @a-b';
    expect(findMention(t, t.length)).toBeNull();
    expect(find(t, t.length, { handle_chars: 'a-z-', handle_max_len: 40 })?.prefix).toBe('a-b');
    expect(find('@abcdef', 7, { ...RULES, handle_max_len: 5 })).toBeNull();
    expect(find('@abcde', 6, { ...RULES, handle_max_len: 5 })?.prefix).toBe('abcde');
  });
});

describe('names from the form', () => {
  const offers = [
    { field: 'prompt', name: 'fox_mascot', label: 'Element' },
    { field: 'prompt', name: 'Fog', label: 'Element' },
    { field: 'prompt', name: 'fox_mascot', label: 'Element' },
    { field: 'prompt', name: 'image1', label: 'Image 1' },
  ];

  it('offers the names that start with what was typed, any case, each once, in order', () => {
    expect(matchOffers(offers, 'fo').map((o) => o.name)).toEqual(['fox_mascot', 'Fog']);
    expect(matchOffers(offers, 'FOX').map((o) => o.name)).toEqual(['fox_mascot']);
    expect(matchOffers(offers, '').map((o) => o.name)).toEqual(['fox_mascot', 'Fog', 'image1']);
    expect(matchOffers(offers, 'zz')).toEqual([]);
  });
});
