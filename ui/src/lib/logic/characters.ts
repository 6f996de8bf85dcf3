// Characters in prompts: when the user picks an @handle and the model's form has a list of
// character ids (the catalogue's `character_id_list`), the character's id goes in too, so
// Kie knows who @handle is.

import type { ModelSpec } from '../bindings/ModelSpec';
import type { FormValue, FormValues } from './form';

export const CHARACTER_ID_FIELD = 'character_id_list';

export type AddIdOutcome = 'added' | 'present' | 'full' | 'no-field' | 'no-id';

/**
 * `values` with `characterId` added to the form's character id list: no duplicates, at
 * most the field's `max_items` (as the catalogue says), a blank row is filled before a new one is added. The
 * values are changed in place (they are the form's reactive state); the outcome says what
 * happened.
 */
export function addCharacterId(spec: ModelSpec, values: FormValues, characterId: string | null | undefined): AddIdOutcome {
  const field = spec.fields.find((f) => f.name === CHARACTER_ID_FIELD);
  if (!field) return 'no-field';
  const id = (characterId ?? '').trim();
  if (id === '') return 'no-id';
  const current = values[CHARACTER_ID_FIELD];
  const list: FormValue[] = Array.isArray(current) ? current : [];
  const text = (v: FormValue) => (typeof v === 'string' ? v.trim() : '');
  if (list.some((v) => text(v) === id)) return 'present';
  const blank = list.findIndex((v) => text(v) === '');
  if (blank !== -1) {
    list[blank] = id;
  } else {
    const max = field.limits.max_items;
    if (max !== null && max !== undefined && list.length >= max) return 'full';
    list.push(id);
  }
  values[CHARACTER_ID_FIELD] = list;
  return 'added';
}
