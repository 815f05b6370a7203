import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { BoundedProducer, boundedKafkaSettings, createKafka } from '../kafka/index.js';
import { quietUnlessDebug, type Logger } from '../log/index.js';
import { PublishInputError } from './errors.js';
import type { PublisherDeps } from './publisher.js';
import { Spool } from './spool.js';
import { SpoolLock } from './spool-lock.js';

/** Name of the spool directory under primary.root; repository names never start with '.'. */
export const DEFAULT_SPOOL_NAME = '.pullrep-spool';
const LOCK_NAME = '.drain.lock';

export function spoolDirOf(config: Config): string {
  if (config.publish.spoolDir) return config.publish.spoolDir;
  if (!config.primary.root) throw new PublishInputError('publish.spoolDir or primary.root must be set: the spool lives there');
  return join(config.primary.root, DEFAULT_SPOOL_NAME);
}

export interface Publishing extends PublisherDeps {
  /** Disconnects from Kafka (bounded), if a connection was made. */
  close(): Promise<void>;
}

/**
 * Spool, drain lock and a lazily connected, time-bounded producer, from the configuration.
 * The Kafka client logs only errors unless debugging: its retries would be noise in a push.
 */
export function openPublishing(config: Config, logger: Logger, now: () => number = Date.now): Publishing {
  const spool = new Spool(spoolDirOf(config), now);
  const timeoutMs = config.publish.timeoutMs;
  const lock = new SpoolLock({ path: join(spool.dir, LOCK_NAME), staleMs: Math.max(60_000, 10 * timeoutMs), now });
  let producer: BoundedProducer | undefined;
  const make = () => {
    const kafka = createKafka(boundedKafkaSettings({ ...config.kafka, logger: quietUnlessDebug(logger) }, timeoutMs));
    return new BoundedProducer({
      kafka,
      topics: [config.topics.events],
      partitions: config.topics.partitions,
      replicationFactor: config.topics.replicationFactor,
      now,
    });
  };
  return {
    spool,
    lock,
    logger,
    timeoutMs,
    now,
    producer: () => (producer ??= make()),
    close: async () => {
      await producer?.close();
    },
  };
}
