import type { Admin, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { createMissingTopics } from './admin.js';
import { MAX_REQUEST_BYTES, requestChunks } from './sinks.js';
import { workaroundState } from './workarounds.js';

/**
 * A producer whose every call is bounded by a deadline: idempotent, all in-sync replicas
 * acknowledging, and few enough client retries that they fit in the time allowed. Used on the
 * primary, where a git hook must never wait long for Kafka.
 */

/** The broker did not acknowledge in the time allowed. Retrying later may succeed. */
export class ProduceTimeoutError extends Error {
  override readonly name = 'ProduceTimeoutError';
  readonly retriable = true;
}

export interface OutgoingRecord {
  topic: string;
  key: string;
  /** null: a tombstone (the key is deleted from a compacted topic). */
  value: Buffer | string | null;
}

export interface BoundedProducerOptions {
  /** Partitions, replication factor and configuration of a topic this producer has to create. */
  partitions: number;
  replicationFactor: number;
  topicConfig?: Record<string, string>;
  /** Topics this producer expects to write to; their metadata is fetched when it connects. */
  topics?: readonly string[];
  /** Most bytes of records (keys, values, framing) in one produce request (the broker caps a batch at 1 MiB). */
  maxRequestBytes?: number;
  now?: () => number;
}

/** Resolves like `work`, or rejects with ProduceTimeoutError at `deadline` (epoch ms). */
export function beforeDeadline<T>(work: Promise<T>, deadline: number, what: string, now: () => number = Date.now): Promise<T> {
  // The losing promise may still reject later; that must not become an unhandled rejection.
  work.catch(() => undefined);
  const left = deadline - now();
  if (left <= 0) return Promise.reject(new ProduceTimeoutError(`${what}: no time left`));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProduceTimeoutError(`${what}: no answer within ${left} ms`)), left);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The error (or one of its causes) says the topic does not exist. */
function isUnknownTopic(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}

/**
 * An idempotent kafkajs producer asks for the metadata of every topic of the cluster when it
 * connects, unless its cluster already knows which topics it will write to; on a cluster with
 * thousands of topics that costs a push dearly. kafkajs has no option for it, so the cluster the
 * producer gets is told its topics up front, then one metadata request (for those topics only)
 * serves both the connection and the first send. Installed only with the workarounds (see
 * workarounds.ts); without them, or without the expected internals, this is a plain producer.
 */
export function producerFor(kafka: Kafka, config: ProducerConfig, topics: readonly string[]): Producer {
  if (!workaroundState().producerTopics) return kafka.producer(config);
  const holder = kafka as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const createCluster = key === undefined ? undefined : holder[key];
  if (key === undefined || typeof createCluster !== 'function' || topics.length === 0) return kafka.producer(config);
  holder[key] = (...args: unknown[]) => {
    const cluster = (createCluster as (...a: unknown[]) => unknown)(...args);
    const targets = (cluster as { targetTopics?: unknown }).targetTopics;
    if (targets instanceof Set) for (const topic of topics) targets.add(topic);
    return cluster;
  };
  try {
    return kafka.producer(config);
  } finally {
    holder[key] = createCluster;
  }
}

export class BoundedProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly created = new Set<string>();
  private readonly now: () => number;
  private readonly maxRequestBytes: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BoundedProducerOptions,
    /** What a failed connection is rethrown as (the client's refusals, explained). */
    private readonly explain: (err: unknown) => unknown = (err) => err,
  ) {
    this.now = options.now ?? Date.now;
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    const config: ProducerConfig = {
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Bounded on purpose: the caller keeps what was not acknowledged and sends it again later.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    };
    this.producer = producerFor(kafka, config, options.topics ?? []);
  }

  /**
   * Sends the records in order and resolves once the broker acknowledged all of them. A topic
   * that does not exist is created (once) with the configured partitions. Rejects with
   * ProduceTimeoutError at the deadline, or with the client's error. `acked` hears of every
   * acknowledged run of records (in order), so a caller can forget them early.
   */
  async send(records: OutgoingRecord[], deadline: number, acked?: (count: number) => Promise<void>): Promise<void> {
    await this.connect(deadline);
    for (const chunk of requestChunks(records, this.maxRequestBytes, true)) {
      await this.sendChunk(chunk, deadline);
      await acked?.(chunk.length);
    }
  }

  /**
   * Connects (once; a failed connection is forgotten, so the next call tries again). When an
   * expected topic does not exist, it is created and the connection tried again.
   */
  async connect(deadline: number): Promise<void> {
    this.connected ??= this.producer.connect().catch(async (err: unknown) => {
      const missing = (this.options.topics ?? []).filter((t) => !this.created.has(t));
      if (!isUnknownTopic(err) || missing.length === 0) {
        this.connected = undefined;
        throw err;
      }
      for (const topic of missing) {
        this.created.add(topic);
        await this.createTopic(topic);
      }
      await this.producer.connect();
    });
    const connecting = this.connected;
    await beforeDeadline(connecting, deadline, 'connecting to Kafka', this.now).catch((err: unknown) => {
      if (this.connected === connecting) this.connected = undefined;
      throw this.explain(err);
    });
  }

  private async sendChunk(chunk: OutgoingRecord[], deadline: number): Promise<void> {
    const topic = chunk[0]?.topic;
    if (topic === undefined) return;
    const request = () =>
      this.producer.send({ topic, acks: -1, messages: chunk.map((r) => ({ key: r.key, value: r.value })) });
    try {
      await beforeDeadline(request(), deadline, 'producing to Kafka', this.now);
    } catch (err) {
      if (!isUnknownTopic(err) || this.created.has(topic)) throw err;
      this.created.add(topic);
      await beforeDeadline(this.createTopic(topic), deadline, `creating topic ${topic}`, this.now);
      await beforeDeadline(request(), deadline, 'producing to Kafka', this.now);
    }
  }

  private async createTopic(topic: string): Promise<void> {
    const admin: Admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } });
    await admin.connect();
    try {
      await createMissingTopics(admin, [
        { topic, numPartitions: this.options.partitions, replicationFactor: this.options.replicationFactor, ...(this.options.topicConfig ? { config: this.options.topicConfig } : {}) },
      ]);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Disconnects, waiting at most `graceMs`; the rest happens in the background. */
  async close(graceMs = 200): Promise<void> {
    if (!this.connected) return;
    const done = this.producer.disconnect().catch(() => undefined);
    await beforeDeadline(done, this.now() + graceMs, 'disconnecting', this.now).catch(() => undefined);
  }
}
