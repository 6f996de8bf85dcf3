// TODO(server): stand-ins for the in-browser copy of the core that the window's tests used to
// run against (deleted: the core in Rust is the only judge now). The tests that still name
// these are skipped until they run against the browser server (`tests/server.ts`); calling
// one throws.
import type { StudioApi } from '../src/lib/api';
import type { ModelSpec } from '../src/lib/bindings/ModelSpec';
import type { Problem } from '../src/lib/bindings/Problem';
import type { ResultQuery } from '../src/lib/bindings/ResultQuery';
import type { Input } from '../src/lib/logic/form';

/** How the deleted fake set the scene (the browser server's `/_test/seed` does it now). */
export interface FakeOptions {
  demo?: boolean;
  keySet?: boolean;
  seed?: boolean;
  many?: number;
  offline?: boolean;
  mediaBase?: string | null;
  /** Milliseconds per step of a task's life. */
  step?: number;
  /** Where exports go; null: the folder dialog is cancelled. */
  exportDir?: string | null;
}

const GONE = 'TODO(server): the in-browser fake backend is gone; run this test against the browser server';

export function createFastFake(_opts: FakeOptions = {}): StudioApi {
  throw new Error(GONE);
}

export function validate(_spec: ModelSpec, _input: Input): { problems: Problem[] } {
  throw new Error(GONE);
}

/** A whole `ResultQuery` (newest first, one page) with `patch` applied. */
export function resultQuery(patch: Partial<ResultQuery> = {}): ResultQuery {
  return { favourites_only: false, sort: 'date', desc: true, limit: 120, offset: 0, ...patch };
}
