// The real catalogue, as the core serves it (serde defaults filled in), for the pure-logic
// tests. Tests of the whole window get it from the browser server instead.
import raw from '../../crates/kie/catalogue/models.json';
import type { FieldSpec } from '../src/lib/bindings/FieldSpec';
import type { ModelSpec } from '../src/lib/bindings/ModelSpec';

/** A catalogue entry as models.json has it: optional keys the generated type requires. */
type RawField = Omit<Partial<FieldSpec>, 'items' | 'fields'> & {
  name?: string;
  label: string;
  type: FieldSpec['type'];
  widget: FieldSpec['widget'];
  items?: RawField | null;
  fields?: RawField[];
};
type RawModel = Omit<ModelSpec, 'fields'> & { fields: RawField[] };

/** Fills in what serde's defaults fill in on the Rust side. */
function normalizeField(f: RawField): FieldSpec {
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

function normalizeModel(m: RawModel): ModelSpec {
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

export const CATALOGUE: ModelSpec[] = (raw as unknown as { models: RawModel[] }).models.map(normalizeModel);

export function spec(id: string): ModelSpec {
  const m = CATALOGUE.find((x) => x.id === id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}
