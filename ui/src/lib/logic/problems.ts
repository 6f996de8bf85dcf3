// Problems from `check_input` and `submit_task` name their field by path: `prompt`,
// `image_urls[1]`, `shots[2].duration` (indexes from 0). Each control knows its own path and
// shows the problems at exactly that path; problems no control shows go to the form.

import type { FieldSpec } from '../bindings/FieldSpec';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { Problem } from '../bindings/Problem';
import { isGroupList, isScalarList, type FormValue, type FormValues } from './form';

export type PathPart = string | number;

/** "shots[2].duration" → ["shots", 2, "duration"]. */
export function parsePath(path: string): PathPart[] {
  const parts: PathPart[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) parts.push(m[1]);
    else parts.push(Number(m[2]));
  }
  return parts;
}

/** ["shots", 2, "duration"] → "shots[2].duration". */
export function joinPath(parts: PathPart[]): string {
  return parts.reduce<string>((acc, p) => childPath(acc, p), '');
}

/** The path of a child: a field of a group (`a.b`) or a row of a list (`a[1]`). */
export function childPath(parent: string, part: PathPart): string {
  if (typeof part === 'number') return `${parent}[${part}]`;
  return parent === '' ? part : `${parent}.${part}`;
}

/** The top-level field a path belongs to: "shots[2].duration" → "shots". */
export function topField(path: string): string {
  const first = parsePath(path)[0];
  return typeof first === 'string' ? first : '';
}

/** Whether `path` is `ancestor` or inside it. */
export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}[`) || path.startsWith(`${ancestor}.`);
}

/** The problems at exactly `path`. */
export function problemsAt(problems: Problem[], path: string): Problem[] {
  return problems.filter((p) => p.field === path);
}

function collect(field: FieldSpec, path: string, value: FormValue | undefined, out: Set<string>): void {
  out.add(path);
  if (isScalarList(field) && Array.isArray(value)) {
    value.forEach((_, i) => out.add(childPath(path, i)));
  } else if (isGroupList(field) && Array.isArray(value)) {
    const fields = field.items?.fields ?? [];
    value.forEach((item, i) => {
      const itemPath = childPath(path, i);
      out.add(itemPath);
      const obj = item && typeof item === 'object' && !Array.isArray(item) ? item : {};
      for (const f of fields) collect(f, childPath(itemPath, f.name), obj[f.name], out);
    });
  } else if (field.widget === 'group') {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    for (const f of field.fields ?? []) collect(f, childPath(path, f.name), (obj as FormValues)[f.name], out);
  }
}

/** Every path a control of this form shows problems for. */
export function renderedPaths(spec: ModelSpec, values: FormValues): Set<string> {
  const out = new Set<string>();
  for (const f of spec.fields) collect(f, f.name, values[f.name], out);
  return out;
}

/** Problems that no control shows (an unknown field, the model itself, a removed row). */
export function unplacedProblems(problems: Problem[], rendered: Set<string>): Problem[] {
  return problems.filter((p) => !rendered.has(p.field));
}

/** Rules that involve several fields: shown at once, whatever was touched. */
const ALWAYS_SHOWN = new Set(['sum_too_large']);

/**
 * The problems to show now. Until the user has submitted once, a problem shows only when
 * its field (or a part of it, or the list it is in) was touched, so a fresh form is not
 * covered in red; after a submit, all show.
 */
export function visibleProblems(problems: Problem[], touched: Set<string>, showAll: boolean): Problem[] {
  if (showAll) return problems;
  return problems.filter((p) => {
    if (ALWAYS_SHOWN.has(p.rule)) return true;
    for (const t of touched) {
      if (isWithin(p.field, t) || isWithin(t, p.field)) return true;
    }
    return false;
  });
}

/** The top-level fields that have problems. */
export function fieldsWithProblems(problems: Problem[]): Set<string> {
  return new Set(problems.map((p) => topField(p.field)).filter((f) => f !== ''));
}
