import { MissingTopicError, type KafkaClient } from '../kafka/index.js';
import { toEntry, type FailureEntry } from './entry.js';

type RawFailure = Parameters<typeof toEntry>[1];

/** Keys longer than this are not failure ids; such records are skipped. */
const MAX_KEY = 128;

/**
 * What is outstanding on a failed topic: for each key, its latest record, unless that is a
 * tombstone (resolved or replayed). Reads from the beginning to the end offsets captured at start.
 */
export async function readOutstanding(
  kafka: KafkaClient,
  options: { topic: string; stages: number; now?: () => number; timeoutMs?: number },
): Promise<FailureEntry[]> {
  // The latest record of each key; entries are built once, at the end, for what is outstanding.
  const latest = new Map<string, RawFailure | null>();
  const now = options.now ?? Date.now;
  await kafka.readToEnd(
    options.topic,
    (partition, message) => {
      const id = message.key?.toString('utf8');
      if (!id || id.length > MAX_KEY) return;
      if (message.value === null) {
        latest.set(id, null);
        return;
      }
      latest.set(id, { partition, offset: message.offset, timestamp: Number(message.timestamp), value: message.value, headers: message.headers });
    },
    { timeoutMs: options.timeoutMs },
  ).catch((err: unknown) => {
    // No failed topic yet: nothing has failed on this replica.
    if (!(err instanceof MissingTopicError)) throw err;
  });
  const at = now();
  return [...latest.entries()]
    .flatMap(([id, record]) => (record ? [toEntry(id, record, { topic: options.topic, stages: options.stages, now: at })] : []))
    .sort((a, b) => a.lastFailureAt.localeCompare(b.lastFailureAt) || a.id.localeCompare(b.id));
}
