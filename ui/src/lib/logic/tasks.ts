// A task in plain words: its state, what it cost, what to do about it.

import type { ModelSpec } from '../bindings/ModelSpec';
import type { Task } from '../bindings/Task';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import { plainError, plainErrorText } from './errors';
import { creditsLabel, formatCredits } from './format';

export type Tone = 'neutral' | 'active' | 'good' | 'bad' | 'warn';

export interface DownloadProgress {
  done: number;
  total: number | null;
}

export interface TaskView {
  /** The state in a few words ("Generating 45%"). */
  label: string;
  tone: Tone;
  /** 0–100 for a progress bar, or null. */
  percent: number | null;
  /** A sentence on what happened and what to do, or null when there is nothing to say. */
  message: string | null;
  /** Still going on its own. */
  active: boolean;
}

/** Kie's states while a task waits for a worker. */
const WAITING_STATES = new Set(['waiting', 'queuing', 'queued', 'pending']);

/** Failures whose plain words already say everything: Kie's own text would only repeat them. */
const SELF_EXPLAINED = new Set([
  'insufficient_credits',
  'unauthorized',
  'no_key',
  'model_paused',
  'feature_disabled',
  'rate_limited',
  'unavailable',
  'server_error',
  'timeout',
  'connection',
]);

/**
 * Kie's own reason for a failure, when it adds something to the plain words (e.g. "The
 * prompt was flagged by the content filter"); null otherwise.
 */
export function kieSaid(task: Task): string | null {
  if (task.status !== 'failed' || !task.fail_message || SELF_EXPLAINED.has(task.error_code ?? '')) return null;
  const text = task.fail_message.replace(/\s+/g, ' ').trim().replace(/[.。]+$/, '');
  if (text === '') return null;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

const pct = (n: number) => Math.max(0, Math.min(100, Math.round(n)));

export function describeTask(task: Task, download?: DownloadProgress | null): TaskView {
  switch (task.status) {
    case 'submitting':
      return { label: 'Sending…', tone: 'active', percent: null, message: null, active: true };
    case 'running': {
      if (task.stale) {
        return {
          label: 'Stale',
          tone: 'warn',
          percent: null,
          message: "Kie hasn't finished in a long time. Check again to ask Kie for news.",
          active: true,
        };
      }
      const state = (task.kie_state ?? '').toLowerCase();
      if (state === 'generating' || (state === '' && (task.progress ?? 0) > 0)) {
        const p = task.progress;
        return {
          label: p === null ? 'Generating…' : `Generating ${pct(p)}%`,
          tone: 'active',
          percent: p === null ? null : pct(p),
          message: null,
          active: true,
        };
      }
      if (state === '' || WAITING_STATES.has(state)) {
        return { label: "Waiting in Kie's queue", tone: 'active', percent: null, message: null, active: true };
      }
      // A state Kie did not document, or "success" just before the final record lands.
      return { label: 'Working…', tone: 'active', percent: null, message: null, active: true };
    }
    case 'succeeded': {
      if (!task.downloads_done) {
        const total = download?.total ?? null;
        const p = download && total ? pct((download.done / total) * 100) : null;
        return {
          label: p === null ? 'Downloading…' : `Downloading ${p}%`,
          tone: 'active',
          percent: p,
          message: task.error_code ? plainErrorText(task.error_code) : null,
          active: true,
        };
      }
      return { label: 'Ready', tone: 'good', percent: null, message: null, active: false };
    }
    case 'failed': {
      const words = plainError(task.error_code ?? 'generation_failed');
      const said = kieSaid(task);
      const parts = [words.title, said ? `Kie said: “${said}”.` : '', words.action].filter((s) => s !== '');
      return { label: 'Failed', tone: 'bad', percent: null, message: parts.join(' '), active: false };
    }
    case 'outcome_unknown':
      return {
        label: 'Outcome unknown',
        tone: 'warn',
        percent: null,
        message: plainErrorText('outcome_unknown'),
        active: false,
      };
    case 'cancelled':
      return {
        label: 'Cancelled',
        tone: 'neutral',
        percent: null,
        message: 'No longer tracked. Kie may still finish it; if it does, it is still saved here.',
        active: false,
      };
    default:
      return { label: String(task.status), tone: 'neutral', percent: null, message: null, active: false };
  }
}

function str(v: JsonValue | undefined): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/**
 * What the task is about, in the user's words: the prompt, else the first scene, else the
 * character description, else the video link.
 */
export function taskSubject(task: Task): string {
  const input = task.input ?? {};
  const direct = str(input.prompt);
  if (direct) return direct;
  const shots = input.shots;
  if (Array.isArray(shots) && shots.length > 0) {
    const first = shots[0];
    if (first && typeof first === 'object' && !Array.isArray(first)) {
      const scene = str(first.Scene) ?? str(first.scene);
      if (scene) return scene;
    }
  }
  return str(input.character_prompt) ?? str(input.video_url) ?? str(input.origin_task_id) ?? '';
}

/** "30 credits" once charged, "≈30 credits" before. */
export function taskCost(task: Task): string {
  if (task.credits_consumed !== null && task.credits_consumed !== undefined) {
    if (task.credits_consumed === 0 && task.status !== 'succeeded') return 'Not charged';
    return creditsLabel(task.credits_consumed);
  }
  if (task.credits_estimated !== null && task.credits_estimated !== undefined) {
    return `≈${formatCredits(task.credits_estimated)} ${task.credits_estimated === 1 ? 'credit' : 'credits'}`;
  }
  return '';
}

/** Milliseconds the task has taken so far (or took). */
export function taskElapsed(task: Task, now: number): number {
  const end = task.finished_at ?? (task.status === 'outcome_unknown' || task.status === 'cancelled' ? task.updated_at : now);
  return Math.max(0, end - task.created_at);
}

/** A model's display name, or its id when the catalogue does not know it. */
export function modelName(catalogue: ModelSpec[], id: string): string {
  return catalogue.find((m) => m.id === id)?.name ?? id;
}

/** Newest first, as `list_tasks` answers. */
export function sortTasks(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => b.created_at - a.created_at || b.id - a.id);
}

/** `tasks` with `task` added or replaced (newest first). */
export function upsertTask(tasks: Task[], task: Task): Task[] {
  const i = tasks.findIndex((t) => t.id === task.id);
  if (i === -1) return sortTasks([task, ...tasks]);
  const next = [...tasks];
  next[i] = task;
  return next;
}

/** The small picture of a result (the queue's, a gallery tile's): its tile-sized thumb, else its poster. */
export function thumbOrPoster(r: { thumb_path: string | null; poster_path: string | null }): string | null {
  return r.thumb_path ?? r.poster_path;
}
