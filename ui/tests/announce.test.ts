// The queue's live region: what it announces when tasks change, and what it keeps quiet.
import { describe, expect, it } from 'vitest';
import { snapshot, taskAnnouncement, taskAnnouncements } from '../src/lib/logic/announce';
import { taskRow as task } from './taskRow';

const seen = (t = task()) => snapshot([t]).get(t.id);

describe('what the queue announces', () => {
  it('says a task was sent to Kie once it reaches Kie, not while sending', () => {
    const sending = task({ id: 3, status: 'submitting', kie_task_id: null });
    expect(taskAnnouncement(undefined, sending)).toBeNull();
    expect(taskAnnouncement(seen(sending), task({ id: 3 }))).toBe('Task 3: sent to Kie');
    // Seen first already running (sent between two looks).
    expect(taskAnnouncement(undefined, task({ id: 4 }))).toBe('Task 4: sent to Kie');
  });

  it('says nothing of progress: waiting, generating, percentages, downloading', () => {
    const running = seen(task({ kie_state: 'waiting', progress: 0 }));
    expect(taskAnnouncement(running, task({ kie_state: 'generating', progress: 12 }))).toBeNull();
    expect(taskAnnouncement(running, task({ kie_state: 'generating', progress: 87 }))).toBeNull();
    expect(taskAnnouncement(running, task({ status: 'succeeded', downloads_done: false }))).toBeNull();
    const downloading = seen(task({ status: 'succeeded', downloads_done: false }));
    expect(taskAnnouncement(downloading, task({ status: 'succeeded', downloads_done: false }))).toBeNull();
  });

  it('says ready once the files are in the library, and only once', () => {
    const downloading = seen(task({ id: 7, status: 'succeeded', downloads_done: false }));
    const done = task({ id: 7, status: 'succeeded', downloads_done: true });
    expect(taskAnnouncement(downloading, done)).toBe('Task 7: ready');
    expect(taskAnnouncement(seen(done), done)).toBeNull();
    // Straight from running to ready between two looks.
    expect(taskAnnouncement(seen(task({ id: 7 })), done)).toBe('Task 7: ready');
  });

  it('gives the reason of a failure, with what Kie said', () => {
    const running = seen(task({ id: 5 }));
    expect(taskAnnouncement(running, task({ id: 5, status: 'failed', error_code: 'insufficient_credits' }))).toBe(
      'Task 5: failed: Not enough credits',
    );
    expect(
      taskAnnouncement(running, task({ id: 5, status: 'failed', error_code: 'generation_failed', fail_message: 'Prompt flagged.' })),
    ).toBe('Task 5: failed: Kie could not make this one. Kie said: Prompt flagged');
  });

  it('names an unknown outcome, a task no longer tracked and one running again', () => {
    const running = seen(task({ id: 2 }));
    expect(taskAnnouncement(running, task({ id: 2, status: 'outcome_unknown' }))).toBe(
      "Task 2: outcome unknown: We don't know whether Kie received this task",
    );
    expect(taskAnnouncement(running, task({ id: 2, status: 'cancelled' }))).toBe('Task 2: no longer tracked');
    expect(taskAnnouncement(seen(task({ id: 2, status: 'outcome_unknown' })), task({ id: 2 }))).toBe('Task 2: running again');
  });

  it('puts every change of one look in one message, oldest task first, and is quiet when nothing changed', () => {
    const before = snapshot([
      task({ id: 9, status: 'submitting', kie_task_id: null }),
      task({ id: 8, status: 'succeeded', downloads_done: false }),
      task({ id: 6, progress: 10, kie_state: 'generating' }),
    ]);
    const after = [
      task({ id: 9 }),
      task({ id: 8, status: 'succeeded', downloads_done: true }),
      task({ id: 6, progress: 60, kie_state: 'generating' }),
    ];
    expect(taskAnnouncements(before, after)).toBe('Task 8: ready. Task 9: sent to Kie');
    expect(taskAnnouncements(snapshot(after), after)).toBe('');
  });
});
