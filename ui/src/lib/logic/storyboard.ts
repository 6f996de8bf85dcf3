// Lists held to a total by a `sum_at_most` rule (the storyboard's shots and the video's
// length). The core works out how much is used and left (`InputCheck.budgets`, with every
// live check); this only puts it in words, and says which sub-field of the items it counts.

import type { Budget } from '../bindings/Budget';
import type { ModelSpec } from '../bindings/ModelSpec';

/** The sub-field of list `list`'s items that its total counts (the catalogue's rule names it); null when none does. */
export function budgetItemKey(spec: ModelSpec, list: string): string | null {
  return (spec.rules ?? []).find((r) => r.kind === 'sum_at_most' && r.list === list)?.item_key ?? null;
}

/** "4 s left of 10 s", "All 10 s used", "2.5 s too long for 10 s". */
export function describeBudget(b: Budget): string {
  const u = b.unit ? ` ${b.unit}` : '';
  if (b.left > 0) return `${b.left}${u} left of ${b.limit}${u}`;
  if (b.left === 0) return `All ${b.limit}${u} used`;
  return `${-b.left}${u} too long for ${b.limit}${u}`;
}
