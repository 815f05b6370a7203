import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { toConsumed } from './source.js';
import type { ConsumedMessage, ReadToEndOptions } from './types.js';

/** The topic to read does not exist. */
export class MissingTopicError extends Error {
  override readonly name = 'MissingTopicError';
  readonly retriable = false;
}

/**
 * Reads every record of a topic from the beginning up to the end offsets captured when it starts,
 * in offset order per partition, with a throwaway consumer group that commits nothing and is
 * deleted afterwards. Records appended meanwhile are not waited for.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onRecord: (partition: number, message: ConsumedMessage) => void,
  options: ReadToEndOptions = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `pullrep-reader-${randomUUID()}`;
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new MissingTopicError(`topic ${topic} does not exist`);
    const ends = await admin.fetchTopicOffsets(topic);
    const pending = new Map<number, bigint>();
    for (const e of ends) if (BigInt(e.high) > BigInt(e.low)) pending.set(e.partition, BigInt(e.high));
    if (pending.size === 0) return;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, readUncommitted: false });
    await consumer.connect();
    try {
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      // Progress comes from the client's end-of-batch event: it also covers batches that hold only
      // transaction markers or aborted records, which never reach eachBatch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const high = pending.get(payload.partition);
        if (payload.topic !== topic || high === undefined || BigInt(payload.lastOffset) + 1n < high) return;
        pending.delete(payload.partition);
        if (pending.size === 0) done();
      });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const high = pending.get(batch.partition);
          if (high === undefined) return;
          for (const message of batch.messages) if (BigInt(message.offset) < high) onRecord(batch.partition, toConsumed(message));
        },
      });
      const timeoutMs = options.timeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
