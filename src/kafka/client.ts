import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type Kafka, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readCaFile, type KafkaOptions } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { accessError, type AccessSettings } from './access.js';
import { adminOps } from './admin.js';
import { BoundedProducer, type BoundedProducerOptions } from './producer.js';
import { readToEnd } from './read-to-end.js';
import { checkReachable } from './reachable.js';
import { recordSink, transactionalSink } from './sinks.js';
import { batchSource } from './source.js';
import { followTopic } from './follow.js';
import type { BatchSource, BatchSourceOptions, ConsumedMessage, KafkaAdmin, OffsetReset, ReadToEndOptions, RecordSink, TopicFollower, TransactionalSink } from './types.js';

// kafkajs is CommonJS; its named exports are reached through the default export.
const { Kafka: KafkaClass, logLevel } = kafkajs;

/** The `kafka.*` options, plus what the caller adds. */
export type KafkaSettings = KafkaOptions & {
  logger: Logger;
  /** Retries of the client's own requests; lower it where failing fast matters (publish). */
  retries?: number;
  /**
   * Before the first admin, sink or read, check that a broker answers at all (within
   * connectionTimeoutMs), so that a one-shot command fails at once with one line naming
   * kafka.brokers instead of after the client's retries.
   */
  checkReachable?: boolean;
};

/** A Kafka cluster as pullrep uses it. Every method hands out one of pullrep's own interfaces. */
export interface KafkaClient {
  /** A connected admin client; disconnect it when done. */
  admin(): Promise<KafkaAdmin>;
  /** A connected idempotent producer (acks from all in-sync replicas). */
  sink(): Promise<RecordSink>;
  /** A connected transactional producer; connecting fences any earlier producer with this id. */
  transactionalSink(transactionalId: string): Promise<TransactionalSink>;
  /** A group consumer (not yet connected: see BatchSource.start). */
  batchSource(options: BatchSourceOptions): BatchSource;
  /** A producer bounded by deadlines, for the primary (see producer.ts). */
  boundedProducer(options: BoundedProducerOptions): BoundedProducer;
  /** Reads a topic from its beginning to the end offsets found at the start. */
  readToEnd(topic: string, onRecord: (partition: number, message: ConsumedMessage) => void, options?: ReadToEndOptions): Promise<void>;
  /** Reads a topic from its beginning and keeps following it until stopped. */
  follow(topic: string, onRecord: (partition: number, message: ConsumedMessage) => void, onFatal?: (err: unknown) => void): TopicFollower;
  /**
   * Called whenever a group consumer of this client finds its position out of range and resets
   * it to the log start: the events between were never read and are gone.
   */
  onOffsetReset(listener: (reset: OffsetReset) => void): void;
  /**
   * Checks that a broker answers and takes this client: the TLS handshake (with TLS on) and the
   * SASL login (with kafka.sasl.mechanism set) on one connection, closed again. Rejects with
   * KafkaUnreachableError when no broker answers, KafkaAccessError when one refuses the
   * credentials or its certificate is not trusted, each in one line naming the key.
   */
  checkAccess(): Promise<void>;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Messages the client logs at error or warn for conditions it retries by itself, or that say
 * nothing to an operator: at debug, so they stay out of the default output (pullrep logs what it
 * does about a failure itself). Everything else keeps its level ("Offset out of range,
 * resetting" stays a warning: events may have been lost to retention).
 */
const RETRIED = [
  /^Connection error/,
  /coordinator is (loading|not available)/i,
  /^Response without match/,
  /^Failed to connect to seed broker/,
  /^Restarting the consumer/,
  // Pullrep's own choices, announced by the client at every start:
  /switched default partitioner/,
  /^Limiting retries for the idempotent producer/,
  // createMissingTopics handles a topic created meanwhile itself:
  /^Topic creation errors/,
];

/**
 * kafkajs tells of a position reset only in its log (consumerGroup.js, recoverFromOffsetOutOfRange):
 * that entry, with its topic, partition and group, is turned into an OffsetReset for listeners.
 */
const OFFSET_RESET = /^Offset out of range, resetting/;

function offsetResetOf(rest: Record<string, unknown>): OffsetReset | undefined {
  const { groupId, topic, partition } = rest;
  if (typeof groupId !== 'string' || typeof topic !== 'string' || typeof partition !== 'number') return undefined;
  return { groupId, topic, partition };
}

function logCreator(logger: Logger, resets: Set<(reset: OffsetReset) => void>) {
  const child = logger.child({ component: 'kafka' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
      if (OFFSET_RESET.test(message)) {
        const reset = offsetResetOf(rest);
        if (reset) for (const listener of resets) listener(reset);
      }
      const name = LEVELS[level] ?? 'info';
      const retried = RETRIED.some((pattern) => pattern.test(message));
      child[retried ? 'debug' : name](rest, message);
    };
}

/** kafkajs's `ssl`: off, Node.js's trusted CAs, or the CA certificates of kafka.ssl.ca (read now). */
function tlsOptions(ssl: KafkaOptions['ssl']): ConnectionOptions | undefined {
  if (ssl.ca) return { ca: readCaFile(ssl.ca) };
  return ssl.enabled ? {} : undefined;
}

function rawClient(settings: KafkaSettings, tls: ConnectionOptions | undefined, resets: Set<(reset: OffsetReset) => void>): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    ssl: tls === undefined ? false : Object.keys(tls).length ? tls : true,
    logLevel: logLevel.WARN,
    logCreator: logCreator(settings.logger, resets),
    retry: settings.retries === undefined ? undefined : { retries: settings.retries, initialRetryTime: 100 },
  };
  if (settings.sasl.mechanism) {
    config.sasl = {
      mechanism: settings.sasl.mechanism,
      username: settings.sasl.username,
      password: settings.sasl.password,
    } as SASLOptions;
  }
  return new KafkaClass(config);
}

export function createKafka(settings: KafkaSettings): KafkaClient {
  const resets = new Set<(reset: OffsetReset) => void>();
  const tls = tlsOptions(settings.ssl);
  const kafka = rawClient(settings, tls, resets);
  // What explains a refusal: everything but the password.
  const access: AccessSettings = { ssl: settings.ssl, sasl: { mechanism: settings.sasl.mechanism, username: settings.sasl.username } };
  const probe = tls === undefined ? undefined : { options: tls, settings: access };
  /** Rethrows the client's error, as a KafkaAccessError when the brokers refuse this client. */
  const explained = (connecting: boolean) => (err: unknown): never => {
    throw accessError(err, access, connecting) ?? err;
  };
  let checked: Promise<void> | undefined;
  const reachable = () => (settings.checkReachable ? (checked ??= checkReachable(settings.brokers, settings.connectionTimeoutMs, probe)) : Promise.resolve());
  return {
    async admin() {
      await reachable();
      const admin = kafka.admin();
      await admin.connect().catch(explained(true));
      return adminOps(admin);
    },
    sink: async () => (await reachable(), recordSink(kafka).catch(explained(true))),
    transactionalSink: (id) => transactionalSink(kafka, id).catch(explained(true)),
    batchSource: (options) => batchSource(kafka, options),
    boundedProducer: (options) => new BoundedProducer(kafka, options, (err) => accessError(err, access) ?? err),
    readToEnd: async (topic, onRecord, options) => (await reachable(), readToEnd(kafka, topic, onRecord, options).catch(explained(false))),
    follow: (topic, onRecord, onFatal) => followTopic(kafka, topic, onRecord, onFatal),
    onOffsetReset: (listener) => void resets.add(listener),
    async checkAccess() {
      await checkReachable(settings.brokers, settings.connectionTimeoutMs, probe);
      if (!settings.sasl.mechanism) return;
      // One try: a refusal is final; anything else is left to the caller's own start.
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
      } catch (err) {
        const refused = accessError(err, access, true);
        if (refused) throw refused;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}

/** Client settings whose timeouts and retries fit in `timeoutMs`. */
export function boundedKafkaSettings(settings: KafkaSettings, timeoutMs: number): KafkaSettings {
  return {
    ...settings,
    connectionTimeoutMs: Math.max(1, Math.min(settings.connectionTimeoutMs, timeoutMs)),
    requestTimeoutMs: Math.max(1, Math.min(settings.requestTimeoutMs, timeoutMs)),
    retries: 2,
  };
}
