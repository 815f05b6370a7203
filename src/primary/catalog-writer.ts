import type { BoundedProducer } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { CatalogOutput } from './catalog-keeper.js';
import { backoffMs } from './backoff.js';

export interface CatalogWriterDeps {
  topic: string;
  producer: BoundedProducer;
  logger: Logger;
  /** Time allowed for one send (publish.timeoutMs). */
  timeoutMs: number;
  now?: () => number;
  /** Counts records the broker acknowledged: a value, or a tombstone. */
  onWritten?: (kind: 'record' | 'tombstone', count: number) => void;
  /** Hears whether the last send succeeded (readiness). */
  onHealth?: (ok: boolean, error?: Error) => void;
}

/**
 * Sends catalog records, coalesced per repository (only the latest value of a repository is
 * sent; a compacted topic keeps only the latest anyway), one send at a time, so the order of a
 * repository's records is kept. What the broker did not acknowledge is sent again with backoff.
 */
export class CatalogWriter implements CatalogOutput {
  private pending = new Map<string, string | null>();
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  /** Nothing is sent before release(): the catalog topic must exist, compacted, first. */
  private held = true;
  private readonly now: () => number;

  constructor(private readonly deps: CatalogWriterDeps) {
    this.now = deps.now ?? Date.now;
  }

  put(repo: string, value: string | null): void {
    this.pending.set(repo, value);
    this.kick();
  }

  /** Records not acknowledged yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Resolves once everything put so far was acknowledged, or at `deadline` (epoch ms). */
  async settle(deadline: number): Promise<boolean> {
    while (this.pending.size > 0 || this.running) {
      if (this.now() >= deadline || this.closed || this.held) return this.pending.size === 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Starts sending (once the catalog topic is set up). */
  release(): void {
    this.held = false;
    this.kick();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private kick(): void {
    if (this.running || this.retryTimer || this.closed || this.held) return;
    this.running = this.flush().finally(() => {
      this.running = undefined;
      if (this.pending.size > 0 && !this.retryTimer) this.kick();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const records = [...batch].map(([key, value]) => ({ topic: this.deps.topic, key, value }));
    if (records.length === 0) return;
    try {
      await this.deps.producer.send(records, this.now() + this.deps.timeoutMs);
      const tombstones = records.filter((r) => r.value === null).length;
      if (records.length > tombstones) this.deps.onWritten?.('record', records.length - tombstones);
      if (tombstones > 0) this.deps.onWritten?.('tombstone', tombstones);
      if (this.failures > 0) this.deps.logger.info({ topic: this.deps.topic }, 'catalog records delivered again');
      this.failures = 0;
      this.deps.onHealth?.(true);
    } catch (err) {
      // What was put meanwhile is newer: it wins over the batch that failed.
      for (const [key, value] of batch) if (!this.pending.has(key)) this.pending.set(key, value);
      this.failures += 1;
      if (this.failures === 1) this.deps.logger.warn({ topic: this.deps.topic, err: (err as Error).message, waiting: this.pending.size }, 'catalog records not acknowledged; retrying');
      this.deps.onHealth?.(false, err as Error);
      const delay = backoffMs(this.failures);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, delay);
    }
  }
}
