import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { MissingTopicError } from './read-to-end.js';
import { toConsumed } from './source.js';
import type { ConsumedMessage, TopicFollower } from './types.js';

/**
 * Follows a topic from its beginning, for as long as it runs: every record (in offset order per
 * partition), then whatever is appended. `caughtUp` resolves once every partition was read up to
 * the end offsets found at the start. The consumer group is a throwaway one: it commits nothing
 * (each start reads the topic again, as a compacted topic is meant to be read) and is deleted on
 * stop.
 */
export function followTopic(kafka: Kafka, topic: string, onRecord: (partition: number, message: ConsumedMessage) => void, onFatal?: (err: unknown) => void): TopicFollower {
  const groupId = `pullrep-follower-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, readUncommitted: false });
  let isCaught = false;
  let resolveCaught!: () => void;
  let failed!: (err: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => ((resolveCaught = resolve), (failed = reject)));
  const caught = () => {
    isCaught = true;
    resolveCaught();
  };
  caughtUp.catch(() => undefined);
  let stopping: Promise<void> | undefined;

  const run = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) throw new MissingTopicError(`topic ${topic} does not exist`);
      const ends = await admin.fetchTopicOffsets(topic);
      const pending = new Map<number, bigint>();
      for (const e of ends) if (BigInt(e.high) > BigInt(e.low)) pending.set(e.partition, BigInt(e.high));
      const reached = (partition: number, next: bigint) => {
        const high = pending.get(partition);
        if (high === undefined || next < high) return;
        pending.delete(partition);
        if (pending.size === 0) caught();
      };
      if (pending.size === 0) caught();
      // A crash the client does not restart from: before catching up, caughtUp rejects; after, the owner is told.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        failed(payload.error);
        onFatal?.(payload.error);
      });
      // Batches of only transaction markers or aborted records never reach eachBatch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic) reached(payload.partition, BigInt(payload.lastOffset) + 1n);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) onRecord(batch.partition, toConsumed(message));
        },
      });
    } finally {
      await admin.disconnect();
    }
  };
  // Failing after it caught up (an empty topic is caught up before connecting): the owner is told.
  const started = run().catch((err: unknown) => {
    failed(err);
    if (isCaught && !stopping) onFatal?.(err);
  });

  return {
    caughtUp,
    stop() {
      stopping ??= (async () => {
        await started;
        await consumer.disconnect().catch(() => undefined);
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.deleteGroups([groupId]);
        } catch {
          // An empty group without offsets expires by itself.
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      })();
      return stopping;
    },
  };
}
