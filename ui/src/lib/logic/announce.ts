// What the queue's live region says when tasks change: one short sentence per change that
// matters (sent, ready, failed and why, outcome unknown, no longer tracked), never a
// progress step, so a screen reader hears the news without a flood of percentages.
// Pure: the queue keeps the last snapshot and asks what changed.
import type { Task } from '../bindings/Task';
import type { TaskStatus } from '../bindings/TaskStatus';
import { plainError } from './errors';
import { kieSaid } from './tasks';

/** What the announcer remembers of a task between two looks. */
export interface Seen {
  status: TaskStatus;
  /** Succeeded with its files in the library. */
  ready: boolean;
}

export function snapshot(tasks: Task[]): Map<number, Seen> {
  return new Map(tasks.map((t) => [t.id, { status: t.status, ready: t.status === 'succeeded' && t.downloads_done }]));
}

/** The sentence for one task's change from `before` (absent: new to the list), or null. */
export function taskAnnouncement(before: Seen | undefined, t: Task): string | null {
  const ready = t.status === 'succeeded' && t.downloads_done;
  if (before && before.status === t.status && before.ready === ready) return null;
  const who = `Task ${t.id}`;
  switch (t.status) {
    case 'submitting':
      return null;
    case 'running':
      // Only the moment it reached Kie; a task already running that changes step says nothing.
      if (!before || before.status === 'submitting') return `${who}: sent to Kie`;
      return before.status === 'running' ? null : `${who}: running again`;
    case 'succeeded':
      // Downloading is a step on the way; "ready" is the news.
      return ready ? `${who}: ready` : null;
    case 'failed': {
      const said = kieSaid(t);
      const title = plainError(t.error_code ?? 'generation_failed').title.replace(/[.]+$/, '');
      return `${who}: failed: ${title}${said ? `. Kie said: ${said}` : ''}`;
    }
    case 'outcome_unknown':
      return `${who}: outcome unknown: ${plainError('outcome_unknown').title.replace(/[.]+$/, '')}`;
    case 'cancelled':
      return `${who}: no longer tracked`;
    default:
      return null;
  }
}

/** Every change between two looks at the queue, oldest task first, as one message. */
export function taskAnnouncements(before: Map<number, Seen>, after: Task[]): string {
  return [...after]
    .sort((a, b) => a.id - b.id)
    .map((t) => taskAnnouncement(before.get(t.id), t))
    .filter((s): s is string => s !== null)
    .join('. ');
}
