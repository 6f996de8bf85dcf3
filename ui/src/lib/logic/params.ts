// A task's input in the words of its form: "Length: 10 s", "Shape: Landscape", for the
// detail panel. Labels and option names come from the catalogue, so nothing here knows a
// model. The prompt is shown on its own and left out.

import type { FieldSpec } from '../bindings/FieldSpec';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export interface ParamLine {
  name: string;
  label: string;
  value: string;
}

function plain(field: FieldSpec | null | undefined, v: JsonValue): string {
  if (v === null || v === undefined) return '';
  const opt = field?.options?.find((o) => String(o.value) === String(v));
  if (opt) return opt.label;
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'number') return field?.unit ? `${v} ${field.unit}` : String(v);
  if (typeof v === 'string') {
    if (field?.widget === 'time_range' && v.includes(',')) {
      const [a, b] = v.split(',', 2);
      return `${a.trim()}–${b.trim()}${field.unit ? ` ${field.unit}` : ''}`;
    }
    return v;
  }
  if (Array.isArray(v)) {
    if (field?.widget === 'shots' || field?.widget === 'object_list') {
      return v
        .map((item, i) => {
          if (!item || typeof item !== 'object' || Array.isArray(item)) return `${i + 1}. ${String(item)}`;
          // "1. A keeper climbs the stairs (5 s)": the words first, numbers after.
          const sub = field.items?.fields ?? [];
          const words: string[] = [];
          const extras: string[] = [];
          for (const [k, x] of Object.entries(item)) {
            const f = sub.find((s) => s.name === k);
            const text = plain(f, x ?? null);
            if (text === '') continue;
            if (f && (f.widget === 'textarea' || f.widget === 'text')) words.push(text);
            else if (f?.widget === 'number' || typeof x === 'number') extras.push(f?.unit && typeof x !== 'number' ? `${text} ${f.unit}` : text);
            else extras.push(`${f?.label ?? k}: ${text}`);
          }
          const tail = extras.length ? ` (${extras.join(', ')})` : '';
          return `${i + 1}. ${words.join(' — ')}${tail}`;
        })
        .join('\n');
    }
    return v.map((x) => plain(field?.items, x ?? null)).join('\n');
  }
  return JSON.stringify(v);
}

/** The input's settings as plain lines, in the form's order; unknown keys last. */
export function describeInput(spec: ModelSpec | null | undefined, input: { [key: string]: JsonValue | undefined }, skip: string[] = ['prompt']): ParamLine[] {
  const out: ParamLine[] = [];
  const fields = spec?.fields ?? [];
  for (const f of fields) {
    if (skip.includes(f.name)) continue;
    const v = input[f.name];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out.push({ name: f.name, label: f.label, value: plain(f, v) });
  }
  for (const [k, v] of Object.entries(input)) {
    if (skip.includes(k) || fields.some((f) => f.name === k)) continue;
    if (v === undefined || v === null || v === '') continue;
    out.push({ name: k, label: k, value: plain(null, v) });
  }
  return out;
}
