// One model's form while the user works on it: values, what was touched, the latest
// problems, price and budgets from the core, and the outcome of the last submit. Kept per model
// for the whole session, so switching models and coming back loses nothing.

import type { Budget } from '../bindings/Budget';
import type { Character } from '../bindings/Character';
import type { FieldSpec } from '../bindings/FieldSpec';
import type { MentionOffer } from '../bindings/MentionOffer';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { Problem } from '../bindings/Problem';
import type { UploadedFile } from '../bindings/UploadedFile';
import { addCharacterId, CHARACTER_ID_FIELD, type AddIdOutcome } from '../logic/characters';
import { formatPlain, initialForm, type FormValues } from '../logic/form';
import { childPath, fieldsWithProblems, isWithin, problemsAt, renderedPaths, unplacedProblems, visibleProblems } from '../logic/problems';

export interface FormNotice {
  kind: 'error' | 'warn' | 'ok';
  title: string;
  action: string;
  link?: 'settings';
  /** A task the notice is about (for "see it in the queue"). */
  taskId?: number;
}

export class ModelForm {
  readonly spec: ModelSpec;
  values: FormValues = $state({});
  /** Paths the user has left (blurred) or changed through a button. */
  touched: string[] = $state([]);
  /**
   * Paths changed since the last check was asked for: their old problems are hidden until
   * the check answers, so nothing stale flashes and nothing nags mid-word.
   */
  pending: string[] = $state([]);
  /** After a submit attempt every problem shows. */
  showAll = $state(false);
  /** The latest problems from `check_input`, or from a rejected submit. */
  problems: Problem[] = $state([]);
  credits: number | null = $state(null);
  usd: number | null = $state(null);
  /** How much of each held total (a storyboard's length) the lists use, from the latest check. */
  budgets: Budget[] = $state([]);
  /**
   * Top-level fields the core hides for the current values (`InputCheck.hidden`); null until
   * the first check answers. A hidden field keeps its value, so showing it again restores it.
   */
  hidden: string[] | null = $state(null);
  /** Names `@` may complete in text fields, from the form's own input (`InputCheck.mentions`). */
  mentions: MentionOffer[] = $state([]);
  /** Whether the price shown matches the current values. */
  checked = $state(false);
  sending = $state(false);
  notice: FormNotice | null = $state(null);
  /** "More options" is open. */
  moreOpen = $state(false);
  /** Files uploaded through a pick button ("Add images…"), by the URL put into the form (for previews). */
  uploads: Record<string, UploadedFile> = $state({});

  constructor(spec: ModelSpec) {
    this.spec = spec;
    this.values = initialForm(spec);
  }

  /**
   * Whether the form hides `field` now. Until the core has answered once, a field shown only
   * on a condition (`show_when`) waits hidden, so it does not flash in and out.
   */
  isHidden(field: Pick<FieldSpec, 'name' | 'show_when'>): boolean {
    if (this.hidden === null) return !!field.show_when;
    return this.hidden.includes(field.name);
  }

  /** The top-level fields shown now, in form order. */
  get shownFields(): FieldSpec[] {
    return this.spec.fields.filter((f) => !this.isHidden(f));
  }

  /**
   * The `@` names the core offers in the text field at `path`. The core names top-level
   * fields; a text inside a list item (Kling's shot prompts) gets the names offered to the
   * top-level field that may name the same things (its `mentions`, characters aside).
   */
  offersFor(path: string, field?: Pick<FieldSpec, 'mentions'>): MentionOffer[] {
    const direct = this.mentions.filter((o) => o.field === path);
    if (direct.length > 0 || !field || this.spec.fields.some((f) => f.name === path)) return direct;
    const sources = (f: Pick<FieldSpec, 'mentions'>) => JSON.stringify((f.mentions ?? []).filter((m) => m.from !== 'characters'));
    const mine = sources(field);
    if (mine === '[]') return [];
    const same = new Set(this.spec.fields.filter((f) => sources(f) === mine).map((f) => f.name));
    const seen = new Set<string>();
    return this.mentions.filter((o) => same.has(o.field) && !seen.has(o.name) && !!seen.add(o.name));
  }

  /** The problems to show now. */
  get visible(): Problem[] {
    const shown = visibleProblems(this.problems, new Set(this.touched), this.showAll);
    if (this.pending.length === 0) return shown;
    return shown.filter((p) => !this.pending.some((path) => isWithin(p.field, path)));
  }

  /** Visible problems that no control shows: they go next to the submit button. */
  get unplaced(): Problem[] {
    return unplacedProblems(this.visible, renderedPaths({ ...this.spec, fields: this.shownFields }, this.values));
  }

  at(path: string): Problem[] {
    return problemsAt(this.visible, path);
  }

  /** Whether any visible problem is at `path` or inside it. */
  hasWithin(path: string): boolean {
    return this.visible.some((p) => isWithin(p.field, path));
  }

  /**
   * The user put `@handle` in a prompt: the character's id goes into the character list
   * too, when this model has one (no duplicates, at most its limit).
   */
  mentioned(c: Pick<Character, 'handle' | 'character_id'>): AddIdOutcome {
    const outcome = addCharacterId(this.spec, this.values, c.character_id);
    if (outcome === 'added') this.changed(CHARACTER_ID_FIELD);
    return outcome;
  }

  touch(path: string): void {
    if (!this.touched.includes(path)) this.touched.push(path);
  }

  /** The user changed the value at `path` (typing, choosing, adding or removing). */
  changed(path: string): void {
    this.touch(path);
    if (!this.pending.includes(path)) this.pending.push(path);
  }

  /** A check answered for the current values. */
  checkedNow(problems: Problem[]): void {
    this.problems = problems;
    this.pending = [];
  }

  /** The latest check's budget for list `list`, if it is held to a total. */
  budget(list: string): Budget | null {
    return this.budgets.find((b) => b.list === list) ?? null;
  }

  /**
   * The budgets of a check that answered for the current values. A list held to a total whose
   * only item has no amount yet (and the user has not touched it) gets the whole total: the
   * storyboard's first shot starts as long as the video.
   */
  budgetsNow(budgets: Budget[]): void {
    this.budgets = budgets;
    for (const b of budgets) {
      const key = b.item_key;
      const items = this.values[b.list];
      if (b.limit <= 0 || !Array.isArray(items) || items.length !== 1) continue;
      const first = items[0];
      if (!first || typeof first !== 'object' || Array.isArray(first) || first[key] !== '') continue;
      if (this.touched.includes(childPath(childPath(b.list, 0), key))) continue;
      first[key] = formatPlain(b.limit);
    }
  }

  /** Shows every problem (after a submit) and opens "More options" if one is in there. */
  revealAll(problems: Problem[]): void {
    this.problems = problems;
    this.pending = [];
    this.showAll = true;
    const withProblems = fieldsWithProblems(problems);
    if (this.spec.fields.some((f) => f.advanced && withProblems.has(f.name))) this.moreOpen = true;
  }
}
