import { join } from 'node:path';
import type { PublishOptions } from '../config/index.js';
import type { BoundedProducer, KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { PublishInputError } from './errors.js';
import type { PublisherDeps } from './publisher.js';
import { Spool } from './spool.js';
import { SpoolLock } from './spool-lock.js';

const LOCK_NAME = '.drain.lock';

/** The spool directory, or a clear error when the configuration gives none. */
export function spoolDirOf(options: Pick<PublishOptions, 'spoolDir'>): string {
  if (!options.spoolDir) throw new PublishInputError('publish.spoolDir or primary.root must be set (PULLREP_PUBLISH_SPOOL_DIR or PULLREP_PRIMARY_ROOT): the spool lives there');
  return options.spoolDir;
}

/** The spool of this configuration, which reads the spooling hook's pushes too (when primary.root is set). */
export function spoolOf(options: PublishOptions, now: () => number = Date.now): Spool {
  const push = options.root ? { root: options.root, origin: options.origin, topic: options.topic, maxEventBytes: options.maxEventBytes } : undefined;
  return new Spool(spoolDirOf(options), now, push);
}

export interface Publishing extends PublisherDeps {
  /** Disconnects from Kafka (bounded), if a connection was made. */
  close(): Promise<void>;
}

export interface PublishingSetup {
  options: PublishOptions;
  logger: Logger;
  /**
   * The Kafka client, made only when an event has to go out. Its timeouts and retries should fit
   * in options.timeoutMs (see boundedKafkaSettings).
   */
  kafka: () => KafkaClient;
  now?: () => number;
}

/** Spool, drain lock and a lazily connected, time-bounded producer. */
export function openPublishing(setup: PublishingSetup): Publishing {
  const { options, logger } = setup;
  const now = setup.now ?? Date.now;
  const spool = spoolOf(options, now);
  const { timeoutMs } = options;
  const lock = new SpoolLock({ path: join(spool.dir, LOCK_NAME), staleMs: Math.max(60_000, 10 * timeoutMs), now });
  let producer: BoundedProducer | undefined;
  const make = () =>
    setup.kafka().boundedProducer({
      topics: [options.topic],
      partitions: options.partitions,
      replicationFactor: options.replicationFactor,
      now,
    });
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
