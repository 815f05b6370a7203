import { watch, type FSWatcher } from 'node:fs';
import type { BoundedProducer } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { drainSpool } from '../publish/drain.js';
import type { Spool, SpoolFile } from '../publish/spool.js';
import type { SpoolLock } from '../publish/spool-lock.js';
import { SpoolError } from '../publish/errors.js';
import { backoffMs } from './backoff.js';

/** The relay was stopped before it held the spool. */
export class RelayStoppedError extends Error {
  override readonly name = 'RelayStoppedError';
}

export interface RelayDeps {
  spool: Spool;
  lock: SpoolLock;
  producer: BoundedProducer;
  logger: Logger;
  /** Time allowed for one batch to be acknowledged (publish.timeoutMs). */
  timeoutMs: number;
  /** The safety net under the directory watch: the spool is listed this often anyway. */
  rescanMs?: number;
  now?: () => number;
  /** Every spool file the broker acknowledged, in order. */
  onDelivered?: (file: SpoolFile) => void;
  /** Files moved aside as invalid. */
  onInvalid?: (count: number) => void;
}

/**
 * Sends the spool to Kafka as it fills: the one drainer of the spool (it holds the drain lock as
 * long as it runs, so `pullrep publish` and `spool flush` leave their files to it). A new file is
 * noticed at once through a watch on the directory, and by a periodic listing should the watch
 * miss it. Files leave in name order; a failed send keeps them and is retried with backoff.
 */
export class Relay {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lockTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failures = 0;
  private retryAt = 0;
  private lastError: Error | undefined;
  private spoolError: Error | undefined;
  private readonly reported = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly deps: RelayDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether the last attempt to send succeeded and the lock is held. */
  get healthy(): boolean {
    return this.deps.lock.isHeld && this.failures === 0;
  }

  get error(): Error | undefined {
    return this.lastError;
  }

  /** A spool file that cannot be sent now (unreadable, its repository not resolvable): not Kafka's fault. */
  get spoolProblem(): Error | undefined {
    return this.spoolError;
  }

  get holdsLock(): boolean {
    return this.deps.lock.isHeld;
  }

  /**
   * Takes the drain lock (waiting while another live process holds it) and starts relaying.
   * Resolves once the lock is held.
   */
  async start(signal?: AbortSignal): Promise<void> {
    let told = false;
    while (!(await this.deps.lock.tryAcquire())) {
      if (signal?.aborted || this.stopped) throw new RelayStoppedError('stopped while waiting for the drain lock');
      if (!told) this.deps.logger.warn({ dir: this.deps.spool.dir }, 'another process drains the spool; waiting for its lock');
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
      if (signal?.aborted || this.stopped) throw new RelayStoppedError('stopped while waiting for the drain lock');
    }
    this.lockTimer = setInterval(() => void this.deps.lock.refresh(), 10_000);
    try {
      this.watcher = watch(this.deps.spool.dir, () => this.kick());
      this.watcher.on('error', (err) => {
        this.deps.logger.warn({ err: err.message }, 'watching the spool failed; it is listed every few seconds instead');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, dir: this.deps.spool.dir }, 'cannot watch the spool; it is listed every few seconds instead');
    }
    this.timer = setInterval(() => this.kick(), this.deps.rescanMs ?? 2000);
    this.kick();
  }

  /** Drains now (or right after the drain under way). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.failures > 0 && this.now() < this.retryAt) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Stops watching, waits for the send under way, releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    clearInterval(this.lockTimer);
    await this.running;
    await this.deps.lock.release();
  }

  private async drain(): Promise<void> {
    try {
      const result = await drainSpool(
        { spool: this.deps.spool, lock: this.deps.lock, producer: () => this.deps.producer, logger: this.deps.logger },
        {
          deadline: () => this.now() + this.deps.timeoutMs,
          stop: () => this.stopped,
          reported: this.reported,
          ...(this.deps.onDelivered ? { delivered: this.deps.onDelivered } : {}),
        },
      );
      if (result.quarantined.length > 0) this.deps.onInvalid?.(result.quarantined.length);
      if (this.failures > 0) this.deps.logger.info({ dir: this.deps.spool.dir }, 'spool drains again');
      this.failures = 0;
      this.lastError = undefined;
      this.spoolError = undefined;
      this.reported.clear();
    } catch (err) {
      // A file that cannot be sent now was passed over and everything else sent: Kafka is fine,
      // and the file is tried again on every pass (logged once).
      if (err instanceof SpoolError) {
        this.spoolError = err;
        if (this.failures > 0) this.deps.logger.info({ dir: this.deps.spool.dir }, 'spool drains again');
        this.failures = 0;
        this.lastError = undefined;
        return;
      }
      this.failures += 1;
      this.lastError = err as Error;
      // The first failure of a streak is worth a warning; the rest only repeat it.
      if (this.failures === 1) this.deps.logger.warn({ err: (err as Error).message, dir: this.deps.spool.dir }, 'spool not drained; retrying');
      const delay = backoffMs(this.failures);
      this.retryAt = this.now() + delay;
      setTimeout(() => this.kick(), delay).unref();
    }
  }
}
