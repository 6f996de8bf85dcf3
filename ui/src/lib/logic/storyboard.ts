// Lists held to a total by a `sum_at_most` rule (the storyboard's shots and the video's
// length): how much of the total is left while the user types.

import type { CrossRule } from '../bindings/CrossRule';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { FormValues } from './form';

export interface TimeBudget {
  /** The total allowed (e.g. the video's length). */
  limit: number;
  /** What the items add up to so far (items not yet a number count as 0). */
  used: number;
  /** `limit − used`; negative when over. */
  left: number;
  /** The items' unit ("s"), or "". */
  unit: string;
}

/** The `sum_at_most` rule that holds list `listName` to a total, if any. */
export function budgetRule(spec: ModelSpec, listName: string): CrossRule | undefined {
  return (spec.rules ?? []).find((r) => r.kind === 'sum_at_most' && r.list === listName);
}

/** Text or a number as a number ("2.5", "2,5", "3 s"); null when it is not one. */
export function readNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const t = v.trim().replace(/\s*s$/i, '').replace(',', '.');
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** How much of the total list `listName` has used and has left; null without such a rule. */
export function timeBudget(spec: ModelSpec, values: FormValues, listName: string): TimeBudget | null {
  const rule = budgetRule(spec, listName);
  if (!rule) return null;
  let limit: number | null = null;
  if (rule.limit_field) {
    const lf = spec.fields.find((f) => f.name === rule.limit_field);
    const v = values[rule.limit_field];
    limit = readNumber(v === null || v === undefined || v === '' ? lf?.default : v);
  } else if (rule.limit !== null && rule.limit !== undefined) {
    limit = rule.limit;
  }
  if (limit === null) return null;
  const items = values[listName];
  let used = 0;
  if (Array.isArray(items)) {
    for (const item of items) {
      if (item && typeof item === 'object' && !Array.isArray(item)) {
        const n = readNumber(item[rule.item_key]);
        if (n !== null && n > 0) used += n;
      }
    }
  }
  const listField = spec.fields.find((f) => f.name === listName);
  const itemField = listField?.items?.fields?.find((f) => f.name === rule.item_key);
  return { limit, used: round(used), left: round(limit - used), unit: itemField?.unit ?? '' };
}

/** "4 s left of 10 s", "Exactly 10 s: full", "2.5 s over 10 s". */
export function describeBudget(b: TimeBudget): string {
  const u = b.unit ? ` ${b.unit}` : '';
  if (b.left > 0) return `${b.left}${u} left of ${b.limit}${u}`;
  if (b.left === 0) return `All ${b.limit}${u} used`;
  return `${round(-b.left)}${u} too long for ${b.limit}${u}`;
}
