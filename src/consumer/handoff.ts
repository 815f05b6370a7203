import type { Consumer, Producer } from '../kafka/index.js';
import type { CommitPoint, HandOff, OutRecord } from './records.js';

function topicMessages(records: OutRecord[]) {
  const byTopic = new Map<string, OutRecord[]>();
  for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  return [...byTopic].map(([topic, list]) => ({
    topic,
    messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers, ...(r.partition === undefined ? {} : { partition: r.partition }) })),
  }));
}

/**
 * Produce with acks from all in-sync replicas (idempotent producer), then commit. A crash between
 * the two repeats the hand-off on restart, which is harmless: events are hints.
 */
export function produceThenCommit(deps: { producer: Producer; consumer: Consumer }): HandOff {
  return {
    async deliver(records, commit, stillOwned = () => true) {
      if (records.length > 0) await deps.producer.sendBatch({ topicMessages: topicMessages(records), acks: -1 });
      // The records are handed on either way; a new owner handing them on again is harmless.
      if (!stillOwned()) return false;
      await deps.consumer.commitOffsets([commit]);
      return true;
    },
    async close() {
      await deps.producer.disconnect();
    },
  };
}

/**
 * Produce and commit the consumed offset in one Kafka transaction: either both happen or neither.
 * A producer runs one transaction at a time, so deliveries are serialized.
 */
export function transactionalHandOff(deps: { producer: Producer; groupId: string }): HandOff {
  let chain: Promise<unknown> = Promise.resolve();
  const deliverOne = async (records: OutRecord[], commit: CommitPoint, stillOwned: () => boolean): Promise<boolean> => {
    const tx = await deps.producer.transaction();
    try {
      if (records.length > 0) await tx.sendBatch({ topicMessages: topicMessages(records), acks: -1 });
      if (!stillOwned()) {
        // Neither the records nor the offset: the new owner does the whole batch.
        await tx.abort();
        return false;
      }
      await tx.sendOffsets({
        consumerGroupId: deps.groupId,
        topics: [{ topic: commit.topic, partitions: [{ partition: commit.partition, offset: commit.offset }] }],
      });
      await tx.commit();
      return true;
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  };
  return {
    deliver(records, commit, stillOwned = () => true) {
      const run = chain.then(() => deliverOne(records, commit, stillOwned));
      chain = run.catch(() => undefined);
      return run;
    },
    async close() {
      await chain;
      await deps.producer.disconnect();
    },
  };
}
