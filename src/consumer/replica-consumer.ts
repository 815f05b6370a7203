import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from '../kafka/index.js';
import type { Fetcher } from '../fetch/types.js';
import type { Logger } from '../log/index.js';
import type { ReplicaMetrics } from '../http/replica-metrics.js';
import type { LadderTopics, RetryPolicy } from '../retry/index.js';
import type { Clock } from './clock.js';
import { produceThenCommit, transactionalHandOff } from './handoff.js';
import { PartitionPauser } from './pauser.js';
import { BatchProcessor } from './processor.js';
import type { HandOff } from './records.js';
import { PartitionWork } from './partition-work.js';

export interface ReplicaConsumerOptions {
  replica: string;
  topics: LadderTopics;
  policy: RetryPolicy;
  applyDeletes: boolean;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  transactions: boolean;
}

export interface ReplicaConsumerDeps {
  kafka: Kafka;
  fetcher: Fetcher;
  logger: Logger;
  metrics: ReplicaMetrics;
  clock: Clock;
  options: ReplicaConsumerOptions;
  /** Called when the client gives up (a crash it does not restart from). */
  onFatal?: (err: unknown) => void;
}

/**
 * Longest a fetch waits on the broker for new records; idle cost is one fetch request per broker
 * per period (see docs/retry.md for the measurements).
 */
const FETCH_MAX_WAIT_MS = 100;

/**
 * How long before its due time a held partition resumes. The client fetches a resumed partition
 * only once the fetch in flight returns (up to FETCH_MAX_WAIT_MS, or a pause of that length when
 * every partition was paused), plus a round trip; the records then wait in memory for the rest.
 */
const RESUME_LEAD_MS = FETCH_MAX_WAIT_MS + 50;

/**
 * The replica's one consumer (group = replica name) over the events topic and its retry stages.
 * Batches go to the BatchProcessor; records not yet due pause their partition only.
 */
export class ReplicaConsumer {
  private consumer: Consumer | undefined;
  private handOff: HandOff | undefined;
  private pauser: PartitionPauser | undefined;
  private readonly abortController = new AbortController();
  private draining = false;
  private joined = false;
  private work: PartitionWork | undefined;

  constructor(private readonly deps: ReplicaConsumerDeps) {}

  get ready(): boolean {
    return this.joined && !this.draining;
  }

  get pausedPartitions(): number {
    return this.pauser?.size ?? 0;
  }

  async start(): Promise<void> {
    const { kafka, options, logger } = this.deps;
    const consumer = kafka.consumer({
      groupId: options.replica,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
      rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs * 2),
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      readUncommitted: false,
    });
    this.consumer = consumer;
    const producer = kafka.producer(
      options.transactions
        ? { idempotent: true, maxInFlightRequests: 1, transactionalId: `pullrep-${options.replica}-${randomUUID()}` }
        : { idempotent: true, maxInFlightRequests: 1 },
    );
    await producer.connect();
    this.handOff = options.transactions ? transactionalHandOff({ producer, groupId: options.replica }) : produceThenCommit({ producer, consumer });
    const pauser = new PartitionPauser({ control: consumer, clock: this.deps.clock, leadMs: RESUME_LEAD_MS });
    this.pauser = pauser;
    const processor = new BatchProcessor({
      fetcher: this.deps.fetcher,
      handOff: this.handOff,
      policy: options.policy,
      topics: options.topics,
      replica: options.replica,
      applyDeletes: options.applyDeletes,
      clock: this.deps.clock,
      logger,
      metrics: this.deps.metrics,
      heartbeatMs: Math.max(100, Math.floor(options.sessionTimeoutMs / 3)),
      abort: this.abortController.signal,
    });
    const work = new PartitionWork({ consumer, processor, pauser, clock: this.deps.clock, logger, limit: options.partitionsConsumedConcurrently });
    this.work = work;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      work.assign(event.payload.memberAssignment);
      this.joined = true;
      logger.info({ assignment: event.payload.memberAssignment }, 'joined the replica group');
    });
    consumer.on(consumer.events.CRASH, (event) => {
      logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
      if (!event.payload.restart && !this.draining) this.deps.onFatal?.(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topics.events, ...options.topics.retry], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: (payload) => work.onBatch(payload),
    });
  }

  /**
   * Stops taking work, lets running batches finish up to `graceMs` (then aborts their syncs),
   * and only then stops the client: kafkajs ignores commits once its runner is stopping.
   */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    this.pauser?.clear();
    const { consumer } = this;
    try {
      consumer?.pause([this.deps.options.topics.events, ...this.deps.options.topics.retry].map((topic) => ({ topic })));
    } catch (err) {
      this.deps.logger.debug({ err }, 'pausing for shutdown failed');
    }
    const timer = setTimeout(() => this.abortController.abort(), graceMs);
    try {
      await this.work?.drain();
    } finally {
      clearTimeout(timer);
    }
    try {
      await consumer?.disconnect();
    } catch (err) {
      this.deps.logger.warn({ err }, 'consumer disconnect failed');
    }
    try {
      await this.handOff?.close();
    } catch (err) {
      this.deps.logger.warn({ err }, 'producer disconnect failed');
    }
  }
}
