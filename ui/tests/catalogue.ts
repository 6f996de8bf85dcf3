// The real catalogue, as the shell serves it (serde defaults filled in).
import raw from '../../crates/kie/catalogue/models.json';
import { normalizeModel, type RawModel } from '../src/lib/backend/fake-validate';
import type { ModelSpec } from '../src/lib/bindings/ModelSpec';

export const CATALOGUE: ModelSpec[] = (raw as unknown as { models: RawModel[] }).models.map(normalizeModel);

export function spec(id: string): ModelSpec {
  const m = CATALOGUE.find((x) => x.id === id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}
