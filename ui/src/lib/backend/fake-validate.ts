// The fake backend's validation and prices: a port of crates/kie/src/validate.rs (problem
// paths, rules and wording), so the window behaves in a browser and in tests as it does
// against the real shell. Not used inside the app, where the Rust core is the judge.

import type { CrossRule } from '../bindings/CrossRule';
import type { FieldSpec } from '../bindings/FieldSpec';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { Problem } from '../bindings/Problem';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

type Obj = { [key: string]: JsonValue };
type Checked = { kind: 'ok'; value: JsonValue } | { kind: 'blank' } | { kind: 'bad' };
const BLANK: Checked = { kind: 'blank' };
const BAD: Checked = { kind: 'bad' };
const ok = (value: JsonValue): Checked => ({ kind: 'ok', value });

/** A catalogue entry as models.json has it: optional keys the generated type requires. */
type RawField = Omit<Partial<FieldSpec>, 'items' | 'fields'> & {
  name?: string;
  label: string;
  type: FieldSpec['type'];
  widget: FieldSpec['widget'];
  items?: RawField | null;
  fields?: RawField[];
};
export type RawModel = Omit<ModelSpec, 'fields'> & { fields: RawField[] };

/** Fills in what serde's defaults fill in on the Rust side, so the fake serves what the shell does. */
export function normalizeField(f: RawField): FieldSpec {
  return {
    name: f.name ?? '',
    label: f.label,
    type: f.type,
    required: f.required ?? false,
    default: f.default ?? null,
    options: f.options ?? [],
    limits: f.limits ?? {},
    help: f.help ?? '',
    widget: f.widget,
    placeholder: f.placeholder ?? null,
    unit: f.unit ?? null,
    advanced: f.advanced ?? false,
    trim: f.trim ?? true,
    items: f.items ? normalizeField(f.items) : null,
    fields: (f.fields ?? []).map(normalizeField),
  };
}

export function normalizeModel(m: RawModel): ModelSpec {
  return {
    id: m.id,
    name: m.name,
    summary: m.summary,
    output: m.output,
    status_note: m.status_note ?? null,
    fields: m.fields.map(normalizeField),
    rules: m.rules ?? [],
    pricing: m.pricing ?? null,
  };
}

// ---- wording (as validate.rs) ----

function fmtCount(n: number): string {
  return Math.trunc(n).toLocaleString('en-US');
}
function plainNum(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}
function fmtNum(n: number): string {
  return Number.isInteger(n) ? (n < 0 ? `-${fmtCount(-n)}` : fmtCount(n)) : plainNum(n);
}
function joinList(items: string[], word: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}
function quote(s: string): string {
  return [...s].length > 60 ? `"${[...s].slice(0, 60).join('')}…"` : `"${s}"`;
}
function lowerFirst(s: string): string {
  if (s.length >= 2 && s[0] !== s[0].toLowerCase() && s[1] === s[1].toLowerCase()) return s[0].toLowerCase() + s.slice(1);
  return s;
}
function unitSuffix(f: FieldSpec): string {
  return f.unit ? ` ${f.unit}` : '';
}
export function canonical(v: JsonValue | undefined): string | null {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return plainNum(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}
function show(v: JsonValue): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return canonical(v) ?? '';
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'nothing';
  return 'a group of fields';
}
function asNumber(v: JsonValue | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

class At {
  constructor(
    public path: string,
    public label: string,
    public problems: Problem[],
  ) {}
  push(rule: string, message: string): Checked {
    this.problems.push({ field: this.path, rule, message });
    return BAD;
  }
  wrongType(expected: string, got: JsonValue): Checked {
    return this.push('wrong_type', `${this.label} must be ${expected}; got ${show(got)}.`);
  }
}

function checkLength(text: string, f: FieldSpec, at: At): void {
  const n = [...text].length;
  const { max_length: max, min_length: min } = f.limits;
  if (max != null && n > max) at.push('too_long', `${at.label} is too long: ${fmtCount(n)} characters, the limit is ${fmtCount(max)}.`);
  if (min != null && n < min) at.push('too_short', `${at.label} is too short: ${fmtCount(n)} characters, it needs at least ${fmtCount(min)}.`);
}

function charSet(spec: string): Array<[string, string]> | null {
  const chars = [...spec];
  const ranges: Array<[string, string]> = [];
  for (let i = 0; i < chars.length; ) {
    if (i + 2 < chars.length && chars[i + 1] === '-') {
      ranges.push([chars[i], chars[i + 2]]);
      i += 3;
    } else {
      ranges.push([chars[i], chars[i]]);
      i += 1;
    }
  }
  return ranges.length ? ranges : null;
}

function checkText(f: FieldSpec, v: JsonValue, at: At): Checked {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number') text = String(v);
  else return at.wrongType('text', v);
  if (f.trim) text = text.trim();
  if (text.trim() === '') return BLANK;
  checkLength(text, f, at);
  const set = f.limits.allowed_chars ? charSet(f.limits.allowed_chars) : null;
  if (set) {
    const bad = [...text].find((c) => !set.some(([lo, hi]) => c >= lo && c <= hi));
    if (bad !== undefined) {
      at.push('bad_format', `${at.label} may only contain ${f.limits.allowed_chars_label ?? f.limits.allowed_chars}; "${bad}" is not allowed.`);
    }
  }
  return ok(text);
}

function parseNumberText(text: string, unit: string | null | undefined): number | null {
  let t = text.trim();
  if (unit && t.endsWith(unit)) t = t.slice(0, -unit.length).trimEnd();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function checkNumber(f: FieldSpec, v: JsonValue, at: At): Checked {
  const integer = f.type === 'integer';
  const expected = integer ? 'a whole number' : 'a number';
  let n: number | null = null;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    if (v.trim() === '') return BLANK;
    n = parseNumberText(v, f.unit);
  }
  if (n === null || (integer && !Number.isInteger(n))) return at.wrongType(expected, v);
  const u = unitSuffix(f);
  const l = f.limits;
  if (l.min != null) {
    if (l.min_exclusive && n <= l.min) at.push('out_of_range', `${at.label} must be more than ${fmtNum(l.min)}${u}; got ${fmtNum(n)}${u}.`);
    else if (n < l.min) at.push('out_of_range', `${at.label} must be at least ${fmtNum(l.min)}${u}; got ${fmtNum(n)}${u}.`);
  }
  if (l.max != null && n > l.max) at.push('out_of_range', `${at.label} must be at most ${fmtNum(l.max)}${u}; got ${fmtNum(n)}${u}.`);
  return ok(n);
}

function checkBool(v: JsonValue, at: At): Checked {
  if (typeof v === 'boolean') return ok(v);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === '') return BLANK;
    if (['true', 'yes', 'y', 'on', '1'].includes(s)) return ok(true);
    if (['false', 'no', 'n', 'off', '0'].includes(s)) return ok(false);
  }
  if (v === 1) return ok(true);
  if (v === 0) return ok(false);
  return at.wrongType('yes or no (true or false)', v);
}

function checkChoice(f: FieldSpec, v: JsonValue, at: At): Checked {
  const given = canonical(v);
  if (given === '') return BLANK;
  const squash = (s: string) => s.replace(/\s+/g, '').toLowerCase();
  const options = f.options ?? [];
  const found =
    given === null
      ? undefined
      : (options.find((o) => canonical(o.value) !== null && squash(canonical(o.value)!) === squash(given)) ??
        options.find((o) => squash(o.label) === squash(given)));
  if (found) return ok(found.value);
  const labels = options.map((o) => o.label);
  return at.push('not_allowed', `${at.label} must be one of ${joinList(labels, 'or')}; got ${given !== null ? quote(given) : show(v)}.`);
}

function hostMatches(host: string, allowed: string): boolean {
  const a = allowed.toLowerCase();
  if (a.startsWith('*.')) {
    const parent = a.slice(2);
    return host.endsWith(`.${parent}`) && host.length > parent.length + 1;
  }
  return host === a;
}

function checkUrl(f: FieldSpec, v: JsonValue, at: At): Checked {
  if (typeof v !== 'string') return at.wrongType('a web link', v);
  const text = v.trim();
  if (text === '') return BLANK;
  checkLength(text, f, at);
  const l = f.limits;
  const schemes = l.schemes && l.schemes.length ? l.schemes : ['https', 'http'];
  const hosts = l.hosts ?? [];
  const shape = hosts.length
    ? `a ${joinList(hosts.map((h) => `${schemes[0]}://${h}/…`), 'or')} link`
    : `a full web link starting with ${joinList(schemes.map((s) => `${s}://`), 'or')}`;
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  const scheme = url?.protocol.replace(/:$/, '').toLowerCase();
  if (!url || !scheme || !schemes.some((s) => s.toLowerCase() === scheme) || !url.hostname) {
    return at.push('bad_url', `${at.label} must be ${shape}; got ${quote(text)}.`);
  }
  const host = url.hostname.toLowerCase();
  if (hosts.length && !hosts.some((h) => hostMatches(host, h))) at.push('bad_host', `${at.label} must be ${shape}; got ${quote(text)}.`);
  const types = l.file_types ?? [];
  if (types.length) {
    const name = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const dot = name.lastIndexOf('.');
    if (dot > 0 && dot < name.length - 1) {
      const ext = name.slice(dot + 1);
      if (!types.some((t) => t.replace(/^\./, '').toLowerCase() === ext.toLowerCase())) {
        const wanted = l.file_types_label ?? `a ${joinList(types.map((t) => `.${t.replace(/^\./, '')}`), 'or')} file`;
        at.push('bad_file_type', `${at.label} must be ${wanted}; "${name}" is a .${ext.toLowerCase()} file.`);
      }
    }
  }
  return ok(text);
}

function checkRange(f: FieldSpec, v: JsonValue, at: At): Checked {
  let pair: [number, number] | null = null;
  if (typeof v === 'string') {
    if (v.trim() === '') return BLANK;
    const parts = v.split(',');
    if (parts.length === 2) {
      const a = parseNumberText(parts[0], f.unit);
      const b = parseNumberText(parts[1], f.unit);
      if (a !== null && b !== null) pair = [a, b];
    }
  } else if (Array.isArray(v) && v.length === 2) {
    const a = asNumber(v[0]);
    const b = asNumber(v[1]);
    if (a !== null && b !== null) pair = [a, b];
  }
  if (!pair) return at.push('bad_format', `${at.label} must be a start and an end in seconds, like "2,5"; got ${show(v)}.`);
  const [start, end] = pair;
  const u = unitSuffix(f);
  const written = `${plainNum(start)},${plainNum(end)}`;
  const l = f.limits;
  if (l.min != null && start < l.min) at.push('out_of_range', `${at.label} must start at ${fmtNum(l.min)}${u} or later; got "${written}".`);
  if (l.max != null && end > l.max) at.push('out_of_range', `${at.label} must end by ${fmtNum(l.max)}${u}; got "${written}".`);
  const span = end - start;
  if (span <= 0) at.push('out_of_range', `${at.label} must end after it starts; got "${written}".`);
  else if ((l.min_span != null && span < l.min_span) || (l.max_span != null && span > l.max_span)) {
    const long =
      l.min_span != null && l.max_span != null
        ? `${fmtNum(l.min_span)} to ${fmtNum(l.max_span)}${u}`
        : l.min_span != null
          ? `at least ${fmtNum(l.min_span)}${u}`
          : `at most ${fmtNum(l.max_span!)}${u}`;
    at.push('out_of_range', `${at.label} must be ${long} long; "${written}" is ${fmtNum(span)}${u}.`);
  }
  return ok(written);
}

function checkList(f: FieldSpec, v: JsonValue, at: At): Checked {
  const itemSpec = f.items;
  if (!itemSpec) return ok(v);
  const scalar = itemSpec.type !== 'list' && itemSpec.type !== 'object';
  let items: JsonValue[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string' && scalar && v.trim() === '') return BLANK;
  else if ((typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && scalar) items = [v];
  else return at.wrongType('a list', v);
  if (items.length === 0) return BLANK;
  const n = items.length;
  const l = f.limits;
  if (l.max_items != null && n > l.max_items) at.push('too_many', `${at.label}: ${fmtCount(n)} given, the limit is ${fmtCount(l.max_items)}.`);
  if (l.min_items != null && n < l.min_items) at.push('too_few', `${at.label}: ${fmtCount(n)} given, at least ${fmtCount(l.min_items)} needed.`);
  const out: JsonValue[] = [];
  items.forEach((item, i) => {
    const path = `${at.path}[${i}]`;
    const label = `${itemSpec.label} ${i + 1}`;
    const checked = item === null ? BLANK : checkValue(itemSpec, item, path, label, at.problems);
    if (checked.kind === 'ok') out.push(checked.value);
    else if (checked.kind === 'blank') at.problems.push({ field: path, rule: 'required', message: `${label} is empty: fill it in or remove it.` });
  });
  return ok(out);
}

function checkValue(f: FieldSpec, v: JsonValue, path: string, label: string, problems: Problem[]): Checked {
  const before = problems.length;
  const at = new At(path, label, problems);
  let checked: Checked;
  switch (f.type) {
    case 'text':
      checked = checkText(f, v, at);
      break;
    case 'number':
    case 'integer':
      checked = checkNumber(f, v, at);
      break;
    case 'boolean':
      checked = checkBool(v, at);
      break;
    case 'choice':
      checked = checkChoice(f, v, at);
      break;
    case 'url':
      checked = checkUrl(f, v, at);
      break;
    case 'range':
      checked = checkRange(f, v, at);
      break;
    case 'list':
      checked = checkList(f, v, at);
      break;
    case 'object':
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        checked = ok(checkObject(f.fields ?? [], v, `${path}.`, label, `part of ${label}`, problems));
      } else {
        checked = at.wrongType(`a group of ${joinList((f.fields ?? []).map((x) => x.label), 'and')}`, v);
      }
      break;
    default:
      checked = ok(v);
  }
  return problems.length > before ? BAD : checked;
}

function checkObject(fields: FieldSpec[], input: Obj, prefix: string, labelPrefix: string | null, owner: string, problems: Problem[]): Obj {
  const out: Obj = {};
  const stray: Problem[] = [];
  for (const key of Object.keys(input)) {
    if (!fields.some((f) => f.name === key) && !fields.some((f) => f.name.toLowerCase() === key.toLowerCase())) {
      stray.push({
        field: `${prefix}${key}`,
        rule: 'unknown_field',
        message: `"${key}" is not ${owner}; the valid ones are: ${fields.map((f) => f.name).join(', ')}.`,
      });
    }
  }
  for (const f of fields) {
    const path = `${prefix}${f.name}`;
    const label = labelPrefix ? `${labelPrefix} ${lowerFirst(f.label)}` : f.label;
    const key = f.name in input ? f.name : Object.keys(input).find((k) => k.toLowerCase() === f.name.toLowerCase());
    const value = key !== undefined ? input[key] : undefined;
    const checked = value === undefined || value === null ? BLANK : checkValue(f, value, path, label, problems);
    if (checked.kind === 'ok') out[f.name] = checked.value;
    else if (checked.kind === 'blank' && f.required) {
      if (value === undefined || value === null) problems.push({ field: path, rule: 'required', message: `${label} is required.` });
      else if (f.type === 'list') {
        const min = Math.max(f.limits.min_items ?? 1, 1);
        problems.push({ field: path, rule: 'too_few', message: `${label}: none given, at least ${fmtCount(min)} needed.` });
      } else problems.push({ field: path, rule: 'required', message: `${label} must not be empty.` });
    } else if (checked.kind === 'blank' && f.default !== undefined && f.default !== null) {
      out[f.name] = f.default;
    }
  }
  problems.push(...stray);
  return out;
}

function checkCrossRule(spec: ModelSpec, rule: CrossRule, out: Obj, problems: Problem[]): void {
  const touched = (name: string) =>
    problems.some((p) => p.field === name || p.field.startsWith(`${name}[`) || p.field.startsWith(`${name}.`));
  if (touched(rule.list) || (rule.limit_field && touched(rule.limit_field))) return;
  const items = out[rule.list];
  if (!Array.isArray(items)) return;
  let sum = 0;
  for (const item of items) {
    if (item && typeof item === 'object' && !Array.isArray(item)) sum += asNumber(item[rule.item_key]) ?? 0;
  }
  const lim = rule.limit_field ? asNumber(out[rule.limit_field]) : (rule.limit ?? null);
  if (lim === null || sum <= lim + 1e-9) return;
  const listSpec = spec.fields.find((f) => f.name === rule.list);
  const itemField = listSpec?.items?.fields?.find((f) => f.name === rule.item_key);
  const unit = itemField ? unitSuffix(itemField) : '';
  const limitLabel = (rule.limit_field && spec.fields.find((f) => f.name === rule.limit_field)?.label) || 'the limit';
  const template = rule.message ?? '{label} add up to {sum}{unit}, more than {limit_label} ({limit}{unit}).';
  const text = template
    .replaceAll('{label}', listSpec?.label ?? rule.list)
    .replaceAll('{item_label}', itemField?.label ?? rule.item_key)
    .replaceAll('{sum}', fmtNum(sum))
    .replaceAll('{limit_label}', limitLabel)
    .replaceAll('{limit}', fmtNum(lim))
    .replaceAll('{unit}', unit);
  problems.push({ field: rule.list, rule: 'sum_too_large', message: text });
}

/** Every problem with `input`, and the input normalized as it would be sent. */
export function validate(spec: ModelSpec, input: Obj): { problems: Problem[]; normalized: Obj } {
  const problems: Problem[] = [];
  const normalized = checkObject(spec.fields, input, '', null, `a setting of ${spec.name}`, problems);
  for (const rule of spec.rules ?? []) checkCrossRule(spec, rule, normalized, problems);
  return { problems, normalized };
}

/** The price in credits (first matching rule, defaults for absent fields), or null. */
export function estimateCredits(spec: ModelSpec, input: Obj): number | null {
  const rules = spec.pricing?.rules ?? [];
  for (const rule of rules) {
    const matches = Object.entries(rule.when).every(([key, want]) => {
      const field = spec.fields.find((f) => f.name === key);
      if (!field) return false;
      const given = input[key] !== undefined && input[key] !== null ? input[key] : field.default;
      if (given === undefined || given === null) return false;
      const checked = checkValue(field, given, key, field.label, []);
      return checked.kind === 'ok' && canonical(checked.value) !== null && canonical(checked.value) === canonical(want);
    });
    if (matches) return rule.credits;
  }
  return null;
}
