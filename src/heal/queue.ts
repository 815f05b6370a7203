import type { Clock } from '../consumer/clock.js';

/**
 * Work per repository, de-duplicated (a repository waits at most once), run by up to
 * `concurrency` workers, each start at least `minGapMs` after the previous one (a rate).
 * A task's failure is the task's business: `run` must not reject.
 */
export class KeyedQueue<T> {
  private readonly waiting = new Map<string, T>();
  private readonly runningKeys = new Set<string>();
  private running = 0;
  private lastStart = -Infinity;
  private timer: unknown;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly options: {
      concurrency: number;
      minGapMs: number;
      clock: Clock;
      run: (key: string, item: T) => Promise<void>;
      /** Merges an item for a key that already waits (default: the newer one wins). */
      merge?: (waiting: T, added: T) => T;
      /** Whether an item added for a key that is running now is dropped (the running one does the same work). */
      dropWhileRunning?: (item: T) => boolean;
    },
  ) {}

  add(key: string, item: T): void {
    if (this.stopped) return;
    if (this.runningKeys.has(key) && this.options.dropWhileRunning?.(item)) return;
    const current = this.waiting.get(key);
    this.waiting.set(key, current === undefined ? item : (this.options.merge?.(current, item) ?? item));
    this.pump();
  }

  has(key: string): boolean {
    return this.waiting.has(key);
  }

  /** Keeps only the waiting keys `keep` accepts (an assignment moved the others away). */
  retain(keep: (key: string) => boolean): void {
    for (const key of [...this.waiting.keys()]) if (!keep(key)) this.waiting.delete(key);
    this.settleIdle();
  }

  get size(): number {
    return this.waiting.size;
  }

  get active(): number {
    return this.running;
  }

  /** Resolves once nothing waits or runs. */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes nothing more; waiting work is dropped, running work is waited for by idle(). */
  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.settleIdle();
  }

  private pump(): void {
    const { concurrency, minGapMs, clock } = this.options;
    while (!this.stopped && this.running < concurrency && this.waiting.size > 0 && this.timer === undefined) {
      const wait = this.lastStart + minGapMs - clock.now();
      if (wait > 0) {
        this.timer = clock.setTimer(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      // A key that runs now waits for its run to end (one run per key at a time).
      let next: [string, T] | undefined;
      for (const entry of this.waiting) {
        if (!this.runningKeys.has(entry[0])) {
          next = entry;
          break;
        }
      }
      if (!next) return;
      const [key, item] = next;
      this.waiting.delete(key);
      this.running += 1;
      this.runningKeys.add(key);
      this.lastStart = clock.now();
      void this.options
        .run(key, item)
        .catch(() => undefined)
        .finally(() => {
          this.running -= 1;
          this.runningKeys.delete(key);
          this.pump();
          this.settleIdle();
        });
    }
  }

  private settleIdle(): void {
    if (this.running > 0 || (this.waiting.size > 0 && !this.stopped)) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
