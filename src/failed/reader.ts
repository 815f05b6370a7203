import { MissingTopicError, type ConsumedMessage, type KafkaClient } from '../kafka/index.js';
import { hasControl } from '../text/index.js';
import { toEntry, type FailureEntry } from './entry.js';

/** Keys longer than this are not failure ids; such records are skipped. */
const MAX_KEY = 128;

/**
 * The id shown for a failed-topic key: the key itself when it is printable UTF-8 (pullrep's
 * ids are), else `hex:` and its bytes, so two different byte keys never show as one entry.
 */
export function idOfKey(key: Buffer): string {
  const text = key.toString('utf8');
  const exact = Buffer.from(text, 'utf8').equals(key) && !hasControl(text) && !text.startsWith('hex:');
  return exact ? text : `hex:${key.toString('hex')}`;
}

export interface ReadOptions {
  topic: string;
  stages: number;
  now?: () => number;
  timeoutMs?: number;
  /**
   * Which entries keep the event they carry (show and replay need it; a listing does not).
   * Entries are built as records arrive and only these keep their value, so memory follows what
   * is shown, not what the topic holds.
   */
  keepValue?: (entry: FailureEntry) => boolean;
}

/** A failure that was replayed or resolved: its last record, and when its tombstone was written. */
export interface ClosedFailure {
  entry: FailureEntry;
  closedAt: string;
}

export interface FailedTopic {
  /** Outstanding failures, oldest last failure first. */
  outstanding: FailureEntry[];
  /** Failures replayed or resolved, by id, while the topic still holds their history. */
  closed: Map<string, ClosedFailure>;
}

/**
 * Reads a failed topic from the beginning to the end offsets captured at start: for each key,
 * its latest record; a key whose latest record is a tombstone (replayed or resolved) is closed,
 * with the record before it kept as its history (until compaction removes it).
 */
export async function readFailedTopic(kafka: KafkaClient, options: ReadOptions): Promise<FailedTopic> {
  const latest = new Map<string, FailureEntry>();
  const closedAt = new Map<string, string>();
  const at = (options.now ?? Date.now)();
  const keep = options.keepValue ?? (() => false);
  const onRecord = (partition: number, message: ConsumedMessage) => {
    if (!message.key || message.key.length === 0 || message.key.length > MAX_KEY) return;
    // A copy: the consumed key is a view into the whole fetch response, which must not stay alive.
    const key = Buffer.from(message.key);
    const id = idOfKey(key);
    if (message.value === null) {
      closedAt.set(id, new Date(Number(message.timestamp)).toISOString());
      return;
    }
    closedAt.delete(id);
    const record = { partition, offset: message.offset, timestamp: Number(message.timestamp), value: message.value, headers: message.headers };
    const entry = toEntry(id, key, record, { topic: options.topic, stages: options.stages, now: at });
    latest.set(id, keep(entry) ? { ...entry, value: Buffer.from(message.value) } : { ...entry, value: null });
  };
  await kafka.readToEnd(options.topic, onRecord, { timeoutMs: options.timeoutMs }).catch((err: unknown) => {
    // No failed topic yet: nothing has failed on this replica.
    if (!(err instanceof MissingTopicError)) throw err;
  });
  const outstanding: FailureEntry[] = [];
  const closed = new Map<string, ClosedFailure>();
  for (const [id, entry] of latest) {
    const when = closedAt.get(id);
    if (when === undefined) outstanding.push(entry);
    else closed.set(id, { entry, closedAt: when });
  }
  outstanding.sort((a, b) => a.lastFailureAt.localeCompare(b.lastFailureAt) || a.id.localeCompare(b.id));
  return { outstanding, closed };
}

/** What is outstanding on a failed topic (see readFailedTopic). */
export async function readOutstanding(kafka: KafkaClient, options: ReadOptions): Promise<FailureEntry[]> {
  return (await readFailedTopic(kafka, options)).outstanding;
}
