// Lists held to a total by a `sum_at_most` rule (the storyboard's shots and the video's
// length). The core works out how much is used and left, and which sub-field of the items
// counts (`InputCheck.budgets`, with every live check); this only puts it in words.

import type { Budget } from '../bindings/Budget';

/** "4 s left of 10 s", "All 10 s used", "2.5 s too long for 10 s". */
export function describeBudget(b: Budget): string {
  const u = b.unit ? ` ${b.unit}` : '';
  if (b.left > 0) return `${b.left}${u} left of ${b.limit}${u}`;
  if (b.left === 0) return `All ${b.limit}${u} used`;
  return `${-b.left}${u} too long for ${b.limit}${u}`;
}
