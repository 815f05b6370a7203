import type { RawHeaders } from './headers.js';

/** A consumed record, as the ladder sees it (free of the Kafka client's types). */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Append time on retry topics (LogAppendTime), ms since the epoch. */
  timestamp: number;
  headers: RawHeaders;
  /** The client could not decode the batch this stands for: why (see ConsumedMessage). */
  unreadable?: string | undefined;
}

/** A record the ladder produces: a hand-off to a retry stage or the failed topic. */
export interface OutRecord {
  topic: string;
  /** Explicit on retry topics (an event keeps its partition); left to the key on the failed topic. */
  partition?: number;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * The largest record the ladder hands on: under the broker's default max.message.bytes
 * (1,048,588) with room for the record batch around it. A record that would be larger with
 * pullrep's headers is replaced by a small failure record (reason `oversized`).
 */
export const MAX_HANDOFF_RECORD_BYTES = 1_000_000;
