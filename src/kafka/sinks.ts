import type { Kafka, Message, Producer } from 'kafkajs';
import { RecordTooLargeError, type ProducedRecord, type RecordSink, type TransactionalSink } from './types.js';

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

/**
 * Most bytes of records in one produce request. The broker refuses a record batch over the
 * topic's max.message.bytes (1 MiB by default), and one request carries one batch per partition:
 * staying under 900 KiB leaves room for the batch and request framing.
 */
export const MAX_REQUEST_BYTES = 900 * 1024;

/** A record's framing in a batch (length, attributes, deltas, key and value lengths), rounded up. */
const RECORD_OVERHEAD_BYTES = 32;

const bytesOf = (v: string | Buffer | null | undefined) => (v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/** What a record adds to a produce request: key, value, headers and framing. */
export function recordBytes(r: ProducedRecord): number {
  let headers = 0;
  for (const [name, value] of Object.entries(r.headers ?? {})) headers += Buffer.byteLength(name) + bytesOf(value) + 2 * 5;
  return bytesOf(r.key) + bytesOf(r.value) + headers + RECORD_OVERHEAD_BYTES;
}

/**
 * Consecutive runs of records, each at most `maxBytes` (or a single record), in order; with
 * `oneTopic`, a run also ends where the topic changes.
 */
export function* requestChunks<R extends ProducedRecord>(records: readonly R[], maxBytes = MAX_REQUEST_BYTES, oneTopic = false): Generator<R[]> {
  let current: R[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    const otherTopic = oneTopic && current.length > 0 && current[0]?.topic !== record.topic;
    if (current.length > 0 && (otherTopic || bytes + size > maxBytes)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) yield current;
}

/** Whether the client's error (or one it wraps) is the broker's "too large" answer. */
function tooLarge(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { type?: unknown; cause?: unknown; errors?: unknown };
  if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  return tooLarge(e.cause, depth + 1) || (Array.isArray(e.errors) && e.errors.some((x) => tooLarge(x, depth + 1)));
}

/** Sends in order, in requests the broker accepts (see MAX_REQUEST_BYTES). */
async function sendAll(target: Pick<Producer, 'sendBatch'>, records: readonly ProducedRecord[]): Promise<void> {
  for (const chunk of requestChunks(records)) {
    try {
      await target.sendBatch({ topicMessages: topicMessages(chunk), acks: -1 });
    } catch (err) {
      if (tooLarge(err)) throw new RecordTooLargeError(`the broker refused a record as too large: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }
}

/** Connects; a producer whose connection failed is disconnected, so it leaves nothing running. */
async function connectOrDisconnect(producer: Producer): Promise<void> {
  try {
    await producer.connect();
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
}

/** An idempotent producer, connected; every send waits for all in-sync replicas. */
export async function recordSink(kafka: Kafka): Promise<RecordSink> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectOrDisconnect(producer);
  return { send: (records) => sendAll(producer, records), disconnect: () => producer.disconnect() };
}

/** A transactional producer with a stable id, connected (which fences a predecessor with that id). */
export async function transactionalSink(kafka: Kafka, transactionalId: string): Promise<TransactionalSink> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId });
  await connectOrDisconnect(producer);
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
