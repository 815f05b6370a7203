import type { Fetcher, MaintenanceSchedule } from '../fetch/index.js';
import type { HttpEndpoint } from '../http/server.js';
import type { Logger } from '../log/index.js';
import type { ReplicaConsumer } from '../consumer/replica-consumer.js';

export type ReplicaState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** The parts of a running replica, built by compose.ts. */
export interface ReplicaServiceParts {
  consumer: ReplicaConsumer;
  fetcher: Fetcher;
  logger: Logger;
  shutdownGraceMs: number;
  http?: HttpEndpoint | undefined;
  maintenance?: MaintenanceSchedule | undefined;
  /** Stopped with housekeeping: the consumer-lag poller. */
  lag?: { stop(): Promise<void> } | undefined;
  /** Stopped with housekeeping: the broker probe. */
  probe?: { stop(): Promise<void> } | undefined;
  /** Ended (each told the ref's value now) before the consumer closes. */
  waiters?: { close(): Promise<void> } | undefined;
  /** Stopped with housekeeping: bootstrap, gap repair, verification (running repairs finish). */
  healing?: { stop(): Promise<void>; idle(): Promise<void> } | undefined;
  /** Released last on shutdown (the member slot). */
  release?: (() => Promise<void>) | undefined;
}

/**
 * A running `pullrep replica`: its lifecycle over the parts the composition root built.
 * State: starting → running → draining → stopped | failed. close() returns the same promise on
 * every call; each step of shutdown runs in its own try/catch.
 */
export class ReplicaService {
  private current: ReplicaState = 'starting';
  private closing: Promise<void> | undefined;

  constructor(private readonly parts: ReplicaServiceParts) {}

  get state(): ReplicaState {
    return this.current;
  }

  get ready(): boolean {
    return this.current === 'running' && this.parts.consumer.ready;
  }

  /** Starts consuming; on failure everything is closed and the state is failed. */
  async start(): Promise<void> {
    try {
      await this.parts.consumer.start();
      if (this.current === 'starting') this.current = 'running';
    } catch (err) {
      this.current = 'failed';
      await this.close();
      throw err;
    }
  }

  /** The consumer crashed for good: shut down, then tell `onFailed`. */
  fail(err: unknown, onFailed?: (err: unknown) => void): void {
    this.parts.logger.error({ err }, 'replica failed');
    this.current = 'failed';
    void this.close().then(() => onFailed?.(err));
  }

  /** Stops housekeeping, stops taking work, lets running syncs finish up to the grace period, commits, disconnects. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { logger } = this.parts;
    if (this.current !== 'failed') this.current = 'draining';
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['stopping housekeeping', () => this.parts.maintenance?.stop()],
      ['stopping the lag poller', () => this.parts.lag?.stop()],
      ['stopping self-healing', () => this.parts.healing?.stop()],
      ['stopping the broker probe', () => this.parts.probe?.stop()],
      ['ending the waits', () => this.parts.waiters?.close()],
      ['closing the consumer', () => this.parts.consumer.close(this.parts.shutdownGraceMs)],
      ['waiting for repairs to stop', () => this.parts.healing?.idle()],
      ['closing the fetcher', () => this.parts.fetcher.close()],
      ['closing the HTTP endpoint', () => this.parts.http?.close()],
      ['closing the state and releasing the member slot', () => this.parts.release?.()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err }, `${what} failed`);
      }
    }
    if (this.current !== 'failed') this.current = 'stopped';
    logger.info({ state: this.current }, 'replica stopped');
  }
}
