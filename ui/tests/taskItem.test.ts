// A task's buttons are the core's `actions`; only their words depend on the state.
import { cleanup, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../src/lib/bindings/Task';
import TaskItem from '../src/lib/components/TaskItem.svelte';
import { studioContext } from '../src/lib/state/context';
import { Studio } from '../src/lib/state/studio.svelte';
import { stubApi } from './stubApi';
import { taskRow } from './taskRow';

function task(patch: Partial<Task> = {}): Task {
  return taskRow({ id: 7, kie_task_id: 'k7', progress: null, actions: [], ...patch });
}

function show(t: Task, answers: Record<string, unknown> = {}) {
  const { api, transport } = stubApi(answers);
  const studio = new Studio(api);
  render(TaskItem, { props: { task: t }, context: studioContext(studio) });
  return { studio, transport };
}

const buttons = () => ['check-again', 'attach', 'resubmit', 'cancel'].filter((b) => screen.queryByTestId(`task-7-${b}`));

afterEach(() => cleanup());

describe('a task’s buttons', () => {
  it('shows exactly the actions the core offers', () => {
    show(task({ actions: ['cancel'] }));
    expect(buttons()).toEqual(['cancel']);
    expect(screen.getByTestId('task-7-cancel')).toHaveTextContent('Stop tracking');
    cleanup();
    // Whatever the state: the list decides.
    show(task({ status: 'running', stale: true, actions: ['check_again', 'cancel'] }));
    expect(buttons()).toEqual(['check-again', 'cancel']);
    cleanup();
    show(task({ status: 'succeeded', downloads_done: true, is_final: true, actions: [] }));
    expect(buttons()).toEqual([]);
  });

  it('words resubmitting by the state', () => {
    show(task({ status: 'failed', is_final: true, actions: ['resubmit'] }));
    expect(screen.getByTestId('task-7-resubmit')).toHaveTextContent('Try again');
    cleanup();
    show(task({ status: 'outcome_unknown', kie_task_id: null, actions: ['check_again', 'attach_kie_id', 'resubmit'] }));
    expect(buttons()).toEqual(['check-again', 'attach', 'resubmit']);
    expect(screen.getByTestId('task-7-resubmit')).toHaveTextContent('Resubmit on purpose');
    expect(screen.getByTestId('task-7-attach')).toHaveTextContent('I found it: enter Kie task id');
  });

  it('attaches a Kie id with named arguments', async () => {
    const user = userEvent.setup();
    const t = task({ status: 'cancelled', kie_task_id: null, is_final: true, actions: ['attach_kie_id'] });
    const { transport } = show(t, { attach_kie_id: { ...t, status: 'running', kie_task_id: 'found-1', is_final: false, actions: ['cancel'] } });
    expect(screen.getByTestId('task-7-attach')).toHaveTextContent('Enter Kie task id');
    await user.click(screen.getByTestId('task-7-attach'));
    await user.type(screen.getByTestId('task-7-attach-input'), ' found-1 ');
    await user.click(screen.getByTestId('task-7-attach-save'));
    expect(transport.calls).toEqual([{ command: 'attach_kie_id', args: { id: 7, kieTaskId: 'found-1' } }]);
  });
});
