// A task row as the core sends it, for tests that need one without a library.
import type { Task } from '../src/lib/bindings/Task';

export function taskRow(patch: Partial<Task> = {}): Task {
  return {
    id: 1,
    model: 'sora-2-text-to-video',
    input: { prompt: 'a fox' },
    status: 'running',
    kie_task_id: 'k1',
    kie_state: 'waiting',
    progress: 0,
    created_at: 1_000,
    submitted_at: 1_500,
    updated_at: 2_000,
    finished_at: null,
    fail_code: null,
    fail_message: null,
    error_code: null,
    credits_estimated: 30,
    credits_consumed: null,
    result_json: null,
    downloads_done: false,
    stale: false,
    next_poll_at: null,
    poll_errors: 0,
    demo: false,
    batch_id: null,
    is_final: false,
    actions: ['cancel'],
    ...patch,
  };
}
