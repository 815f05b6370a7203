import type { Consumer, Kafka } from 'kafkajs';
import { REPLICA_ASSIGNERS } from './copartitioned.js';
import { BATCH_ERROR_HEADER } from './record-batch.js';
import type { BatchSource, BatchSourceOptions, ConsumedMessage } from './types.js';

/** A group consumer as pullrep's BatchSource: manual commits, batches handed over whole. */
export function batchSource(kafka: Kafka, options: BatchSourceOptions): BatchSource {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: options.rebalanceTimeoutMs,
    maxWaitTimeInMs: options.maxWaitTimeMs,
    maxBytes: options.maxBytes,
    maxBytesPerPartition: options.maxBytesPerPartition,
    readUncommitted: false,
    partitionAssigners: REPLICA_ASSIGNERS,
  });
  return {
    onJoin(listener) {
      consumer.on(consumer.events.GROUP_JOIN, (event) => listener(event.payload.memberAssignment));
    },
    onCrash(listener) {
      consumer.on(consumer.events.CRASH, (event) => listener(event.payload.error, event.payload.restart));
    },
    async start(topics, handler, { concurrency }) {
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: ({ batch, heartbeat }) =>
          handler({
            batch: { topic: batch.topic, partition: batch.partition, messages: batch.messages.map(toConsumed) },
            heartbeat,
          }),
      });
    },
    pause: (topics) => consumer.pause(topics),
    resume: (topics) => consumer.resume(topics),
    pauseTopics: (topics) => consumer.pause(topics.map((topic) => ({ topic }))),
    seek: (position) => consumer.seek(position),
    commit: (point) => consumer.commitOffsets([point]),
    disconnect: () => consumer.disconnect(),
  };
}

export function toConsumed(m: { offset: string; key: Buffer | null; value: Buffer | null; timestamp: string; headers?: ConsumedMessage['headers'] }): ConsumedMessage {
  const consumed: ConsumedMessage = { offset: m.offset, key: m.key ?? null, value: m.value ?? null, timestamp: m.timestamp, headers: m.headers };
  // The placeholder record-batch.ts put where a batch could not be decoded.
  const why = m.key === null && m.value === null ? m.headers?.[BATCH_ERROR_HEADER] : undefined;
  if (Buffer.isBuffer(why)) return { ...consumed, headers: {}, unreadable: why.toString('utf8') };
  return consumed;
}
