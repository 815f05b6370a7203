import type { Config } from '../config/index.js';
import type { Kafka } from '../kafka/index.js';
import type { Fetcher } from '../fetch/types.js';
import type { Logger } from '../log/index.js';
import { systemClock, type Clock } from '../consumer/clock.js';
import { ReplicaConsumer } from '../consumer/replica-consumer.js';
import { createReplicaMetrics, type ReplicaMetrics } from '../http/replica-metrics.js';
import { startHttpEndpoint, type HttpEndpoint } from '../http/server.js';
import { ladderDelays } from '../retry/index.js';
import { ensureTopics } from './topics.js';

export type ReplicaState = 'idle' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface ReplicaServiceDeps {
  config: Config;
  kafka: Kafka;
  fetcher: Fetcher;
  logger: Logger;
  clock?: Clock;
  /** Called once when the service fails on its own (the consumer crashed for good). */
  onFailed?: (err: unknown) => void;
}

/**
 * `pullrep replica`: ensures the topics, runs the consumer and the HTTP endpoint.
 * State: idle → starting → running → draining → stopped | failed. close() is idempotent.
 */
export class ReplicaService {
  private current: ReplicaState = 'idle';
  private consumer: ReplicaConsumer | undefined;
  private http: HttpEndpoint | undefined;
  private closing: Promise<void> | undefined;
  readonly metrics: ReplicaMetrics;

  constructor(private readonly deps: ReplicaServiceDeps) {
    this.metrics = createReplicaMetrics(() => this.consumer?.pausedPartitions ?? 0);
  }

  get state(): ReplicaState {
    return this.current;
  }

  get ready(): boolean {
    return this.current === 'running' && (this.consumer?.ready ?? false);
  }

  async start(): Promise<void> {
    if (this.current !== 'idle') throw new Error(`replica cannot start from state ${this.current}`);
    this.current = 'starting';
    const { config, kafka, logger } = this.deps;
    try {
      const admin = kafka.admin();
      await admin.connect();
      const ensured = await ensureTopics(admin, config).finally(() => admin.disconnect());
      if (ensured.created.length) logger.info({ created: ensured.created }, 'created topics');
      for (const warning of ensured.warnings) logger.warn(warning);
      if (config.http.port !== 0) {
        this.http = await startHttpEndpoint({
          host: config.http.host,
          port: config.http.port,
          logger,
          metrics: () => this.metrics.registry.render(),
          ready: () => this.ready,
        });
      }
      this.consumer = new ReplicaConsumer({
        kafka,
        fetcher: this.deps.fetcher,
        logger,
        metrics: this.metrics,
        clock: this.deps.clock ?? systemClock,
        onFatal: (err) => this.fail(err),
        options: {
          replica: config.replica.name,
          topics: ensured.topics,
          policy: config.retry,
          applyDeletes: config.replica.applyDeletes,
          partitionsConsumedConcurrently: config.replica.partitionsConsumedConcurrently,
          sessionTimeoutMs: config.replica.sessionTimeoutMs,
          transactions: config.replica.transactions,
        },
      });
      await this.consumer.start();
      this.current = 'running';
      logger.info({ replica: config.replica.name, topics: ensured.topics, delaysMs: ladderDelays(config.retry) }, 'replica running');
    } catch (err) {
      await this.close();
      this.current = 'failed';
      throw err;
    }
  }

  /** Stops taking work, lets running syncs finish up to replica.shutdownGraceMs, commits, disconnects. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { logger, config } = this.deps;
    if (this.current !== 'failed') this.current = 'draining';
    try {
      await this.consumer?.close(config.replica.shutdownGraceMs);
    } catch (err) {
      logger.warn({ err }, 'closing the consumer failed');
    }
    try {
      await this.deps.fetcher.close();
    } catch (err) {
      logger.warn({ err }, 'closing the fetcher failed');
    }
    try {
      await this.http?.close();
    } catch (err) {
      logger.warn({ err }, 'closing the HTTP endpoint failed');
    }
    if (this.current !== 'failed') this.current = 'stopped';
    logger.info({ state: this.current }, 'replica stopped');
  }

  private fail(err: unknown): void {
    this.deps.logger.error({ err }, 'replica failed');
    this.current = 'failed';
    void this.close().then(() => this.deps.onFailed?.(err));
  }
}
