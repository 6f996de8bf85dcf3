// `@handle` completion in prompts: finding the handle being typed at the caret, and putting
// the chosen one in its place. What a handle is made of, and how long it may be, come from
// the core (`AppInfo.rules`).

import type { Rules } from '../bindings/Rules';

export type HandleRules = Pick<Rules, 'handle_chars' | 'handle_max_len'>;

const patterns = new Map<string, { handle: RegExp; before: RegExp }>();

/** One handle character, and what may not come just before the `@` (a handle character or another `@`). */
function charClasses(chars: string): { handle: RegExp; before: RegExp } {
  let p = patterns.get(chars);
  if (!p) {
    p = { handle: new RegExp(`[${chars}]`), before: new RegExp(`[${chars}@]`) };
    patterns.set(chars, p);
  }
  return p;
}

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** Index just past the handle's last character (may be past the caret). */
  end: number;
  /** What was typed after the `@`, up to the caret. */
  prefix: string;
}

/**
 * The `@handle` being typed at `caret`, if any. The `@` must start a word, so an e-mail
 * address ("me@example.com") does not open the list.
 */
export function findMention(text: string, caret: number, rules: HandleRules): MentionQuery | null {
  if (caret < 0 || caret > text.length) return null;
  const { handle, before } = charClasses(rules.handle_chars);
  let i = caret;
  while (i > 0 && handle.test(text[i - 1])) i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && before.test(text[at - 1])) return null;
  const prefix = text.slice(i, caret);
  if (prefix.length > rules.handle_max_len) return null;
  let end = caret;
  while (end < text.length && handle.test(text[end])) end++;
  return { start: at, end, prefix };
}

/** `text` with the handle at `q` replaced by `@handle ` and where the caret goes after it. */
export function insertMention(text: string, q: MentionQuery, handle: string): { text: string; caret: number } {
  const clean = handle.replace(/^@/, '');
  const before = text.slice(0, q.start);
  const after = text.slice(q.end);
  const spaced = /^\s/.test(after);
  const inserted = `@${clean}${spaced ? '' : ' '}`;
  return { text: before + inserted + after, caret: before.length + inserted.length + (spaced ? 1 : 0) };
}

/**
 * The names from the form's own input (the core's `InputCheck.mentions` for one field) that
 * start with what was typed after the `@`, ignoring case, each once, in the core's order.
 */
export function matchOffers<T extends { name: string }>(offers: T[], prefix: string): T[] {
  const p = prefix.toLowerCase();
  const seen = new Set<string>();
  return offers.filter((o) => {
    const key = o.name.toLowerCase();
    if (!key.startsWith(p) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
