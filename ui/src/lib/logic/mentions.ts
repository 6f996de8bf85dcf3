// `@handle` completion in prompts: finding the handle being typed at the caret, and putting
// the chosen one in its place.

/** The characters a handle is made of (the catalogue's `character_user_name`). */
const HANDLE_CHAR = /[A-Za-z0-9_.]/;
/** Kie's limit for a handle. */
export const MAX_HANDLE = 40;

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
export function findMention(text: string, caret: number): MentionQuery | null {
  if (caret < 0 || caret > text.length) return null;
  let i = caret;
  while (i > 0 && HANDLE_CHAR.test(text[i - 1])) i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && /[A-Za-z0-9_.@]/.test(text[at - 1])) return null;
  const prefix = text.slice(i, caret);
  if (prefix.length > MAX_HANDLE) return null;
  let end = caret;
  while (end < text.length && HANDLE_CHAR.test(text[end])) end++;
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
