let next = 0;

/** A unique DOM id for labels and descriptions. */
export function uid(prefix = 'f'): string {
  next += 1;
  return `${prefix}-${next}`;
}
