import type { RawHeaders } from '../retry/index.js';

/** A consumed record, as the consumer's logic sees it (free of the Kafka client's types). */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Append time on retry topics (LogAppendTime), ms since the epoch. */
  timestamp: number;
  headers: RawHeaders;
}

/** A record to produce: a hand-off to a retry stage or the failed topic. */
export interface OutRecord {
  topic: string;
  /** Explicit on retry topics (an event keeps its partition); left to the key on the failed topic. */
  partition?: number;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Where a partition's consumption may continue from: the next offset to read. */
export interface CommitPoint {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Produces records and commits a consumed offset, in that order: the commit happens only once
 * every produce is acknowledged by all in-sync replicas (or both happen in one transaction).
 * `stillOwned` is asked right before the commit: when the partition has moved to another member
 * meanwhile, nothing is committed (its new owner processes the records again) and deliver
 * resolves false.
 */
export interface HandOff {
  deliver(records: OutRecord[], commit: CommitPoint, stillOwned?: () => boolean): Promise<boolean>;
  close(): Promise<void>;
}
