// The window's view of the shell: one method per command of docs/ipc.md, the four app-wide
// events, the progress channel and media URLs. `tauri.ts` implements it over Tauri's IPC
// (the only file that imports `@tauri-apps/*`); `fake.ts` implements it in memory so the
// window runs in a plain browser and in tests.
//
// Every method rejects with an `ApiError` ({code, message, problems}); branch on `code`.

import type { AppInfo } from '../bindings/AppInfo';
import type { Balance } from '../bindings/Balance';
import type { Character } from '../bindings/Character';
import type { CharacterView } from '../bindings/CharacterView';
import type { Exported } from '../bindings/Exported';
import type { Health } from '../bindings/Health';
import type { InputCheck } from '../bindings/InputCheck';
import type { KeyCheck } from '../bindings/KeyCheck';
import type { ModelSpec } from '../bindings/ModelSpec';
import type { ProgressEvent } from '../bindings/ProgressEvent';
import type { Rescan } from '../bindings/Rescan';
import type { ResultDetail } from '../bindings/ResultDetail';
import type { ResultPage } from '../bindings/ResultPage';
import type { ResultQuery } from '../bindings/ResultQuery';
import type { ResultRow } from '../bindings/ResultRow';
import type { Task } from '../bindings/Task';
import type { UploadProgress } from '../bindings/UploadProgress';
import type { UploadedImage } from '../bindings/UploadedImage';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

/** A model's `input` object, as sent to `check_input` and `submit_task`. */
export type Input = { [key: string]: JsonValue };

/** Stops a subscription. Safe to call more than once. */
export type Unsubscribe = () => void;

export interface Backend {
  /** Which implementation this is ("tauri" in the app, "fake" in a browser or a test). */
  readonly kind: 'tauri' | 'fake';

  // ---- key and mode ----
  /** `get_app_info` */
  getAppInfo(): Promise<AppInfo>;
  /** `set_key`: Kie is asked for the balance first; a rejected key is not saved. */
  setKey(key: string): Promise<KeyCheck>;
  /** `delete_key` */
  deleteKey(): Promise<AppInfo>;
  /** `start_demo` */
  startDemo(): Promise<AppInfo>;

  // ---- models and input ----
  /** `get_catalogue` */
  getCatalogue(): Promise<ModelSpec[]>;
  /** `check_input`: the backend's own validation and price (debounce while typing). */
  checkInput(model: string, input: Input): Promise<InputCheck>;
  /** `get_balance` */
  getBalance(): Promise<Balance>;

  // ---- tasks ----
  /** `submit_task`: rejects with `invalid_input` before anything is sent. */
  submitTask(model: string, input: Input): Promise<Task>;
  /** `list_tasks`: newest first. */
  listTasks(limit: number): Promise<Task[]>;
  /** `get_task` */
  getTask(id: number): Promise<Task>;
  /** `cancel_task`: stops tracking (Kie cannot cancel). */
  cancelTask(id: number): Promise<Task>;
  /** `check_task_again`: poll a stale task again. */
  checkTaskAgain(id: number): Promise<Task>;
  /** `resubmit_task`: a new task with the same input, paid again. */
  resubmitTask(id: number): Promise<Task>;
  /** `attach_kie_id`: for an outcome-unknown task the user found in their Kie account. */
  attachKieId(id: number, kieTaskId: string): Promise<Task>;

  // ---- files ----
  /** `pick_images`: native dialog, upload, copy into the library; `[]` when cancelled. */
  pickImages(onProgress: (progress: UploadProgress) => void): Promise<UploadedImage[]>;

  // ---- library ----
  /** `list_results`: every field of the query is optional. */
  listResults(query: Partial<ResultQuery>): Promise<ResultPage>;
  /** `get_result`: the detail panel (the result, its task with the full input, file on disk). */
  getResult(id: number): Promise<ResultDetail>;
  /** `set_favourite` */
  setFavourite(id: number, favourite: boolean): Promise<ResultRow>;
  /** `set_notes`: notes are searched too; `null` clears them. */
  setNotes(id: number, notes: string | null): Promise<ResultRow>;
  /** `delete_result`: the file, its poster and the record together (ask first). */
  deleteResult(id: number): Promise<ResultRow>;
  /** `export_result`: the shell asks for a folder; `null` when cancelled. */
  exportResult(id: number): Promise<Exported | null>;
  /** `reveal_result`: shows the file in the file manager. */
  revealResult(id: number): Promise<void>;
  /** `save_poster`: `image` is base64 of a JPEG/PNG captured from the video. */
  savePoster(id: number, image: string): Promise<ResultRow>;
  /** `library_health`: missing files, files without a record, interrupted downloads. */
  libraryHealth(): Promise<Health>;
  /** `rescan_library`: repairs what it can; the rest stays reported. */
  rescanLibrary(): Promise<Rescan>;
  /** `list_characters`: newest first, each with its origin video's poster. */
  listCharacters(): Promise<CharacterView[]>;
  /** `complete_characters`: `@` completion while typing a prompt. */
  completeCharacters(prefix: string, limit: number): Promise<Character[]>;
  /** `add_character`: `duplicate_handle` if taken (any case). */
  addCharacter(handle: string, characterId: string | null, prompt: string | null): Promise<Character>;
  /** `remove_character` */
  removeCharacter(id: number): Promise<Character>;

  // ---- live updates ----
  /** `studio://task-changed` */
  onTaskChanged(cb: (task: Task) => void): Unsubscribe;
  /** `studio://result-added` */
  onResultAdded(cb: (result: ResultRow) => void): Unsubscribe;
  /** `studio://character-added` */
  onCharacterAdded(cb: (character: Character) => void): Unsubscribe;
  /** `studio://key-rejected`: ask for a new key. */
  onKeyRejected(cb: () => void): Unsubscribe;
  /** `watch_progress`: throttled task and download progress (the channel is opened once). */
  watchProgress(cb: (event: ProgressEvent) => void): Unsubscribe;

  /** A URL the web view can load for an absolute path inside the library. */
  mediaUrl(absPath: string): string;
}
