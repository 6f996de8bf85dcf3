// Posters the window captures from videos that came without one: a tile asks when it comes
// into view; at most `concurrency` captures run at once; the others wait in order. A result
// is captured at most once per session, whether that worked or not (a broken file is not
// retried on every scroll). A tile that leaves the view before its turn gives up its place.

export type PosterState = 'pending' | 'active' | 'done' | 'failed';

export class PosterQueue {
  private readonly run: (id: number) => Promise<void>;
  private readonly concurrency: number;
  private pending: number[] = [];
  private active = new Set<number>();
  private finished = new Map<number, 'done' | 'failed'>();
  private idle: Array<() => void> = [];

  constructor(run: (id: number) => Promise<void>, concurrency = 2) {
    this.run = run;
    this.concurrency = Math.max(1, concurrency);
  }

  /** A tile needs a poster for result `id`. */
  want(id: number): void {
    if (this.active.has(id) || this.finished.has(id) || this.pending.includes(id)) return;
    this.pending.push(id);
    this.pump();
  }

  /** The tile left the view: if its capture has not started, it gives up its place. */
  unwant(id: number): void {
    this.pending = this.pending.filter((x) => x !== id);
  }

  state(id: number): PosterState | undefined {
    if (this.active.has(id)) return 'active';
    if (this.pending.includes(id)) return 'pending';
    return this.finished.get(id);
  }

  get running(): number {
    return this.active.size;
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** Resolves when nothing runs or waits (for tests). */
  settled(): Promise<void> {
    if (this.active.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Forget everything (another library was opened). Running captures finish unobserved. */
  clear(): void {
    this.pending = [];
    this.finished.clear();
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      this.active.add(id);
      let outcome: 'done' | 'failed' = 'done';
      void Promise.resolve()
        .then(() => this.run(id))
        .catch(() => {
          outcome = 'failed';
        })
        .finally(() => {
          this.active.delete(id);
          this.finished.set(id, outcome);
          this.pump();
          if (this.active.size === 0 && this.pending.length === 0) {
            const waiters = this.idle;
            this.idle = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}
