// Poster captures: at most two at once, in order, each result once.
import { describe, expect, it } from 'vitest';
import { PosterQueue } from '../src/lib/logic/posterQueue';
import { posterSize } from '../src/lib/logic/posterCapture';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('poster queue', () => {
  it('runs at most two at once, in the order asked, each result once', async () => {
    const started: number[] = [];
    const waits = new Map<number, ReturnType<typeof deferred>>();
    let running = 0;
    let most = 0;
    const q = new PosterQueue(async (id) => {
      started.push(id);
      running++;
      most = Math.max(most, running);
      const d = deferred();
      waits.set(id, d);
      try {
        await d.promise;
      } finally {
        running--;
      }
    }, 2);
    for (const id of [1, 2, 3, 4, 1, 2, 3]) q.want(id);
    await flush();
    expect(started).toEqual([1, 2]);
    expect(q.running).toBe(2);
    expect(q.waiting).toBe(2);
    expect(q.state(3)).toBe('pending');
    waits.get(1)!.resolve();
    await flush();
    expect(started).toEqual([1, 2, 3]);
    waits.get(2)!.reject(new Error('broken file'));
    await flush();
    expect(started).toEqual([1, 2, 3, 4]);
    waits.get(3)!.resolve();
    waits.get(4)!.resolve();
    await q.settled();
    expect(most).toBe(2);
    expect(q.state(1)).toBe('done');
    expect(q.state(2)).toBe('failed');
    // Asked again (scrolled back into view): never captured twice, not even a failed one.
    for (const id of [1, 2, 3, 4]) q.want(id);
    await flush();
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it('lets a tile that left the view give up its place', async () => {
    const started: number[] = [];
    const gate = deferred();
    const q = new PosterQueue(async (id) => {
      started.push(id);
      await gate.promise;
    }, 2);
    for (const id of [10, 11, 12, 13]) q.want(id);
    await flush();
    q.unwant(12);
    // Started captures finish anyway.
    q.unwant(10);
    gate.resolve();
    await q.settled();
    expect(started).toEqual([10, 11, 13]);
    expect(q.state(12)).toBeUndefined();
    // Back in view: its turn comes.
    q.want(12);
    await q.settled();
    expect(started).toEqual([10, 11, 13, 12]);
  });
});

describe('poster size', () => {
  it('is at most 480 px wide, same shape', () => {
    expect(posterSize(1920, 1080)).toEqual({ width: 480, height: 270 });
    expect(posterSize(720, 1280)).toEqual({ width: 480, height: 853 });
    expect(posterSize(320, 180)).toEqual({ width: 320, height: 180 });
    expect(posterSize(0, 0)).toEqual({ width: 480, height: 270 });
  });
});
