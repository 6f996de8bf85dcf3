// Form state for any catalogue model, generic over the catalogue's widgets: what a form
// holds while the user types, its starting values (the catalogue's defaults), and the
// `input` object it becomes for `check_input` and `submit_task`. Nothing here knows a model
// by name, so a model added to the catalogue just works.

import type { FieldSpec } from '../bindings/FieldSpec';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import type { Api } from '../api/surface';

/** A model's `input` object, as `check_input` and `submit_task` take it. */
export type Input = Parameters<Api['submitTask']>[0]['input'];

/**
 * What a control holds. Text, URLs and numbers are kept as typed (strings), choices as the
 * option's value, toggles as booleans, lists as arrays, groups as objects, and a time range
 * as `{start, end}` strings.
 */
export type FormValue = string | number | boolean | null | FormValue[] | { [key: string]: FormValue };
export type FormValues = { [key: string]: FormValue };

export interface RangeValue {
  [key: string]: FormValue;
  start: string;
  end: string;
}

/** Lists whose items are groups of fields (one control per sub-field). */
export function isGroupList(field: FieldSpec): boolean {
  return field.widget === 'shots' || field.widget === 'object_list';
}

/** Lists of single text or URL values (one input per row). */
export function isScalarList(field: FieldSpec): boolean {
  return field.widget === 'url_list' || field.widget === 'text_list';
}

function asText(v: JsonValue | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** A time range's text ("2,5") as its two boxes. */
export function parseRange(v: JsonValue | undefined | null): RangeValue {
  if (typeof v === 'string' && v.includes(',')) {
    const [start, end] = v.split(',', 2);
    return { start: start.trim(), end: end.trim() };
  }
  if (Array.isArray(v) && v.length === 2) return { start: asText(v[0]), end: asText(v[1]) };
  return { start: '', end: '' };
}

/** The number of rows a list starts with: its minimum, and one when it is required. */
function startingRows(field: FieldSpec): number {
  const min = field.limits.min_items ?? 0;
  return Math.max(min, field.required ? 1 : 0);
}

/** A group's fields with their starting values. */
export function initialGroup(fields: FieldSpec[]): { [key: string]: FormValue } {
  const out: { [key: string]: FormValue } = {};
  for (const f of fields) out[f.name] = initialValue(f);
  return out;
}

/** A new row for a list field. */
export function newListItem(field: FieldSpec): FormValue {
  const item = field.items;
  if (!item) return '';
  if (isGroupList(field) || item.widget === 'group') return initialGroup(item.fields ?? []);
  return initialValue(item);
}

function isObject(v: JsonValue | undefined | null): v is { [key: string]: JsonValue } {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** A group's fields from a JSON object: the fields it has, the others at their start. */
function groupFrom(fields: FieldSpec[], v: JsonValue | undefined | null): { [key: string]: FormValue } {
  const obj = isObject(v) ? v : {};
  const out: { [key: string]: FormValue } = {};
  for (const f of fields) {
    const given = obj[f.name];
    out[f.name] = given === undefined || given === null ? initialValue(f) : formValue(f, given);
  }
  return out;
}

/**
 * A JSON value (a default, or what a task sent) as the control of `field` holds it: numbers
 * as text in number boxes, a list's rows, a group's fields (lists inside list items too).
 */
export function formValue(field: FieldSpec, v: JsonValue): FormValue {
  switch (field.widget) {
    case 'text':
    case 'textarea':
    case 'url':
    case 'number':
      return asText(v);
    case 'select':
      return v as FormValue;
    case 'toggle':
      return typeof v === 'boolean' ? v : false;
    case 'url_list':
    case 'text_list':
      return Array.isArray(v) ? v.map((x) => asText(x)) : [];
    case 'shots':
    case 'object_list':
      return Array.isArray(v) ? v.map((d) => groupFrom(field.items?.fields ?? [], d)) : [];
    case 'group':
      return groupFrom(field.fields ?? [], v);
    case 'time_range':
      return parseRange(v);
    default:
      return asText(v);
  }
}

/** The value a field's control starts with: the catalogue's default, else empty. */
export function initialValue(field: FieldSpec): FormValue {
  const def = field.default;
  if (def !== undefined && def !== null) return formValue(field, def);
  switch (field.widget) {
    case 'select':
      return null;
    case 'toggle':
      return false;
    case 'url_list':
    case 'text_list':
    case 'shots':
    case 'object_list':
      return Array.from({ length: startingRows(field) }, () => newListItem(field));
    case 'group':
      return initialGroup(field.fields ?? []);
    case 'time_range':
      return parseRange(null);
    default:
      return '';
  }
}

/** A model's form with every default filled in. */
export function initialForm(spec: ModelSpec): FormValues {
  return initialGroup(spec.fields);
}

/** A form filled in from an `input` that was sent (a task's), for "Use again". */
export function formFromInput(spec: ModelSpec, input: { [key: string]: JsonValue }): FormValues {
  const values = initialForm(spec);
  for (const f of spec.fields) {
    const given = input[f.name];
    if (given === undefined || given === null) continue;
    values[f.name] = formValue(f, given);
  }
  return values;
}

/** 10 → "10", 2.5 → "2.5" (no grouping: for inputs). */
export function formatPlain(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

function isBlankText(v: FormValue): boolean {
  return typeof v !== 'string' || v.trim() === '';
}

/** A number as typed: a number when it reads as one, else the text (the core explains). */
function numberInput(text: string): JsonValue | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) && /^[-+]?(\d+[.,]?\d*|[.,]\d+)(e[-+]?\d+)?$/i.test(t) ? n : t;
}

/** Drops empty rows at the end of a list (a blank row in the middle stays, so its problem shows). */
export function trimTrailingBlanks(rows: FormValue[]): FormValue[] {
  let end = rows.length;
  while (end > 0 && isBlankText(rows[end - 1])) end--;
  return rows.slice(0, end);
}

function groupInput(fields: FieldSpec[], value: FormValue): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  for (const f of fields) {
    const v = toInputValue(f, obj[f.name]);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** One field's value as sent; `undefined` leaves it out (the core fills in defaults). */
export function toInputValue(field: FieldSpec, value: FormValue | undefined): JsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  switch (field.widget) {
    case 'text':
    case 'textarea':
    case 'url':
      return typeof value === 'string' && value.trim() !== '' ? value : undefined;
    case 'number':
      return typeof value === 'string' ? numberInput(value) : (value as JsonValue);
    case 'select':
      return value === '' ? undefined : (value as JsonValue);
    case 'toggle':
      return typeof value === 'boolean' ? value : undefined;
    case 'url_list':
    case 'text_list': {
      if (!Array.isArray(value)) return undefined;
      const rows = trimTrailingBlanks(value).map((v) => (typeof v === 'string' ? v : String(v ?? '')));
      return rows.length > 0 ? rows : undefined;
    }
    case 'shots':
    case 'object_list': {
      if (!Array.isArray(value) || value.length === 0) return undefined;
      const itemFields = field.items?.fields ?? [];
      return value.map((item) => groupInput(itemFields, item));
    }
    case 'group': {
      const obj = groupInput(field.fields ?? [], value);
      return Object.keys(obj).length > 0 ? obj : undefined;
    }
    case 'time_range': {
      const r = value as RangeValue;
      const start = (r.start ?? '').trim();
      const end = (r.end ?? '').trim();
      if (start === '' && end === '') return undefined;
      return `${start},${end}`;
    }
    default:
      return typeof value === 'string' ? (value.trim() === '' ? undefined : value) : (value as JsonValue);
  }
}

/** The whole form as a model's `input`. */
export function toInput(spec: ModelSpec, values: FormValues): Input {
  return groupInput(spec.fields, values);
}

/** A deep copy of plain form values (to keep a snapshot, e.g. for "Use again"). */
export function cloneValues<T extends FormValue | FormValues>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Fields shown at once, and the ones folded under "More options". */
export function splitAdvanced(fields: FieldSpec[]): { basic: FieldSpec[]; advanced: FieldSpec[] } {
  return { basic: fields.filter((f) => !f.advanced), advanced: fields.filter((f) => f.advanced) };
}

/** Widgets whose values can move from one model's field to another's of the same name. */
function sameKind(a: FieldSpec, b: FieldSpec): boolean {
  const text = ['text', 'textarea'];
  return a.widget === b.widget || (text.includes(a.widget) && text.includes(b.widget));
}

/**
 * Moves what the user gave `from`'s form into `to`'s (switching to another model, e.g. a live
 * alternative to a paused one): each field of the same name and kind whose value the user
 * changed from its start. A choice comes along only when `to` offers the same value; a
 * group's or a list item's fields by name. The core checks the result like any input.
 * Changes `target` in place; returns the names of the fields carried over.
 */
export function carryValues(from: ModelSpec, values: FormValues, to: ModelSpec, target: FormValues): string[] {
  const carried: string[] = [];
  for (const f of to.fields) {
    const src = from.fields.find((x) => x.name === f.name);
    if (!src || !sameKind(src, f)) continue;
    const sent = toInputValue(src, values[f.name]);
    if (sent === undefined) continue;
    if (JSON.stringify(sent) === JSON.stringify(toInputValue(src, initialValue(src)) ?? null)) continue;
    let value: JsonValue = sent;
    if (f.widget === 'select') {
      const option = (f.options ?? []).find((o) => String(o.value) === String(sent));
      if (!option) continue;
      value = option.value;
    }
    target[f.name] = formValue(f, value);
    carried.push(f.name);
  }
  return carried;
}

/** Segmented buttons for a few short choices; a drop-down list otherwise. */
export function useSegments(field: FieldSpec): boolean {
  const options = field.options ?? [];
  if (options.length === 0 || options.length > 4) return false;
  const chars = options.reduce((n, o) => n + o.label.length, 0);
  return chars <= 48;
}

/** The verb of the submit button, by what the model makes. */
export function submitVerb(spec: ModelSpec): string {
  switch (spec.output) {
    case 'video':
      return 'Make video';
    case 'character':
      return 'Make character';
    case 'image':
      return 'Make image';
    case 'audio':
      return 'Make audio';
    default:
      return 'Start';
  }
}

/** What every control that edits one catalogue field of a form is given. */
export interface FieldControlProps {
  field: import('../bindings/FieldSpec').FieldSpec;
  form: import('../state/modelForm.svelte').ModelForm;
  /** The object holding this field's value (the form's input, or a list item). */
  container: { [key: string]: FormValue };
  /** The field's path for problems and test ids, e.g. `shots[1].duration`. */
  path: string;
}
