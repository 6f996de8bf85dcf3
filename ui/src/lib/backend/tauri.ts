// The Backend over Tauri's IPC. The ONLY file of the window that imports `@tauri-apps/*`.

import { Channel, convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';

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
import { toApiError } from '../logic/errors';
import type { Backend, Input, Unsubscribe } from './types';

const EVENTS = {
  taskChanged: 'studio://task-changed',
  resultAdded: 'studio://result-added',
  characterAdded: 'studio://character-added',
  keyRejected: 'studio://key-rejected',
} as const;

/** Calls a command; whatever it rejects with becomes an `ApiError`. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toApiError(e);
  }
}

/** `listen` is asynchronous; this returns an unsubscribe that works at any time. */
function subscribe<T>(event: string, cb: (payload: T) => void): Unsubscribe {
  let stopped = false;
  let unlisten: UnlistenFn | null = null;
  listen<T>(event, (e) => {
    if (!stopped) cb(e.payload);
  })
    .then((fn) => {
      if (stopped) fn();
      else unlisten = fn;
    })
    .catch((e) => console.error(`could not listen to ${event}`, e));
  return () => {
    if (stopped) return;
    stopped = true;
    unlisten?.();
  };
}

export function createTauriBackend(): Backend {
  // `watch_progress` is called once; every subscriber gets every event.
  const progressListeners = new Set<(event: ProgressEvent) => void>();
  let progressOpened = false;
  const openProgress = () => {
    if (progressOpened) return;
    progressOpened = true;
    const channel = new Channel<ProgressEvent>();
    channel.onmessage = (event) => {
      for (const cb of [...progressListeners]) cb(event);
    };
    call<void>('watch_progress', { channel }).catch((e) => {
      progressOpened = false;
      console.error('watch_progress failed', e);
    });
  };

  return {
    kind: 'tauri',
    getAppInfo: () => call<AppInfo>('get_app_info'),
    setKey: (key) => call<KeyCheck>('set_key', { key }),
    deleteKey: () => call<AppInfo>('delete_key'),
    startDemo: () => call<AppInfo>('start_demo'),
    getCatalogue: () => call<ModelSpec[]>('get_catalogue'),
    checkInput: (model: string, input: Input) => call<InputCheck>('check_input', { model, input }),
    getBalance: () => call<Balance>('get_balance'),
    submitTask: (model: string, input: Input) => call<Task>('submit_task', { model, input }),
    listTasks: (limit) => call<Task[]>('list_tasks', { limit }),
    getTask: (id) => call<Task>('get_task', { id }),
    cancelTask: (id) => call<Task>('cancel_task', { id }),
    checkTaskAgain: (id) => call<Task>('check_task_again', { id }),
    resubmitTask: (id) => call<Task>('resubmit_task', { id }),
    attachKieId: (id, kieTaskId) => call<Task>('attach_kie_id', { id, kieTaskId }),
    pickImages: (onProgress: (p: UploadProgress) => void) => {
      const channel = new Channel<UploadProgress>();
      channel.onmessage = onProgress;
      return call<UploadedImage[]>('pick_images', { onProgress: channel });
    },
    listResults: (query: Partial<ResultQuery>) => call<ResultPage>('list_results', { query }),
    getResult: (id) => call<ResultDetail>('get_result', { id }),
    setFavourite: (id, favourite) => call<ResultRow>('set_favourite', { id, favourite }),
    setNotes: (id, notes) => call<ResultRow>('set_notes', { id, notes }),
    deleteResult: (id) => call<ResultRow>('delete_result', { id }),
    exportResult: (id) => call<Exported | null>('export_result', { id }),
    revealResult: (id) => call<void>('reveal_result', { id }),
    savePoster: (id, image) => call<ResultRow>('save_poster', { id, image }),
    libraryHealth: () => call<Health>('library_health'),
    rescanLibrary: () => call<Rescan>('rescan_library'),
    listCharacters: () => call<CharacterView[]>('list_characters'),
    completeCharacters: (prefix, limit) => call<Character[]>('complete_characters', { prefix, limit }),
    addCharacter: (handle, characterId, prompt) =>
      call<Character>('add_character', { handle, characterId, prompt }),
    removeCharacter: (id) => call<Character>('remove_character', { id }),
    onTaskChanged: (cb) => subscribe<Task>(EVENTS.taskChanged, cb),
    onResultAdded: (cb) => subscribe<ResultRow>(EVENTS.resultAdded, cb),
    onCharacterAdded: (cb) => subscribe<Character>(EVENTS.characterAdded, cb),
    onKeyRejected: (cb) => subscribe<null>(EVENTS.keyRejected, () => cb()),
    watchProgress: (cb) => {
      progressListeners.add(cb);
      openProgress();
      return () => {
        progressListeners.delete(cb);
      };
    },
    mediaUrl: (absPath) => convertFileSrc(absPath),
  };
}
