import { describe, expect, it } from 'vitest';
import { taskRow } from './taskRow';
import { describeTask, sortTasks, taskCost, taskElapsed, taskSubject, upsertTask } from '../src/lib/logic/tasks';

const task = taskRow;

describe('a task in plain words', () => {
  it('names every state', () => {
    expect(describeTask(task({ status: 'submitting', kie_task_id: null })).label).toBe('Sending…');
    expect(describeTask(task({ kie_state: 'waiting' })).label).toBe("Waiting in Kie's queue");
    expect(describeTask(task({ kie_state: 'queuing' })).label).toBe("Waiting in Kie's queue");
    expect(describeTask(task({ kie_state: 'generating', progress: 45.4 }))).toMatchObject({ label: 'Generating 45%', percent: 45 });
    expect(describeTask(task({ kie_state: 'generating', progress: null })).label).toBe('Generating…');
    expect(describeTask(task({ kie_state: 'something_new' })).label).toBe('Working…');
    expect(describeTask(task({ status: 'succeeded' }), { done: 60, total: 100 })).toMatchObject({ label: 'Downloading 60%', percent: 60 });
    expect(describeTask(task({ status: 'succeeded' })).label).toBe('Downloading…');
    expect(describeTask(task({ status: 'succeeded', downloads_done: true }))).toMatchObject({ label: 'Ready', tone: 'good' });
    expect(describeTask(task({ status: 'cancelled' })).label).toBe('Cancelled');
  });

  it('says a stale task has not finished in a long time', () => {
    const v = describeTask(task({ stale: true }));
    expect(v.label).toBe('Stale');
    expect(v.message).toContain("Kie hasn't finished in a long time");
  });

  it('gives the reason of a failure by its code', () => {
    const v = describeTask(task({ status: 'failed', error_code: 'insufficient_credits' }));
    expect(v).toMatchObject({ label: 'Failed', tone: 'bad' });
    expect(v.message).toBe('Not enough credits. Top up at kie.ai, then try again.');
    expect(describeTask(task({ status: 'outcome_unknown' })).message).toContain("won't pay twice");
  });

  it('tells what the task is about', () => {
    expect(taskSubject(task())).toBe('a fox');
    expect(taskSubject(task({ input: { shots: [{ Scene: 'first', duration: 3 }] } }))).toBe('first');
    expect(taskSubject(task({ input: { video_url: 'https://sora.chatgpt.com/p/s_1' } }))).toBe('https://sora.chatgpt.com/p/s_1');
    expect(taskSubject(task({ input: { character_prompt: 'a barista' } }))).toBe('a barista');
  });

  it('shows the estimate before and the charge after', () => {
    expect(taskCost(task())).toBe('≈30 credits');
    expect(taskCost(task({ status: 'succeeded', credits_consumed: 30 }))).toBe('30 credits');
    expect(taskCost(task({ status: 'failed', credits_consumed: 0 }))).toBe('Not charged');
    expect(taskCost(task({ credits_estimated: null }))).toBe('');
  });

  it('ticks while running and stops when finished', () => {
    expect(taskElapsed(task(), 61_000)).toBe(60_000);
    expect(taskElapsed(task({ status: 'succeeded', finished_at: 31_000 }), 99_000)).toBe(30_000);
  });

  it('keeps the queue newest first', () => {
    const a = task({ id: 1, created_at: 1 });
    const b = task({ id: 2, created_at: 2 });
    expect(sortTasks([a, b]).map((t) => t.id)).toEqual([2, 1]);
    const list = upsertTask([b, a], task({ id: 3, created_at: 3 }));
    expect(list.map((t) => t.id)).toEqual([3, 2, 1]);
    expect(upsertTask(list, { ...a, status: 'failed' }).find((t) => t.id === 1)?.status).toBe('failed');
  });
});

describe("Kie's own words", () => {
  it('are added when they tell more than the plain words', () => {
    const flagged = task({ status: 'failed', error_code: 'generation_failed', fail_message: 'The prompt was flagged by the content filter.' });
    expect(describeTask(flagged).message).toBe(
      'Kie could not make this one. Kie said: “The prompt was flagged by the content filter”. Change the prompt (content rules are a common reason), then try again.',
    );
    const credits = task({ status: 'failed', error_code: 'insufficient_credits', fail_message: 'Credits insufficient' });
    expect(describeTask(credits).message).not.toContain('Kie said');
  });
});
