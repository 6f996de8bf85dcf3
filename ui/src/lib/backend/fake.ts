// An in-memory Backend, so the window runs in a plain browser (`npm run dev`, `vite preview`)
// and in tests without the Rust shell. It serves the real catalogue (crates/kie/catalogue),
// validates and prices like the core, and moves tasks along with timers: sending, waiting in
// Kie's queue, generating with progress, downloading, ready. Results have no real media:
// `mediaUrl` draws a placeholder picture.
//
// To see the other outcomes, put a word in square brackets in the prompt (or scene, or
// character description): [fail], [unknown], [paused], [credits], [stale].
//
// The library side: `many` fills the gallery with thousands of made-up results (for the
// virtual grid), `seed` also leaves the library with problems to repair (two videos missing
// from disk, two files no result points at), posters captured by the window are kept and
// shown, and `export_result` "copies" into `exportDir` (null: the user cancels the dialog).

import rawCatalogue from '../../../../crates/kie/catalogue/models.json';
import type { ApiError } from '../bindings/ApiError';
import type { ApiErrorCode } from '../bindings/ApiErrorCode';
import type { AppInfo } from '../bindings/AppInfo';
import type { Character } from '../bindings/Character';
import type { CharacterView } from '../bindings/CharacterView';
import type { Health } from '../bindings/Health';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { Problem } from '../bindings/Problem';
import type { ProgressEvent } from '../bindings/ProgressEvent';
import type { ResultQuery } from '../bindings/ResultQuery';
import type { ResultRow } from '../bindings/ResultRow';
import type { ResultView } from '../bindings/ResultView';
import type { Task } from '../bindings/Task';
import type { UploadedImage } from '../bindings/UploadedImage';
import { creditsToUsd } from '../logic/format';
import { taskSubject } from '../logic/tasks';
import { estimateCredits, normalizeModel, validate, type RawModel } from './fake-validate';
import type { Backend, Input, Unsubscribe } from './types';

export interface FakeOptions {
  /** Start with the demo running. */
  demo?: boolean;
  /** Start with a key saved (ready, not demo). */
  keySet?: boolean;
  /** Fill the queue, gallery and characters with examples in every state (for screenshots). */
  seed?: boolean;
  /** Milliseconds between two steps of a task (default 700). */
  step?: number;
  /** Milliseconds each command takes (default 120). */
  latency?: number;
  /** The starting balance (default 10,000 credits). */
  credits?: number;
  /** Fill the library with this many made-up older results (thousands are fine). */
  many?: number;
  /** Where `export_result` puts files (default ~/Videos); null: the user cancels the dialog. */
  exportDir?: string | null;
  /** `get_balance` fails as if the network were gone. */
  offline?: boolean;
  /** `AppInfo.media_base`: where videos play from (a local server for real files), else none. */
  mediaBase?: string | null;
}

const LIBRARY = '/home/you/Kie Studio';
const DEMO_LIBRARY = '/home/you/Kie Studio/demo';
const VERSION = '0.1.0 (browser preview)';
const EXPORT_DIR = '/home/you/Videos';

/** Words of a text as the full-text index sees them (lower case, letters and digits). */
function words(text: string | null | undefined): string[] {
  return (text ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * As `search::match_expression` and the FTS index: every typed word is a prefix, all must
 * match within one document (the prompt, or the notes). Nothing searchable: no filter.
 */
export function fakeSearchMatches(search: string, docs: Array<string | null | undefined>): boolean {
  const terms = search
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, 16)
    .map(words)
    .filter((t) => t.length > 0);
  if (terms.length === 0) return true;
  return docs.some((doc) => {
    const ws = words(doc);
    // A quoted phrase of several tokens ("snow-rob"): consecutive words, the last a prefix.
    return terms.every((t) =>
      ws.some((_, i) => t.every((tok, j) => (j === t.length - 1 ? ws[i + j]?.startsWith(tok) : ws[i + j] === tok))),
    );
  });
}

/** base64 → the first bytes, to tell an image from anything else. */
function sniffImage(base64: string): 'jpg' | 'png' | 'webp' | null {
  let head: string;
  try {
    head = atob(base64.slice(0, 24));
  } catch {
    return null;
  }
  const b = (i: number) => head.charCodeAt(i);
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpg';
  if (head.startsWith('\x89PNG')) return 'png';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'webp';
  return null;
}

// Made-up prompts for a big library.
const SUBJECTS = [
  'A red fox', 'An old lighthouse keeper', 'A tiny robot', 'Two kids on bikes', 'A paper boat', 'A golden retriever',
  'A street musician', 'A hot air balloon', 'A sleepy cat', 'A chef', 'A skateboarder', 'A whale', 'An astronaut',
  'A vintage car', 'A ballet dancer', 'A flock of birds', 'A barista', 'A knight in armour', 'A snowboarder', 'A hummingbird',
];
const ACTIONS = [
  'walks through', 'drifts over', 'dances in', 'races across', 'sleeps beside', 'explores', 'waves from', 'cooks in',
  'glides above', 'sings in', 'jumps over', 'looks out over',
];
const PLACES = [
  'a snowy forest', 'a neon city at night', 'a quiet beach at sunrise', 'a busy market', 'the surface of the moon',
  'a field of sunflowers', 'a rainy street', 'an old library', 'a misty harbour', 'a desert canyon', 'a jazz bar',
  'a mountain lake', 'a cherry blossom park', 'a space station',
];
const STYLES = [
  'cinematic, slow motion', 'handheld camera, warm light', 'wide aerial shot', 'soft pastel colours', 'golden hour',
  'documentary style', 'dreamy, shallow depth of field', 'time-lapse', 'close-up, 35 mm film', '',
];
const NOTES = ['client pick', 'use for the intro', 'keep — best one', 'too dark, redo', 'for Instagram', 'music video idea'];

function apiError(code: ApiErrorCode, message: string, problems: Problem[] = []): ApiError {
  return { code, message, problems };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function hexId(n = 32): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/** A placeholder picture for any path: a soft gradient whose colour follows the path. */
function placeholderImage(path: string): string {
  let h = 0;
  for (const c of path) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  const hue2 = (hue + 40) % 360;
  const name = path.split('/').pop() ?? '';
  const tall = /portrait/.test(path);
  const [w, hgt] = tall ? [180, 320] : [320, 180];
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">` +
    `<stop offset="0" stop-color="hsl(${hue},70%,72%)"/><stop offset="1" stop-color="hsl(${hue2},65%,48%)"/>` +
    `</linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>` +
    `<circle cx="${w * 0.72}" cy="${hgt * 0.3}" r="${Math.min(w, hgt) * 0.12}" fill="hsla(${hue},90%,95%,0.7)"/>` +
    `<path d="M0 ${hgt * 0.78} Q ${w * 0.3} ${hgt * 0.55} ${w * 0.55} ${hgt * 0.75} T ${w} ${hgt * 0.7} V ${hgt} H 0 Z" fill="hsla(${hue2},60%,30%,0.45)"/>` +
    `<text x="10" y="${hgt - 10}" font-family="sans-serif" font-size="11" fill="rgba(255,255,255,0.85)">${name.replace(/[<&>]/g, '')}</text>` +
    `</svg>`;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

type Listener<T> = Set<(v: T) => void>;

export function createFakeBackend(opts: FakeOptions = {}): Backend {
  const step = opts.step ?? 700;
  const latency = opts.latency ?? 120;
  const catalogue: ModelSpec[] = (rawCatalogue as unknown as { models: RawModel[] }).models.map(normalizeModel);

  const state = {
    demo: !!opts.demo,
    key: opts.keySet ? { last4: 'a1b2' } : (null as { last4: string } | null),
    credits: opts.credits ?? 10_000,
    tasks: [] as Task[],
    results: [] as ResultView[],
    characters: [] as Character[],
    nextTask: 1,
    nextResult: 1,
    nextCharacter: 1,
    /** Per task: the outcome chosen from the prompt's [word]. */
    plans: new Map<number, string>(),
    timers: new Map<number, ReturnType<typeof setTimeout>>(),
    downloads: new Map<number, number>(),
    /** Results whose file is gone from disk (library_health reports them). */
    missing: new Set<number>(),
    /** Files under media/ no result points at. */
    orphans: [] as string[],
    /** Posters the window captured, by relative path (shown as they were saved). */
    posterData: new Map<string, string>(),
    exportDir: opts.exportDir === undefined ? EXPORT_DIR : opts.exportDir,
    offline: !!opts.offline,
  };

  const listeners = {
    task: new Set() as Listener<Task>,
    result: new Set() as Listener<ResultRow>,
    character: new Set() as Listener<Character>,
    key: new Set() as Listener<void>,
    progress: new Set() as Listener<ProgressEvent>,
  };

  const on = <T>(set: Listener<T>, cb: (v: T) => void): Unsubscribe => {
    set.add(cb);
    return () => set.delete(cb);
  };
  const emit = <T>(set: Listener<T>, v: T) => {
    for (const cb of [...set]) cb(clone(v));
  };

  const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const cmd = async <T>(f: () => T | Promise<T>): Promise<T> => {
    await wait(latency);
    return clone(await f());
  };

  const ready = () => state.demo || state.key !== null;
  const library = () => (state.demo ? DEMO_LIBRARY : LIBRARY);
  const info = (): AppInfo => ({
    version: VERSION,
    ready: ready(),
    demo: state.demo,
    library_path: library(),
    media_base: opts.mediaBase ?? null,
    key: state.key ? { set: true, source: 'keyring', last4: state.key.last4 } : { set: false, source: null, last4: null },
  });
  const requireReady = () => {
    if (!ready()) throw apiError('not_ready', 'Add your Kie key or start the demo first.');
  };

  const findTask = (id: number): Task => {
    const t = state.tasks.find((x) => x.id === id);
    if (!t) throw apiError('not_found', `There is no task ${id}.`);
    return t;
  };

  const update = (task: Task, patch: Partial<Task>) => {
    Object.assign(task, patch, { updated_at: Date.now() });
    emit(listeners.task, task);
  };

  const model = (id: string) => catalogue.find((m) => m.id === id);

  // ---- characters ----
  const addCharacterRow = (handle: string, characterId: string | null, prompt: string | null, origin: number | null) => {
    const h = handle.trim().replace(/^@/, '');
    if (!h || h.length > 40 || /[\s@]/.test(h)) {
      throw apiError('invalid_input', `A character handle must be 1 to 40 characters without spaces, not "${handle}".`);
    }
    if (state.characters.some((c) => c.handle.toLowerCase() === h.toLowerCase())) {
      throw apiError('duplicate_handle', `The handle @${h} is already taken.`);
    }
    const c: Character = {
      id: state.nextCharacter++,
      handle: h,
      character_id: characterId,
      prompt,
      safety_instruction: null,
      origin_task_id: origin,
      created_at: Date.now(),
    };
    state.characters.unshift(c);
    return c;
  };

  // ---- results ----
  const addResult = (task: Task) => {
    const spec = model(task.model);
    const id = state.nextResult++;
    const shape = task.input.aspect_ratio === 'portrait' ? 'portrait' : 'landscape';
    const isCharacter = spec?.output === 'character';
    const row: ResultRow = {
      id,
      task_id: task.id,
      idx: 0,
      kind: isCharacter ? 'character' : 'video',
      path: isCharacter ? null : `media/demo/task-${task.id}-${shape}.mp4`,
      size: isCharacter ? null : 2_400_000,
      sha256: null,
      poster_path: isCharacter ? null : `posters/task-${task.id}-${shape}.jpg`,
      favourite: false,
      notes: null,
      text_json: null,
      source_url: null,
      created_at: Date.now(),
    };
    if (isCharacter) {
      const wanted = typeof task.input.character_user_name === 'string' ? task.input.character_user_name : '';
      let handle = wanted || `char${hexId(4)}.demo`;
      if (state.characters.some((c) => c.handle.toLowerCase() === handle.toLowerCase())) handle = `${handle}_${hexId(2)}`;
      const prompt = typeof task.input.character_prompt === 'string' ? task.input.character_prompt : null;
      const ch = addCharacterRow(handle, `char_${hexId(12)}`, prompt, task.id);
      row.text_json = { character_id: ch.character_id, character_user_name: ch.handle };
      emit(listeners.character, ch);
    }
    state.results.unshift({
      ...row,
      model: task.model,
      prompt: taskSubject(task) || null,
      task_status: task.status,
      credits_estimated: task.credits_estimated,
      credits_consumed: task.credits_consumed,
      task_created_at: task.created_at,
      task_finished_at: task.finished_at,
      demo: task.demo,
    });
    emit(listeners.result, row);
  };

  const findResult = (id: number): ResultView => {
    const r = state.results.find((x) => x.id === id);
    if (!r) throw apiError('not_found', `There is no result ${id}.`);
    return r;
  };

  /** The plain row of a gallery entry. */
  const rowOf = (v: ResultView): ResultRow => ({
    id: v.id,
    task_id: v.task_id,
    idx: v.idx,
    kind: v.kind,
    path: v.path,
    size: v.size,
    sha256: v.sha256,
    poster_path: v.poster_path,
    favourite: v.favourite,
    notes: v.notes,
    text_json: v.text_json,
    source_url: v.source_url,
    created_at: v.created_at,
  });

  /** As `library::list_results` and `count_results`. */
  const queryResults = (q: Partial<ResultQuery>): { items: ResultView[]; total: number } => {
    let items = state.results.filter((r) => {
      if (q.kind && r.kind !== q.kind) return false;
      if (q.model && r.model !== q.model) return false;
      if (q.favourites_only && !r.favourite) return false;
      if (q.from_ms !== undefined && q.from_ms !== null && r.created_at < q.from_ms) return false;
      if (q.to_ms !== undefined && q.to_ms !== null && r.created_at >= q.to_ms) return false;
      if (q.search && !fakeSearchMatches(q.search, [r.prompt, r.notes])) return false;
      return true;
    });
    const desc = q.desc ?? true;
    const dir = desc ? -1 : 1;
    const byDate = (a: ResultView, b: ResultView) => (a.created_at - b.created_at || a.id - b.id) * dir;
    if ((q.sort ?? 'date') === 'cost') {
      const cost = (r: ResultView) => r.credits_consumed ?? r.credits_estimated;
      items = items.sort((a, b) => {
        const ca = cost(a);
        const cb = cost(b);
        if (ca === null || cb === null) {
          if (ca !== cb) return ca === null ? 1 : -1;
        } else if (ca !== cb) {
          return (ca - cb) * dir;
        }
        return b.created_at - a.created_at || b.id - a.id;
      });
    } else {
      items = items.sort(byDate);
    }
    const offset = q.offset ?? 0;
    const limit = q.limit ?? 100;
    return { items: items.slice(offset, offset + limit), total: items.length };
  };

  const health = (): Health => ({
    missing: state.results.filter((r) => state.missing.has(r.id)).map(rowOf),
    orphans: [...state.orphans].sort(),
    partials: [],
  });

  const characterView = (c: Character): CharacterView => {
    // As `gallery::characters_with_posters`: a character made here points at its
    // characters-pro task, whose input names the video's Kie id.
    let video: Task | undefined = c.origin_task_id === null ? undefined : state.tasks.find((t) => t.id === c.origin_task_id);
    const kie = video?.input.origin_task_id;
    if (typeof kie === 'string') video = state.tasks.find((t) => t.kie_task_id === kie);
    const poster = video ? state.results.find((r) => r.task_id === video!.id && r.kind === 'video')?.poster_path ?? null : null;
    return { ...c, poster_path: poster, origin_video_task_id: video?.id ?? null };
  };

  // ---- the life of a task ----
  const schedule = (task: Task, f: () => void, ms = step) => {
    clearTimeout(state.timers.get(task.id));
    state.timers.set(
      task.id,
      setTimeout(() => {
        state.timers.delete(task.id);
        f();
      }, ms),
    );
  };

  const advance = (task: Task) => {
    const plan = state.plans.get(task.id) ?? 'ok';
    if (task.status === 'succeeded' && !task.downloads_done) {
      const done = (state.downloads.get(task.id) ?? 0) + 1_000_000;
      const total = 2_400_000;
      if (done >= total) {
        emit(listeners.progress, { type: 'download', task_id: task.id, idx: 0, done: total, total });
        update(task, { downloads_done: true });
        addResult(task);
        return;
      }
      state.downloads.set(task.id, done);
      emit(listeners.progress, { type: 'download', task_id: task.id, idx: 0, done, total });
      schedule(task, () => advance(task));
      return;
    }
    if (task.status !== 'running' || task.stale) return;
    const s = task.kie_state;
    if (s === 'waiting') {
      update(task, { kie_state: 'queuing' });
      emit(listeners.progress, { type: 'task', task_id: task.id, kie_state: 'queuing', progress: 0 });
    } else if (s === 'queuing') {
      if (plan === 'stale') {
        update(task, { stale: true });
        return;
      }
      update(task, { kie_state: 'generating', progress: 5 });
    } else if (s === 'generating') {
      const p = Math.min(100, (task.progress ?? 0) + 19);
      if (plan === 'fail' && p >= 40) {
        update(task, {
          status: 'failed',
          progress: null,
          kie_state: 'fail',
          finished_at: Date.now(),
          fail_code: '501',
          fail_message: 'The prompt was flagged by the content rules.',
          error_code: 'generation_failed',
          credits_consumed: 0,
        });
        return;
      }
      if (p >= 100) {
        const spent = task.credits_estimated ?? 0;
        state.credits = Math.max(0, state.credits - spent);
        update(task, {
          status: 'succeeded',
          kie_state: 'success',
          progress: 100,
          finished_at: Date.now(),
          credits_consumed: spent,
          result_json: { resultUrls: [`https://files.example.com/${task.kie_task_id}/video.mp4`] },
          downloads_done: false,
        });
      } else {
        // Progress arrives over the channel between task records, as the shell throttles it.
        task.progress = p;
        emit(listeners.progress, { type: 'task', task_id: task.id, kie_state: 'generating', progress: p });
      }
    }
    schedule(task, () => advance(task));
  };

  const startRunning = (task: Task, kieId: string) => {
    update(task, {
      status: 'running',
      kie_task_id: kieId,
      kie_state: 'waiting',
      progress: 0,
      submitted_at: Date.now(),
      stale: false,
      error_code: null,
      fail_message: null,
    });
    schedule(task, () => advance(task));
  };

  const planFor = (input: Input): string => {
    const text = JSON.stringify(input).toLowerCase();
    for (const word of ['fail', 'unknown', 'paused', 'credits', 'stale']) {
      if (text.includes(`[${word}]`)) return word;
    }
    return 'ok';
  };

  const submit = (modelId: string, input: Input): Task => {
    requireReady();
    const spec = model(modelId);
    if (!spec) {
      throw apiError('invalid_input', `"${modelId}" is not a model this app knows.`, [
        { field: 'model', rule: 'unknown_model', message: `"${modelId}" is not a model this app knows.` },
      ]);
    }
    const { problems, normalized } = validate(spec, input);
    if (problems.length) {
      throw apiError('invalid_input', problems.map((p) => p.message).join('\n'), problems);
    }
    const now = Date.now();
    const task: Task = {
      ...newTask(state.nextTask++, modelId, normalized, now),
      credits_estimated: estimateCredits(spec, normalized),
    };
    state.tasks.unshift(task);
    const plan = planFor(input);
    state.plans.set(task.id, plan);
    emit(listeners.task, task);

    const cost = task.credits_estimated ?? 0;
    if (plan === 'credits' || cost > state.credits) {
      update(task, {
        status: 'failed',
        finished_at: Date.now(),
        fail_code: '402',
        fail_message: 'Credits insufficient',
        error_code: 'insufficient_credits',
        credits_consumed: 0,
      });
    } else if (plan === 'paused') {
      update(task, {
        status: 'failed',
        finished_at: Date.now(),
        fail_code: '500',
        fail_message: 'This interface is temporarily paused.',
        error_code: 'model_paused',
        credits_consumed: 0,
      });
    } else if (plan === 'unknown') {
      update(task, {
        status: 'outcome_unknown',
        fail_message: 'Kie did not answer in time, so it may or may not have this task.',
        error_code: 'outcome_unknown',
      });
    } else {
      startRunning(task, hexId());
    }
    return task;
  };

  // ---- examples for screenshots ----
  /** A task as the journal writes it before sending: every field at its starting value. */
  const newTask = (id: number, modelId: string, input: Input, createdAt: number): Task => ({
    id,
    model: modelId,
    input,
    status: 'submitting',
    kie_task_id: null,
    kie_state: null,
    progress: null,
    created_at: createdAt,
    submitted_at: null,
    updated_at: createdAt,
    finished_at: null,
    fail_code: null,
    fail_message: null,
    error_code: null,
    credits_estimated: null,
    credits_consumed: null,
    result_json: null,
    downloads_done: false,
    stale: false,
    next_poll_at: null,
    poll_errors: 0,
    demo: state.demo,
  });

  const seedCharacters = () => {
    if (state.characters.length) return;
    addCharacterRow('sky_ranger', 'char_7f3a91c2', 'weathered park ranger, green jacket, calm voice', null);
    addCharacterRow('barista_bo', 'char_2b8e44d0', 'cheerful barista, green apron, warm smile', null);
    addCharacterRow('skipper.mae', 'char_91aa0c3e', 'retired sea captain with a white beard', null);
  };

  const seedExamples = () => {
    seedCharacters();
    const now = Date.now();
    const base = (id: number, modelId: string, input: Input, minutesAgo: number): Task => ({
      ...newTask(id, modelId, input, now - minutesAgo * 60_000),
      status: 'running',
      kie_task_id: hexId(),
      kie_state: 'generating',
      submitted_at: now - minutesAgo * 60_000 + 800,
      updated_at: now,
      credits_estimated: estimateCredits(model(modelId)!, input),
    });
    const t2v = 'sora-2-text-to-video';
    const examples: Task[] = [
      { ...base(9, t2v, { prompt: 'A paper boat drifts down a rainy street at night, neon reflections', n_frames: '10' }, 0.7), progress: 45 },
      { ...base(8, 'sora-2-pro-text-to-video', { prompt: 'Slow aerial shot over misty pine forest at sunrise', size: 'high' }, 1.2), kie_state: 'waiting', progress: 0 },
      { ...base(7, t2v, { prompt: 'A corgi surfing a small wave, sunny beach, handheld camera' }, 3), status: 'succeeded', kie_state: 'success', progress: 100, finished_at: now - 40_000 },
      { ...base(6, 'sora-2-pro-storyboard', { shots: [{ Scene: 'A lighthouse keeper climbs the stairs', duration: 5 }], n_frames: '10' }, 14), status: 'succeeded', downloads_done: true, finished_at: now - 11 * 60_000 },
      { ...base(5, t2v, { prompt: 'A tiny astronaut waters a plant on the moon' }, 25), status: 'failed', error_code: 'insufficient_credits', fail_message: 'Credits insufficient', finished_at: now - 25 * 60_000 + 2000, credits_consumed: 0 },
      { ...base(4, 'sora-2-image-to-video', { prompt: 'The old photo slowly comes to life, people start waving', image_urls: ['https://uploads.example.com/family.jpg'] }, 40), status: 'outcome_unknown', kie_task_id: null, error_code: 'outcome_unknown', fail_message: 'The connection broke after the task was sent.' },
      { ...base(3, t2v, { prompt: 'Time-lapse of a city skyline from day to night' }, 190), stale: true },
      { ...base(2, t2v, { prompt: 'A cat plays piano in a jazz bar' }, 300), status: 'cancelled', updated_at: now - 290 * 60_000 },
      { ...base(1, t2v, { prompt: 'Waves crash on black sand, slow motion, golden hour', aspect_ratio: 'portrait' }, 60 * 26), status: 'succeeded', downloads_done: true, finished_at: now - (60 * 26 - 3) * 60_000, credits_consumed: 30 },
    ];
    state.tasks = examples;
    state.nextTask = 10;
    state.downloads.set(7, 1_440_000);
    for (const t of [...examples].reverse()) {
      if (t.status === 'succeeded' && t.downloads_done) {
        t.credits_consumed = t.credits_consumed ?? t.credits_estimated;
        addResult(t);
      }
    }
  };

  /** Thousands of older results, as a library grows over a year or two. */
  const seedMany = (n: number) => {
    const models = catalogue.filter((m) => m.output === 'video' && m.fields.some((f) => f.name === 'prompt' || f.name === 'shots'));
    const charModel = catalogue.find((m) => m.output === 'character');
    const now = Date.now();
    const oldest = state.results.length ? Math.min(...state.results.map((r) => r.created_at)) : now;
    let rnd = 1234567;
    const rand = () => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      return rnd / 0x7fffffff;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    for (let i = 0; i < n; i++) {
      const created = oldest - (i + 1) * 97 * 60_000 - Math.floor(rand() * 50 * 60_000);
      const isChar = !!charModel && i % 37 === 36;
      const spec = isChar ? charModel! : pick(models);
      const prompt = `${pick(SUBJECTS)} ${pick(ACTIONS)} ${pick(PLACES)}${(() => {
        const st = pick(STYLES);
        return st ? `, ${st}` : '';
      })()}`;
      const portrait = rand() < 0.25;
      const input: Input = spec.fields.some((f) => f.name === 'shots')
        ? { shots: [{ Scene: prompt, duration: 10 }], n_frames: '10', aspect_ratio: portrait ? 'portrait' : 'landscape' }
        : isChar
          ? { origin_task_id: hexId(), character_prompt: prompt, character_user_name: `cast_${i}` }
          : { prompt, n_frames: rand() < 0.7 ? '10' : '15', aspect_ratio: portrait ? 'portrait' : 'landscape' };
      const credits = estimateCredits(spec, input);
      const task: Task = {
        ...newTask(state.nextTask++, spec.id, input, created - 180_000),
        status: 'succeeded',
        kie_task_id: hexId(),
        kie_state: 'success',
        progress: 100,
        submitted_at: created - 179_000,
        updated_at: created,
        finished_at: created - 5_000,
        credits_estimated: credits,
        credits_consumed: credits,
        downloads_done: true,
      };
      state.tasks.push(task);
      const shape = portrait ? 'portrait' : 'landscape';
      const ym = new Date(created).toISOString().slice(0, 7).replace('-', '/');
      state.results.push({
        id: state.nextResult++,
        task_id: task.id,
        idx: 0,
        kind: isChar ? 'character' : 'video',
        path: isChar ? null : `media/${ym}/task-${task.id}-0.mp4`,
        size: isChar ? null : 1_500_000 + Math.floor(rand() * 6_000_000),
        sha256: null,
        // Some videos came without a first frame: the window captures their poster.
        poster_path: isChar || i % 9 === 4 ? null : `posters/task-${task.id}-0-${shape}.jpg`,
        favourite: rand() < 0.06,
        notes: rand() < 0.04 ? pick(NOTES) : null,
        text_json: isChar ? { character_id: `char_${hexId(8)}`, character_user_name: `cast_${i}` } : null,
        source_url: null,
        created_at: created,
        model: spec.id,
        prompt,
        task_status: 'succeeded',
        credits_estimated: credits,
        credits_consumed: credits,
        task_created_at: task.created_at,
        task_finished_at: task.finished_at,
        demo: state.demo,
      });
    }
  };

  /** A library with problems to repair: files gone from disk, files without a record. */
  const seedProblems = () => {
    const videos = state.results.filter((r) => r.kind === 'video' && r.path);
    const gone = videos.slice(-2);
    for (const r of gone) state.missing.add(r.id);
    // One of them was moved aside under its app name: a rescan links it back.
    if (gone[0]) state.orphans.push(`media/recovered/task-${gone[0].task_id}-${gone[0].idx}.mp4`);
    state.orphans.push('media/holiday-edit-final.mp4');
  };

  if (opts.seed) {
    seedExamples();
    // Characters made from seeded videos show their poster.
    const mae = state.characters.find((c) => c.handle === 'skipper.mae');
    if (mae) mae.origin_task_id = 1;
    const ranger = state.characters.find((c) => c.handle === 'sky_ranger');
    if (ranger) ranger.origin_task_id = 6;
  } else if (state.demo) seedCharacters();
  if (opts.many) seedMany(opts.many);
  if (opts.seed) seedProblems();

  const backend: Backend = {
    kind: 'fake',
    getAppInfo: () => cmd(info),
    setKey: (key) =>
      cmd(() => {
        const k = key.trim();
        if (k.length < 8 || /bad|wrong/i.test(k)) {
          throw apiError('unauthorized', 'Kie did not accept this key (401: You do not have access permissions).');
        }
        state.key = { last4: k.slice(-4) };
        state.demo = false;
        return { last4: state.key.last4, credits: state.credits };
      }),
    deleteKey: () =>
      cmd(() => {
        state.key = null;
        return info();
      }),
    startDemo: () =>
      cmd(() => {
        state.demo = true;
        seedCharacters();
        return info();
      }),
    getCatalogue: () => cmd(() => catalogue),
    checkInput: (modelId, input) =>
      cmd(() => {
        const spec = model(modelId);
        if (!spec) throw apiError('invalid_input', `"${modelId}" is not a model this app knows.`);
        const { problems, normalized } = validate(spec, input);
        const credits = estimateCredits(spec, normalized);
        return { problems, credits, usd: credits === null ? null : creditsToUsd(credits) };
      }),
    getBalance: () =>
      cmd(() => {
        requireReady();
        if (state.offline) throw apiError('connection', 'Could not reach Kie.');
        return { credits: state.credits, usd: creditsToUsd(state.credits) };
      }),
    submitTask: (modelId, input) => cmd(() => submit(modelId, input)),
    listTasks: (limit) => cmd(() => state.tasks.slice(0, limit)),
    getTask: (id) => cmd(() => findTask(id)),
    cancelTask: (id) =>
      cmd(() => {
        const t = findTask(id);
        if (t.status !== 'running' && t.status !== 'outcome_unknown') {
          throw apiError('refused', `Task ${id} is ${t.status}; only running tasks can be cancelled.`);
        }
        clearTimeout(state.timers.get(id));
        update(t, { status: 'cancelled', finished_at: null });
        return t;
      }),
    checkTaskAgain: (id) =>
      cmd(() => {
        const t = findTask(id);
        if (t.status !== 'running' && !(t.status === 'succeeded' && !t.downloads_done)) {
          throw apiError('refused', `Task ${id} is ${t.status}; only running tasks can be checked again.`);
        }
        if (t.stale) {
          state.plans.set(id, 'ok');
          update(t, { stale: false, kie_state: 'generating', progress: t.progress ?? 10 });
        }
        schedule(t, () => advance(t), Math.min(step, 200));
        return t;
      }),
    resubmitTask: (id) =>
      cmd(() => {
        const t = findTask(id);
        return submit(t.model, t.input);
      }),
    attachKieId: (id, kieTaskId) =>
      cmd(() => {
        const t = findTask(id);
        const kid = kieTaskId.trim();
        if (!kid) throw apiError('invalid_input', 'Enter the Kie task id.');
        if (state.tasks.some((x) => x.kie_task_id === kid && x.id !== id)) {
          throw apiError('kie_id_in_use', `Kie task ${kid} already belongs to task ${id}.`);
        }
        if (t.status !== 'outcome_unknown' && !(t.status === 'cancelled' && !t.kie_task_id)) {
          throw apiError('invalid_transition', `Task ${id} is ${t.status}.`);
        }
        state.plans.set(id, 'ok');
        startRunning(t, kid);
        return t;
      }),
    pickImages: async (onProgress) => {
      await wait(latency);
      const n = state.nextResult + state.nextTask;
      const files = [
        { name: 'beach.jpg', size: 1_840_000 },
        { name: 'portrait.png', size: 920_000 },
      ];
      const out: UploadedImage[] = [];
      for (const f of files) {
        for (let i = 1; i <= 4; i++) {
          await wait(Math.min(step / 4, 150));
          onProgress({ name: f.name, done: Math.round((f.size * i) / 4), total: f.size });
        }
        const stored = `${n}-${f.name}`;
        out.push({
          url: `https://uploads.example.com/kie-studio/${stored}`,
          name: f.name,
          local_path: `uploads/${stored}`,
          size: f.size,
        });
      }
      return out;
    },
    listResults: (query) => cmd(() => queryResults(query)),
    getResult: (id) =>
      cmd(() => {
        const view = findResult(id);
        return { view, task: findTask(view.task_id), file_present: !view.path || !state.missing.has(id) };
      }),
    setFavourite: (id, favourite) =>
      cmd(() => {
        const r = findResult(id);
        r.favourite = favourite;
        return rowOf(r);
      }),
    setNotes: (id, notes) =>
      cmd(() => {
        const r = findResult(id);
        r.notes = notes && notes.trim() ? notes : null;
        return rowOf(r);
      }),
    deleteResult: (id) =>
      cmd(() => {
        const i = state.results.findIndex((x) => x.id === id);
        if (i === -1) throw apiError('not_found', `There is no result ${id}.`);
        const [r] = state.results.splice(i, 1);
        state.missing.delete(id);
        return rowOf(r);
      }),
    exportResult: (id) =>
      cmd(() => {
        const r = findResult(id);
        if (state.exportDir === null) return null;
        if (!r.path || state.missing.has(id)) throw apiError('io', 'The video file is not on disk.');
        const stem = (words(r.prompt).slice(0, 6).join('-') || 'video') + `-${r.task_id}`;
        return { video: `${state.exportDir}/${stem}.mp4`, sidecar: `${state.exportDir}/${stem}.json` };
      }),
    revealResult: (id) =>
      cmd(() => {
        findResult(id);
      }),
    savePoster: (id, image) =>
      cmd(() => {
        const r = findResult(id);
        const ext = sniffImage(image);
        if (!ext) throw apiError('refused', 'A poster must be a JPEG, PNG or WebP image.');
        const rel = `posters/task-${r.task_id}-${r.idx}-poster.${ext}`;
        state.posterData.set(rel, `data:image/${ext === 'jpg' ? 'jpeg' : ext};base64,${image}`);
        r.poster_path = rel;
        return rowOf(r);
      }),
    libraryHealth: () => cmd(health),
    rescanLibrary: () =>
      cmd(() => {
        const relinked: string[] = [];
        for (const rel of [...state.orphans]) {
          const m = /(?:^|\/)task-(\d+)-(\d+)\.[a-z0-9]+$/.exec(rel);
          if (!m) continue;
          const r = state.results.find((x) => x.task_id === Number(m[1]) && x.idx === Number(m[2]));
          if (!r) continue;
          r.path = rel;
          state.missing.delete(r.id);
          state.orphans = state.orphans.filter((o) => o !== rel);
          relinked.push(rel);
        }
        return { relinked, found: [], health: health() };
      }),
    listCharacters: () => cmd(() => state.characters.map(characterView)),
    completeCharacters: (prefix, limit) =>
      cmd(() => {
        const p = prefix.trim().replace(/^@/, '').toLowerCase();
        return state.characters.filter((c) => c.handle.toLowerCase().startsWith(p)).slice(0, limit);
      }),
    addCharacter: (handle, characterId, prompt) =>
      cmd(() => {
        const c = addCharacterRow(handle, characterId, prompt, null);
        emit(listeners.character, c);
        return c;
      }),
    removeCharacter: (id) =>
      cmd(() => {
        const i = state.characters.findIndex((c) => c.id === id);
        if (i === -1) throw apiError('not_found', `There is no character ${id}.`);
        return state.characters.splice(i, 1)[0];
      }),
    onTaskChanged: (cb) => on(listeners.task, cb),
    onResultAdded: (cb) => on(listeners.result, cb),
    onCharacterAdded: (cb) => on(listeners.character, cb),
    onKeyRejected: (cb) => on(listeners.key, () => cb()),
    watchProgress: (cb) => on(listeners.progress, cb),
    mediaUrl: (absPath) => {
      for (const [rel, data] of state.posterData) if (absPath.endsWith(`/${rel}`)) return data;
      return placeholderImage(absPath);
    },
  };
  return backend;
}

/** For tests: a fake whose answers are immediate and whose tasks move fast. */
export function createFastFake(opts: FakeOptions = {}): Backend {
  return createFakeBackend({ step: 15, latency: 0, ...opts });
}
