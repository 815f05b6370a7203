import type { Kafka, Message, Producer } from 'kafkajs';
import type { ProducedRecord, RecordSink, TransactionalSink } from './types.js';

function topicMessages(records: readonly ProducedRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    const message: Message = { key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}), ...(r.partition === undefined ? {} : { partition: r.partition }) };
    const list = byTopic.get(r.topic);
    if (list) list.push(message);
    else byTopic.set(r.topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

async function sendAll(target: Pick<Producer, 'sendBatch'>, records: readonly ProducedRecord[]): Promise<void> {
  if (records.length > 0) await target.sendBatch({ topicMessages: topicMessages(records), acks: -1 });
}

/** An idempotent producer, connected; every send waits for all in-sync replicas. */
export async function recordSink(kafka: Kafka): Promise<RecordSink> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return { send: (records) => sendAll(producer, records), disconnect: () => producer.disconnect() };
}

/** A transactional producer with a stable id, connected (which fences a predecessor with that id). */
export async function transactionalSink(kafka: Kafka, transactionalId: string): Promise<TransactionalSink> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId });
  await producer.connect();
  return {
    async begin() {
      const tx = await producer.transaction();
      return {
        send: (records) => sendAll(tx, records),
        sendOffset: (groupId, point) =>
          tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: point.topic, partitions: [{ partition: point.partition, offset: point.offset }] }] }),
        commit: () => tx.commit(),
        abort: () => tx.abort(),
      };
    },
    disconnect: () => producer.disconnect(),
  };
}
