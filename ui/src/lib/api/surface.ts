// Generated from crates/studio/src/surface.rs by crates/studio/tests/generated.rs. Do not edit:
// change the surface in Rust, then `KIE_UPDATE_GENERATED=1 cargo test -p studio --test generated`.

import type { Transport, Unsubscribe } from './transport';
import type { AppInfo } from '../bindings/AppInfo';
import type { Balance } from '../bindings/Balance';
import type { Batch } from '../bindings/Batch';
import type { BatchItem } from '../bindings/BatchItem';
import type { BatchPlan } from '../bindings/BatchPlan';
import type { BatchRequest } from '../bindings/BatchRequest';
import type { Character } from '../bindings/Character';
import type { CharacterView } from '../bindings/CharacterView';
import type { Exported } from '../bindings/Exported';
import type { Folder } from '../bindings/Folder';
import type { Health } from '../bindings/Health';
import type { InputCheck } from '../bindings/InputCheck';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import type { KeyCheck } from '../bindings/KeyCheck';
import type { ModelCard } from '../bindings/ModelCard';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { Preset } from '../bindings/Preset';
import type { ProgressEvent } from '../bindings/ProgressEvent';
import type { Repaired } from '../bindings/Repaired';
import type { Rescan } from '../bindings/Rescan';
import type { ResultDetail } from '../bindings/ResultDetail';
import type { ResultPage } from '../bindings/ResultPage';
import type { ResultQuery } from '../bindings/ResultQuery';
import type { ResultRow } from '../bindings/ResultRow';
import type { SpendReport } from '../bindings/SpendReport';
import type { Task } from '../bindings/Task';
import type { UploadProgress } from '../bindings/UploadProgress';
import type { UploadedFile } from '../bindings/UploadedFile';

/** Every command, by its name on the wire. */
export const COMMANDS = [
  'get_app_info',
  'set_key',
  'delete_key',
  'start_demo',
  'get_catalogue',
  'list_models',
  'check_input',
  'get_balance',
  'get_spend',
  'submit_task',
  'plan_batch',
  'start_batch',
  'list_batches',
  'list_batch_items',
  'pause_batch',
  'resume_batch',
  'cancel_batch',
  'list_tasks',
  'list_queue',
  'get_task',
  'cancel_task',
  'check_task_again',
  'resubmit_task',
  'attach_kie_id',
  'get_hd_video',
  'pick_files',
  'list_results',
  'list_characters',
  'complete_characters',
  'add_character',
  'remove_character',
  'watch_progress',
  'get_result',
  'set_favourite',
  'set_notes',
  'delete_result',
  'export_result',
  'reveal_result',
  'open_folder',
  'save_poster',
  'library_health',
  'rescan_library',
  'repair_library',
  'list_presets',
  'save_preset',
  'delete_preset',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Every app-wide event, by its name on the wire. */
export const EVENTS = {
  taskChanged: 'studio://task-changed',
  resultAdded: 'studio://result-added',
  characterAdded: 'studio://character-added',
  batchChanged: 'studio://batch-changed',
  keyRejected: 'studio://key-rejected',
  libraryDamaged: 'studio://library-damaged',
} as const;

/** The app's surface: one function per command, one subscription per event. */
export interface Api {
  /** What the window needs at start; `ready` false: show the welcome screen. */
  getAppInfo(): Promise<AppInfo>;
  /**
   * Asks Kie for the balance first; a key Kie refuses (`unauthorized`) is not saved.
   * Opens the real library.
   */
  setKey(args: { key: string }): Promise<KeyCheck>;
  /** Removes the key from the keyring; closes the real library unless `KIE_API_KEY` gives one. */
  deleteKey(): Promise<AppInfo>;
  /** A local simulator on loopback and a separate demo library; nothing is sent or charged. */
  startDemo(): Promise<AppInfo>;
  /** The model catalogue: forms are drawn from it. */
  getCatalogue(): Promise<Array<ModelSpec>>;
  /**
   * The model picker: every model with its family, price range, and what Kie last
   * said of its availability (with a live alternative).
   */
  listModels(): Promise<Array<ModelCard>>;
  /** The core's own validation and price, for inline checks while typing. */
  checkInput(args: { model: string; input: { [key in string]: JsonValue } }): Promise<InputCheck>;
  /** Kie's balance for the key in use. */
  getBalance(): Promise<Balance>;
  /**
   * Credits per local day and per model over the last `days` days (1–366, today
   * included; every day present): Kie's `creditsConsumed`, and estimates where Kie gave
   * none but may have charged. `utc_offset_minutes`: the window's offset, east positive.
   */
  getSpend(args: { days: number; utcOffsetMinutes: number }): Promise<SpendReport>;
  /**
   * Rejects with `invalid_input` before anything is sent; otherwise the task as written
   * down (`running`, `failed` with its code, or `outcome_unknown`).
   */
  submitTask(args: { model: string; input: { [key in string]: JsonValue } }): Promise<Task>;
  /**
   * Reads and checks a whole list (or N variations of the form) without sending
   * anything: every item with its price, every problem with its line.
   */
  planBatch(args: { request: BatchRequest }): Promise<BatchPlan>;
  /**
   * Checks the whole list again (`invalid_input`, each field named `lines[N].field`,
   * nothing written), uploads its local files, writes the batch down and starts sending
   * it, in order, within its credit cap (default: its estimate) and the balance.
   */
  startBatch(args: { request: BatchRequest }): Promise<Batch>;
  /** Newest first. */
  listBatches(args: { limit: number }): Promise<Array<Batch>>;
  /** A batch's items in order, with the task each became. */
  listBatchItems(args: { id: number }): Promise<Array<BatchItem>>;
  /** Nothing more is sent until resumed. */
  pauseBatch(args: { id: number }): Promise<Batch>;
  /** Also after a stop (the cap, the balance): checked again before each item. */
  resumeBatch(args: { id: number }): Promise<Batch>;
  /** The items not yet sent will not be. */
  cancelBatch(args: { id: number }): Promise<Batch>;
  /** Newest first. */
  listTasks(args: { limit: number }): Promise<Array<Task>>;
  /**
   * The queue, newest first: the newest `newest` tasks and every older one still open
   * (sending, running, its outcome unknown, files coming); with `before` (a task id),
   * the `newest` tasks older than that one.
   */
  listQueue(args: { newest: number; before: number | null }): Promise<Array<Task>>;
  getTask(args: { id: number }): Promise<Task>;
  /** Stops tracking (Kie cannot cancel). */
  cancelTask(args: { id: number }): Promise<Task>;
  /** Polls a stale task again. */
  checkTaskAgain(args: { id: number }): Promise<Task>;
  /** On purpose: a new task with the same input, paid again. */
  resubmitTask(args: { id: number }): Promise<Task>;
  /** For an outcome-unknown task whose Kie id the user found in their Kie account. */
  attachKieId(args: { id: number; kieTaskId: string }): Promise<Task>;
  /**
   * Veo (`get_1080p` in `Task.actions`): the free 1080p copy of the finished video (Kie takes
   * 1–3 min; asked again for up to ~5 min), added to the library beside it (`idx` 1000).
   */
  getHdVideo(args: { taskId: number }): Promise<ResultRow>;
  /**
   * For a link field whose catalogue limits name a `media` (image, video, audio): the
   * native file dialog for that kind (several files for a list that holds more than
   * one), then each file is checked by its bytes against the field's limits (format,
   * size, a clip's length; all problems at once as `invalid_input`, nothing uploaded),
   * kept in the library and uploaded; `[]` when cancelled. `field` is the field's path as problems name it:
   * `image_urls`, `first_frame_url`, `kling_elements[0].element_input_urls` (which group
   * does not matter); a row of a list of links (`image_urls[2]`) takes one file. The
   * window never names a path.
   */
  pickFiles(args: { model: string; field: string; onProgress: (event: UploadProgress) => void }): Promise<Array<UploadedFile>>;
  /** A page of the gallery with its total. */
  listResults(args: { query: ResultQuery }): Promise<ResultPage>;
  /** Newest first, each with its origin video's poster. */
  listCharacters(): Promise<Array<CharacterView>>;
  /** `@` completion while typing a prompt. */
  completeCharacters(args: { prefix: string; limit: number }): Promise<Array<Character>>;
  /** `duplicate_handle` if taken (in any case). */
  addCharacter(args: { handle: string; characterId: string | null; prompt: string | null }): Promise<Character>;
  removeCharacter(args: { id: number }): Promise<Character>;
  /** Call once: throttled task and download progress. */
  watchProgress(args: { channel: (event: ProgressEvent) => void }): Promise<null>;
  /** The detail panel: the result, its task (full input, for remix), whether the file is on disk. */
  getResult(args: { id: number }): Promise<ResultDetail>;
  setFavourite(args: { id: number; favourite: boolean }): Promise<ResultRow>;
  /** Notes are searched too; blank clears them. */
  setNotes(args: { id: number; notes: string | null }): Promise<ResultRow>;
  /** The file, its poster and the record together (the window asks first). */
  deleteResult(args: { id: number }): Promise<ResultRow>;
  /**
   * Asks for a folder (natively), copies the video there with a JSON sidecar; `null`
   * when cancelled.
   */
  exportResult(args: { id: number }): Promise<Exported | null>;
  /** Shows the file in the file manager. */
  revealResult(args: { id: number }): Promise<null>;
  /**
   * Opens one of the app's own folders in the file manager: the log folder (to send the
   * logs) or the library. Only these two: the window never names a path.
   */
  openFolder(args: { which: Folder }): Promise<null>;
  /**
   * `image`: base64 of a PNG/JPEG the window captured from the video (when Kie gave no
   * first frame).
   */
  savePoster(args: { id: number; image: string }): Promise<ResultRow>;
  /** Files missing from disk, files without a record, interrupted downloads. */
  libraryHealth(): Promise<Health>;
  /** Repairs what it can (files named by the app are linked back); the rest stays reported. */
  rescanLibrary(): Promise<Rescan>;
  /**
   * Only when the user chose it, after `db_corrupt` (`AppInfo.library_problem`): sets the
   * damaged database aside (kept, as `library.db.corrupt-<ms>`), starts a new one with
   * every task, result and character still readable from it, and opens the library.
   * `refused` when it is not damaged.
   */
  repairLibrary(): Promise<Repaired>;
  /** Every preset (a form's values under a name), by name. */
  listPresets(): Promise<Array<Preset>>;
  /**
   * Saves the form's values (kept as given; a preset may be half a form) under `name`
   * (trimmed, 1–60 characters): a taken name, in any case, is replaced. `invalid_input`
   * on `name`, or on `model` when the catalogue has no such model.
   */
  savePreset(args: { name: string; model: string; input: { [key in string]: JsonValue } }): Promise<Preset>;
  deletePreset(args: { id: number }): Promise<Preset>;
  /** A task's state, progress or details changed: the whole row. */
  onTaskChanged(cb: (payload: Task) => void): Unsubscribe;
  /** A result file is in the library. */
  onResultAdded(cb: (payload: ResultRow) => void): Unsubscribe;
  onCharacterAdded(cb: (payload: Character) => void): Unsubscribe;
  /** A batch started, sent an item, stopped or changed state: the whole batch. */
  onBatchChanged(cb: (payload: Batch) => void): Unsubscribe;
  /** Kie refused the key while polling: ask for a new one. */
  onKeyRejected(cb: (payload: null) => void): Unsubscribe;
  /**
   * The library's database was found damaged after it opened: ask `get_app_info`
   * again (its `library_problem` says what, and `repair_library` is the way out).
   */
  onLibraryDamaged(cb: (payload: string) => void): Unsubscribe;
}

/** The surface over a transport (Tauri's IPC in the app, HTTP in a browser). */
export function createApi(t: Transport): Api {
  return {
    getAppInfo: () => t.invoke('get_app_info', {}) as Promise<AppInfo>,
    setKey: (args) => t.invoke('set_key', { key: args.key }) as Promise<KeyCheck>,
    deleteKey: () => t.invoke('delete_key', {}) as Promise<AppInfo>,
    startDemo: () => t.invoke('start_demo', {}) as Promise<AppInfo>,
    getCatalogue: () => t.invoke('get_catalogue', {}) as Promise<Array<ModelSpec>>,
    listModels: () => t.invoke('list_models', {}) as Promise<Array<ModelCard>>,
    checkInput: (args) => t.invoke('check_input', { model: args.model, input: args.input }) as Promise<InputCheck>,
    getBalance: () => t.invoke('get_balance', {}) as Promise<Balance>,
    getSpend: (args) => t.invoke('get_spend', { days: args.days, utcOffsetMinutes: args.utcOffsetMinutes }) as Promise<SpendReport>,
    submitTask: (args) => t.invoke('submit_task', { model: args.model, input: args.input }) as Promise<Task>,
    planBatch: (args) => t.invoke('plan_batch', { request: args.request }) as Promise<BatchPlan>,
    startBatch: (args) => t.invoke('start_batch', { request: args.request }) as Promise<Batch>,
    listBatches: (args) => t.invoke('list_batches', { limit: args.limit }) as Promise<Array<Batch>>,
    listBatchItems: (args) => t.invoke('list_batch_items', { id: args.id }) as Promise<Array<BatchItem>>,
    pauseBatch: (args) => t.invoke('pause_batch', { id: args.id }) as Promise<Batch>,
    resumeBatch: (args) => t.invoke('resume_batch', { id: args.id }) as Promise<Batch>,
    cancelBatch: (args) => t.invoke('cancel_batch', { id: args.id }) as Promise<Batch>,
    listTasks: (args) => t.invoke('list_tasks', { limit: args.limit }) as Promise<Array<Task>>,
    listQueue: (args) => t.invoke('list_queue', { newest: args.newest, before: args.before }) as Promise<Array<Task>>,
    getTask: (args) => t.invoke('get_task', { id: args.id }) as Promise<Task>,
    cancelTask: (args) => t.invoke('cancel_task', { id: args.id }) as Promise<Task>,
    checkTaskAgain: (args) => t.invoke('check_task_again', { id: args.id }) as Promise<Task>,
    resubmitTask: (args) => t.invoke('resubmit_task', { id: args.id }) as Promise<Task>,
    attachKieId: (args) => t.invoke('attach_kie_id', { id: args.id, kieTaskId: args.kieTaskId }) as Promise<Task>,
    getHdVideo: (args) => t.invoke('get_hd_video', { taskId: args.taskId }) as Promise<ResultRow>,
    pickFiles: (args) => t.invoke('pick_files', { model: args.model, field: args.field, onProgress: t.channel(args.onProgress) }) as Promise<Array<UploadedFile>>,
    listResults: (args) => t.invoke('list_results', { query: args.query }) as Promise<ResultPage>,
    listCharacters: () => t.invoke('list_characters', {}) as Promise<Array<CharacterView>>,
    completeCharacters: (args) => t.invoke('complete_characters', { prefix: args.prefix, limit: args.limit }) as Promise<Array<Character>>,
    addCharacter: (args) => t.invoke('add_character', { handle: args.handle, characterId: args.characterId, prompt: args.prompt }) as Promise<Character>,
    removeCharacter: (args) => t.invoke('remove_character', { id: args.id }) as Promise<Character>,
    watchProgress: (args) => t.invoke('watch_progress', { channel: t.channel(args.channel) }) as Promise<null>,
    getResult: (args) => t.invoke('get_result', { id: args.id }) as Promise<ResultDetail>,
    setFavourite: (args) => t.invoke('set_favourite', { id: args.id, favourite: args.favourite }) as Promise<ResultRow>,
    setNotes: (args) => t.invoke('set_notes', { id: args.id, notes: args.notes }) as Promise<ResultRow>,
    deleteResult: (args) => t.invoke('delete_result', { id: args.id }) as Promise<ResultRow>,
    exportResult: (args) => t.invoke('export_result', { id: args.id }) as Promise<Exported | null>,
    revealResult: (args) => t.invoke('reveal_result', { id: args.id }) as Promise<null>,
    openFolder: (args) => t.invoke('open_folder', { which: args.which }) as Promise<null>,
    savePoster: (args) => t.invoke('save_poster', { id: args.id, image: args.image }) as Promise<ResultRow>,
    libraryHealth: () => t.invoke('library_health', {}) as Promise<Health>,
    rescanLibrary: () => t.invoke('rescan_library', {}) as Promise<Rescan>,
    repairLibrary: () => t.invoke('repair_library', {}) as Promise<Repaired>,
    listPresets: () => t.invoke('list_presets', {}) as Promise<Array<Preset>>,
    savePreset: (args) => t.invoke('save_preset', { name: args.name, model: args.model, input: args.input }) as Promise<Preset>,
    deletePreset: (args) => t.invoke('delete_preset', { id: args.id }) as Promise<Preset>,
    onTaskChanged: (cb) => t.listen<Task>(EVENTS.taskChanged, cb),
    onResultAdded: (cb) => t.listen<ResultRow>(EVENTS.resultAdded, cb),
    onCharacterAdded: (cb) => t.listen<Character>(EVENTS.characterAdded, cb),
    onBatchChanged: (cb) => t.listen<Batch>(EVENTS.batchChanged, cb),
    onKeyRejected: (cb) => t.listen<null>(EVENTS.keyRejected, cb),
    onLibraryDamaged: (cb) => t.listen<string>(EVENTS.libraryDamaged, cb),
  };
}
