// The window's shared state: app info, catalogue, balance, the queue (live from events and
// the progress channel), results and characters. One instance, given to components through
// context (see `context.ts`).

import { tick } from 'svelte';
import type { AppInfo } from '../bindings/AppInfo';
import type { Balance } from '../bindings/Balance';
import type { Batch } from '../bindings/Batch';
import type { Character } from '../bindings/Character';
import type { CharacterView } from '../bindings/CharacterView';
import type { ModelCard } from '../bindings/ModelCard';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { ProgressEvent } from '../bindings/ProgressEvent';
import type { ResultRow } from '../bindings/ResultRow';
import type { ResultView } from '../bindings/ResultView';
import type { Task } from '../bindings/Task';
import type { StudioApi, Unsubscribe } from '../api';
import { plainErrorText, toApiError } from '../logic/errors';
import { sortTasks, thumbOrPoster, upsertTask, type DownloadProgress } from '../logic/tasks';
import { carryValues, formFromInput, initialForm } from '../logic/form';
import { libraryFile } from '../logic/format';
import { Gallery } from './gallery.svelte';
import { ModelForm } from './modelForm.svelte';

export interface ConfirmRequest {
  title: string;
  body: string;
  confirm: string;
  cancel?: string;
  danger?: boolean;
  resolve: (ok: boolean) => void;
}

export type Screen = 'create' | 'gallery' | 'characters' | 'spend' | 'settings';
export const SCREENS: Screen[] = ['create', 'gallery', 'characters', 'spend', 'settings'];

const LAST_MODEL_KEY = 'kie-studio.last-model';
/** The queue opens with the newest tasks (and every older one still open: `list_queue`); the
 *  rest come a page at a time when asked for. Each task shown costs the window memory whatever
 *  is in view (issue 11: 50 measured ~10 MiB more than 10 at 100,000 videos). */
const QUEUE_NEWEST = 12;
const QUEUE_OLDER = 24;
/** Errors that mean Kie is out of reach (the balance shows "offline", quietly). */
const OFFLINE_CODES = new Set<string>(['connection', 'timeout', 'unavailable', 'upstream_timeout', 'server_error', 'rate_limited']);
const LAST_PROMPT_MODEL_KEY = 'kie-studio.last-prompt-model';

function storageGet(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function storageSet(key: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(key, value);
  } catch {
    // Private mode or no storage: the choice is only remembered for this session.
  }
}

export class Studio {
  readonly api: StudioApi;

  info: AppInfo | null = $state(null);
  /** Set when the app could not start (e.g. the library cannot be opened). */
  startError: string | null = $state(null);
  catalogue: ModelSpec[] = $state([]);
  /**
   * The picker's cards from the core (`list_models`): family, price range, and what Kie last
   * said of each model's availability, with a live alternative. Refreshed at start, when a
   * library opens and after every submit's answer.
   */
  models: ModelCard[] = $state([]);
  balance: Balance | null = $state(null);
  balanceError: string | null = $state(null);
  /** The balance could not be fetched because Kie is out of reach (shown quietly). */
  balanceOffline = $state(false);
  tasks: Task[] = $state([]);
  /** More tasks are older than the queue shows: the id they are older than (`loadOlderTasks`). */
  queueOlderThan: number | null = $state(null);
  /** The library's batches, newest first (the queue shows those still going or stopped). */
  batches: Batch[] = $state([]);
  /** Per task, per result index: bytes downloaded. */
  downloads: Record<number, Record<number, DownloadProgress>> = $state({});
  results: ResultView[] = $state([]);
  /** The queue's picture of each task (relative to the library) by task id: the tile-sized
   *  thumb when there is one, else the poster. Never the full poster when a thumb exists: the
   *  queue holds up to 50 tasks at start-up, and decoding 50 full frames delays the first
   *  screen (issue 11). */
  posters: Record<number, string> = $state({});
  characters: CharacterView[] = $state([]);
  /** The gallery's filters, pages and scroll position (kept while the user is elsewhere). */
  readonly gallery: Gallery;
  screen: Screen = $state('create');
  queueOpen = $state(false);
  /** The clock the elapsed times tick with. */
  now = $state(Date.now());
  /** When the balance last came from Kie (it stays shown, quietly, while offline). */
  balanceAt: number | null = $state(null);
  /** Kie refused the key after it was saved. */
  keyRejected = $state(false);
  modelId: string | null = $state(null);
  /** Each model's form, made when the catalogue loads (plain map: the forms are reactive inside). */
  private forms = new Map<string, ModelForm>();

  /** The question the confirm dialog is asking, if any. */
  pendingConfirm: ConfirmRequest | null = $state(null);

  private subs: Unsubscribe[] = [];
  private ticker: ReturnType<typeof setInterval> | null = null;
  private balanceTimer: ReturnType<typeof setTimeout> | null = null;
  private resultsTimer: ReturnType<typeof setTimeout> | null = null;
  private charactersTimer: ReturnType<typeof setTimeout> | null = null;
  private modelsTimer: ReturnType<typeof setTimeout> | null = null;
  private modelsSeq = 0;
  private live = false;
  private loadedLibrary: string | null = null;
  private onFocus = () => void this.refreshBalance();

  constructor(api: StudioApi) {
    this.api = api;
    this.gallery = new Gallery(this);
  }

  get ready(): boolean {
    return !!this.info?.ready;
  }

  get model(): ModelSpec | null {
    return this.catalogue.find((m) => m.id === this.modelId) ?? null;
  }

  /** The form of `spec`, made on first use. */
  formFor(spec: ModelSpec): ModelForm {
    let f = this.forms.get(spec.id);
    if (!f) {
      f = new ModelForm(spec);
      this.forms.set(spec.id, f);
    }
    return f;
  }

  async init(opts: { screen?: Screen; model?: string } = {}): Promise<void> {
    if (opts.screen) this.screen = opts.screen;
    // Asked for with the app's state, not after it: one round trip less before the first form
    // (the catalogue does not depend on the library). Unused on the welcome screen; a failure
    // is enter's to report.
    const catalogue = this.api.getCatalogue();
    catalogue.catch(() => {});
    try {
      this.info = await this.api.getAppInfo();
      performance.mark('kie:app-info');
      this.startError = null;
    } catch (e) {
      this.startError = plainErrorText(toApiError(e).code);
      return;
    }
    if (this.info.ready) await this.enter(opts.model, catalogue);
  }

  /** After the key is saved or the demo started: load everything and go live. */
  async enter(model?: string, catalogue: Promise<ModelSpec[]> = this.api.getCatalogue()): Promise<void> {
    this.keyRejected = false;
    this.startError = null;
    // The demo and the real library are separate: what was loaded from one goes.
    const library = this.info?.library_path ?? null;
    if (library !== this.loadedLibrary) {
      this.loadedLibrary = library;
      this.tasks = [];
      this.batches = [];
      this.downloads = {};
      this.results = [];
      this.posters = {};
      this.characters = [];
      this.balance = null;
      this.balanceAt = null;
      this.gallery.reset();
    }
    this.goLive();
    // What Kie said of each model is kept per library: the cards come again with it. The form
    // does not wait for them (until they come, the picker's cards are the catalogue's).
    const models = this.loadModels();
    try {
      this.catalogue = await catalogue;
      performance.mark('kie:catalogue');
    } catch (e) {
      this.startError = plainErrorText(toApiError(e).code);
      return;
    }
    for (const m of this.catalogue) this.formFor(m);
    const wanted = model ?? this.modelId ?? storageGet(LAST_MODEL_KEY);
    this.modelId = this.catalogue.find((m) => m.id === wanted)?.id ?? this.catalogue[0]?.id ?? null;
    // The form is in the DOM (not yet painted) once Svelte has flushed this change.
    void tick().then(() => performance.mark('kie:form-rendered'));
    await Promise.all([models, this.loadTasks(), this.loadBatches(), this.refreshBalance(), this.loadResults(), this.loadCharacters()]);
  }

  // ---- the model picker ----

  /** Asks the core for the picker's cards again; an answer older than another is dropped. */
  async loadModels(): Promise<void> {
    const mine = ++this.modelsSeq;
    try {
      const cards = await this.api.listModels();
      if (mine === this.modelsSeq) this.models = cards;
    } catch (e) {
      // The cards shown stay; the catalogue still draws the picker (see `cards`).
      console.warn('list_models failed', e);
    }
  }

  /** After a create's answer: the cards again soon, once for a burst of events. */
  loadModelsSoon(ms = 100): void {
    if (this.modelsTimer) clearTimeout(this.modelsTimer);
    this.modelsTimer = setTimeout(() => {
      this.modelsTimer = null;
      void this.loadModels();
    }, ms);
  }

  /**
   * The picker's cards, in catalogue order, for the models the window can draw a form for.
   * Until `list_models` answers (or when it fails), made from the catalogue without prices.
   */
  get cards(): ModelCard[] {
    const known = new Set(this.catalogue.map((m) => m.id));
    const fromCore = this.models.filter((c) => known.has(c.id));
    if (fromCore.length > 0) return fromCore;
    return this.catalogue.map((m) => ({
      id: m.id,
      name: m.name,
      family: m.family,
      summary: m.summary,
      output: m.output,
      takes: m.takes ?? [],
      makes: m.makes ?? null,
      credits_min: null,
      credits_max: null,
      price_is_estimate: false,
      status: null,
      alternative: null,
    }));
  }

  /** A model's card (its availability, its alternative). */
  card(id: string | null | undefined): ModelCard | null {
    return this.models.find((c) => c.id === id) ?? null;
  }

  /**
   * Switches from `fromId` to another model (the live alternative the core offers for a paused
   * one), taking along what the user gave fields of the same name (the prompt…). Nothing is
   * sent: the user looks and submits.
   */
  switchModel(fromId: string, toId: string): string[] {
    const from = this.catalogue.find((m) => m.id === fromId);
    const to = this.catalogue.find((m) => m.id === toId);
    if (!to) return [];
    const carried = from ? carryValues(from, this.formFor(from).values, to, this.formFor(to).values) : [];
    const form = this.formFor(to);
    for (const name of carried) form.changed(name);
    form.notice = null;
    this.chooseModel(to.id);
    return carried;
  }

  setInfo(info: AppInfo): void {
    this.info = info;
  }

  chooseModel(id: string): void {
    this.modelId = id;
    storageSet(LAST_MODEL_KEY, id);
    if (this.catalogue.find((m) => m.id === id)?.fields.some((f) => f.name === 'prompt')) storageSet(LAST_PROMPT_MODEL_KEY, id);
  }

  /** The model a prompt was last written for (for "Use in a prompt"): the current one if it has a prompt. */
  get promptModel(): ModelSpec | null {
    const hasPrompt = (m: ModelSpec | null | undefined) => !!m && m.fields.some((f) => f.name === 'prompt');
    if (hasPrompt(this.model)) return this.model;
    const last = this.catalogue.find((m) => m.id === storageGet(LAST_PROMPT_MODEL_KEY));
    if (hasPrompt(last)) return last!;
    return this.catalogue.find((m) => m.output === 'video' && hasPrompt(m)) ?? null;
  }

  /** The model that makes characters from a video (`origin_task_id`), if the catalogue has one. */
  get characterModel(): ModelSpec | null {
    return this.catalogue.find((m) => m.output === 'character' && m.fields.some((f) => f.name === 'origin_task_id')) ?? null;
  }

  /** Opens the character maker with a finished video (its Kie task id) chosen. */
  makeCharacterFrom(kieTaskId: string): boolean {
    const spec = this.characterModel;
    if (!spec) return false;
    const form = this.formFor(spec);
    form.values = initialForm(spec);
    form.values.origin_task_id = kieTaskId;
    form.touched = [];
    form.showAll = false;
    form.notice = null;
    form.moreOpen = false;
    this.chooseModel(spec.id);
    this.go('create');
    return true;
  }

  /** Opens Create with the last prompt model and `@handle` at the end of its prompt. */
  useCharacter(c: Pick<Character, 'handle' | 'character_id'>): boolean {
    const spec = this.promptModel;
    if (!spec) return false;
    const form = this.formFor(spec);
    const prompt = typeof form.values.prompt === 'string' ? form.values.prompt : '';
    form.values.prompt = `${prompt}${prompt && !/\s$/.test(prompt) ? ' ' : ''}@${c.handle} `;
    form.mentioned(c);
    this.chooseModel(spec.id);
    this.go('create');
    return true;
  }

  go(screen: Screen): void {
    this.screen = screen;
  }

  private goLive(): void {
    if (this.live) return;
    this.live = true;
    const b = this.api;
    this.subs.push(
      b.onTaskChanged((t) => this.taskChanged(t)),
      b.onResultAdded((r) => this.resultAdded(r)),
      b.onCharacterAdded((c) => this.characterAdded(c)),
      b.onBatchChanged((batch) => this.batchChanged(batch)),
      b.onKeyRejected(() => {
        this.keyRejected = true;
      }),
      // The check after opening found the database damaged: the library was closed, and
      // the app's info now says why (the window shows the way to repair it).
      b.onLibraryDamaged(() => void this.init()),
      b.onProgress((e) => this.progress(e)),
    );
    this.ticker = setInterval(() => {
      this.now = Date.now();
    }, 1000);
    if (typeof window !== 'undefined') window.addEventListener('focus', this.onFocus);
  }

  dispose(): void {
    for (const s of this.subs) s();
    this.subs = [];
    if (this.ticker) clearInterval(this.ticker);
    if (this.balanceTimer) clearTimeout(this.balanceTimer);
    if (this.resultsTimer) clearTimeout(this.resultsTimer);
    if (this.charactersTimer) clearTimeout(this.charactersTimer);
    if (this.modelsTimer) clearTimeout(this.modelsTimer);
    this.gallery.dispose();
    if (typeof window !== 'undefined') window.removeEventListener('focus', this.onFocus);
    this.live = false;
  }

  /** Asks the user to confirm; resolves true only on the confirm button. */
  confirm(q: Omit<ConfirmRequest, 'resolve'>): Promise<boolean> {
    this.pendingConfirm?.resolve(false);
    return new Promise((resolve) => {
      this.pendingConfirm = { ...q, resolve };
    });
  }

  answerConfirm(ok: boolean): void {
    const q = this.pendingConfirm;
    this.pendingConfirm = null;
    q?.resolve(ok);
  }

  /** Puts a task's settings (or a preset's) back into its model's form, to make a variation. */
  reuse(task: Pick<Task, 'model' | 'input'>): void {
    const spec = this.catalogue.find((m) => m.id === task.model);
    if (!spec) return;
    const form = this.formFor(spec);
    form.values = formFromInput(spec, task.input);
    form.touched = [];
    form.showAll = false;
    form.notice = null;
    form.moreOpen = spec.fields.some((f) => f.advanced && task.input[f.name] !== undefined && JSON.stringify(task.input[f.name]) !== JSON.stringify(f.default ?? null));
    this.chooseModel(spec.id);
    this.go('create');
  }

  // ---- the queue ----

  async loadBatches(): Promise<void> {
    try {
      const list = await this.api.listBatches({ limit: 20 });
      // Events may have arrived meanwhile: the newer record wins.
      const byId = new Map(list.map((b) => [b.id, b]));
      for (const b of this.batches) {
        const other = byId.get(b.id);
        if (!other || b.updated_at > other.updated_at || (b.updated_at === other.updated_at && b.sent > other.sent)) byId.set(b.id, b);
      }
      this.batches = [...byId.values()].sort((a, b) => b.id - a.id);
    } catch (e) {
      console.error('list_batches failed', e);
    }
  }

  /** A batch record from an event or a command's answer. */
  batchChanged(batch: Batch): void {
    const i = this.batches.findIndex((b) => b.id === batch.id);
    if (i === -1) this.batches = [batch, ...this.batches].sort((a, b) => b.id - a.id);
    else if (batch.updated_at >= this.batches[i].updated_at) this.batches[i] = batch;
  }

  /** The gallery with only this batch's results. */
  showBatch(id: number): void {
    this.gallery.setFilters({ batch: id });
    this.go('gallery');
  }

  async loadTasks(): Promise<void> {
    try {
      const list = await this.api.listQueue({ newest: QUEUE_NEWEST, before: null });
      // The oldest of the newest (the open ones older than it follow): where "older" starts.
      const newest = list.slice(0, QUEUE_NEWEST);
      this.queueOlderThan = newest.length === QUEUE_NEWEST ? newest[newest.length - 1].id : null;
      // Events may have arrived meanwhile: the newer record wins.
      let merged = sortTasks(list);
      for (const t of this.tasks) {
        const i = merged.findIndex((x) => x.id === t.id);
        if (i === -1) merged = upsertTask(merged, t);
        else if (t.updated_at > merged[i].updated_at) merged[i] = t;
      }
      this.tasks = merged;
    } catch (e) {
      console.error('list_tasks failed', e);
    }
  }

  /** The next older tasks in the queue (the user asked for them). */
  async loadOlderTasks(): Promise<void> {
    const before = this.queueOlderThan;
    if (before === null) return;
    const page = await this.api.listQueue({ newest: QUEUE_OLDER, before });
    this.queueOlderThan = page.length === QUEUE_OLDER ? page[page.length - 1].id : null;
    // What an event brought meanwhile stays as it is.
    const known = new Set(this.tasks.map((t) => t.id));
    this.tasks = sortTasks([...this.tasks, ...page.filter((t) => !known.has(t.id))]);
  }

  /** A task record from an event or a command's answer. */
  taskChanged(task: Task): void {
    const before = this.tasks.find((t) => t.id === task.id);
    // An older record arriving late must not move a task backwards.
    if (before && before.updated_at > task.updated_at) return;
    // Progress from the channel is newer than the record while the task runs.
    if (before && task.status === 'running' && before.status === 'running' && before.kie_state === task.kie_state) {
      if ((before.progress ?? 0) > (task.progress ?? 0)) task = { ...task, progress: before.progress };
    }
    this.tasks = upsertTask(this.tasks, task);
    // A create was answered (taken, refused as paused, or unknown): Kie may have said something
    // about the model's availability.
    if (task.status !== 'submitting' && (!before || before.status === 'submitting')) this.loadModelsSoon();
    if (task.is_final && !(before && before.is_final && before.status === task.status)) {
      this.refreshBalanceSoon();
    }
  }

  private progress(e: ProgressEvent): void {
    if (e.type === 'task') {
      const t = this.tasks.find((x) => x.id === e.task_id);
      if (t && t.status === 'running') {
        if (e.kie_state !== null) t.kie_state = e.kie_state;
        if (e.progress !== null) t.progress = e.progress;
      }
    } else {
      const per = this.downloads[e.task_id] ?? {};
      per[e.idx] = { done: e.done, total: e.total };
      this.downloads[e.task_id] = per;
    }
  }

  /** A task's download progress over all its files. */
  downloadOf(taskId: number): DownloadProgress | null {
    const per = this.downloads[taskId];
    if (!per) return null;
    let done = 0;
    let total: number | null = 0;
    for (const p of Object.values(per)) {
      done += p.done;
      total = total === null || p.total === null ? null : total + p.total;
    }
    return { done, total };
  }

  // ---- balance ----

  async refreshBalance(): Promise<void> {
    if (!this.ready) return;
    try {
      this.balance = await this.api.getBalance();
      this.balanceAt = Date.now();
      this.balanceError = null;
      this.balanceOffline = false;
    } catch (e) {
      // The last known balance stays; nothing else depends on this answer.
      const err = toApiError(e);
      if (err.code === 'unauthorized') this.keyRejected = true;
      this.balanceError = plainErrorText(err.code);
      this.balanceOffline = OFFLINE_CODES.has(err.code);
    }
  }

  refreshBalanceSoon(): void {
    if (this.balanceTimer) clearTimeout(this.balanceTimer);
    this.balanceTimer = setTimeout(() => void this.refreshBalance(), 400);
  }

  // ---- results and characters ----

  async loadResults(): Promise<void> {
    try {
      const page = await this.api.listResults({ query: { favourites_only: false, sort: 'date', desc: true, limit: 100, offset: 0 } });
      this.results = page.items;
      // This page's newest picture of each task replaces what events put there (a poster
      // whose thumb was not made yet); tasks not in the page keep theirs.
      const posters: Record<number, string> = { ...this.posters };
      const seen = new Set<number>();
      for (const r of page.items) {
        const pic = thumbOrPoster(r);
        if (!pic || seen.has(r.task_id)) continue;
        seen.add(r.task_id);
        posters[r.task_id] = pic;
      }
      this.posters = posters;
    } catch (e) {
      console.error('list_results failed', e);
    }
  }

  private resultAdded(r: ResultRow): void {
    const pic = thumbOrPoster(r);
    if (pic) this.posters[r.task_id] = pic;
    if (this.resultsTimer) clearTimeout(this.resultsTimer);
    this.resultsTimer = setTimeout(() => void this.loadResults(), 150);
    this.gallery.refreshSoon();
  }

  async loadCharacters(): Promise<void> {
    try {
      this.characters = await this.api.listCharacters();
    } catch (e) {
      console.error('list_characters failed', e);
    }
  }

  private characterAdded(c: Character): void {
    if (!this.characters.some((x) => x.id === c.id)) {
      this.characters = [{ ...c, poster_path: null, origin_video_task_id: null }, ...this.characters];
    }
    // Again from the shell, for the poster of its video.
    if (this.charactersTimer) clearTimeout(this.charactersTimer);
    this.charactersTimer = setTimeout(() => void this.loadCharacters(), 300);
  }

  /**
   * A file inside the library as a URL the window can show. Paths are relative to the
   * library (results, posters, uploads' `local_path`); an absolute one is taken as it is.
   */
  media(rel: string | null | undefined): string | null {
    if (!rel || !this.info) return null;
    if (rel.startsWith('/') || /^[A-Za-z]:[\\/]/.test(rel) || rel.startsWith('\\\\')) return this.api.mediaUrl(rel);
    return this.api.mediaUrl(libraryFile(this.info.library_path, rel));
  }

  /**
   * A video inside the library as a URL the window can play: from the shell's loopback media
   * server when there is one (`media_base`; WebKitGTK cannot play video from the asset
   * protocol), else like any other file.
   */
  video(rel: string | null | undefined): string | null {
    return this.served(rel);
  }

  /**
   * A poster as a URL: from the same loopback server as videos when there is one (WebKitGTK
   * loads custom schemes on its UI thread, so many posters while scrolling would stall it),
   * else like any other file.
   */
  poster(rel: string | null | undefined): string | null {
    return this.served(rel);
  }

  /** `{media_base}/{rel}` for a library-relative path, else the asset URL. */
  private served(rel: string | null | undefined): string | null {
    if (!rel || !this.info) return null;
    const base = this.info.media_base;
    const absolute = rel.startsWith('/') || /^[A-Za-z]:[\\/]/.test(rel) || rel.startsWith('\\\\');
    if (!base || absolute) return this.media(rel);
    const path = rel.replace(/^[\\/]+/, '').split(/[\\/]/).map(encodeURIComponent).join('/');
    return `${base.replace(/\/+$/, '')}/${path}`;
  }

  /** Running tasks (for the badge on the queue button). */
  get activeCount(): number {
    return this.tasks.filter((t) => t.status === 'submitting' || t.status === 'running' || (t.status === 'succeeded' && !t.downloads_done)).length;
  }
}
