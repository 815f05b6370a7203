/**
 * Serializes work per key (one repository at a time) and bounds work across keys (at most
 * `limit` repositories at once). A key waits for its own turn before taking a global slot, so a
 * busy repository never holds slots that other repositories could use.
 */
export class WorkGate {
  private readonly tails = new Map<string, Promise<void>>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  /**
   * Runs `task` in the key's turn, within a slot. `hold`, when given, runs in the key's turn
   * before the slot is taken (a wait for something outside this gate: it holds no slot) and
   * resolves what undoes it after the task.
   */
  async run<T>(key: string, task: () => Promise<T>, hold?: () => Promise<() => Promise<void>>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await previous;
      const unhold = hold ? await hold() : undefined;
      try {
        await this.acquire();
        try {
          return await task();
        } finally {
          this.releaseSlot();
        }
      } finally {
        await unhold?.();
      }
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Resolves when no task is queued or running. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active += 1;
        resolve();
      }),
    );
  }

  private releaseSlot(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }
}
