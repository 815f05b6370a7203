/**
 * pullrep's own view of Kafka: the few operations it needs, in its own types. Nothing outside
 * src/kafka/ sees the client library; swapping it means rewriting the adapters in this folder.
 */

/** Header values as they come off the wire: bytes, text, repeated, or null (a header without a value). */
export type HeaderValue = Buffer | string | Array<Buffer | string> | null | undefined;
export type RecordHeaders = Record<string, HeaderValue> | undefined;

/**
 * The broker refused a produce because a record, or a batch of them, is larger than the topic
 * takes (its max.message.bytes). Sending the same again cannot succeed; smaller records may.
 */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  readonly retriable = false;
}

/** A record as consumed. */
export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** ms since the epoch, as text (append time on LogAppendTime topics). */
  timestamp: string;
  headers: RecordHeaders;
  /**
   * Set when this stands for a record batch the client could not decode (a decompression bomb,
   * a codec it cannot read, corrupt bytes): why. It has neither key nor value.
   */
  unreadable?: string;
}

/** A record to produce. */
export interface ProducedRecord {
  topic: string;
  /** Explicit partition; left to the key's hash when absent. */
  partition?: number;
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: Record<string, string>;
}

/** Where a partition's consumption continues from: the next offset to read. */
export interface CommitPoint {
  topic: string;
  partition: number;
  offset: string;
}

/** Produces records, each acknowledged by all in-sync replicas (idempotent producer). */
export interface RecordSink {
  send(records: readonly ProducedRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** One Kafka transaction: records and a consumer group's offset, committed or aborted together. */
export interface SinkTransaction {
  send(records: readonly ProducedRecord[]): Promise<void>;
  sendOffset(groupId: string, point: CommitPoint): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A transactional producer; its id fences any earlier producer with the same id. */
export interface TransactionalSink {
  begin(): Promise<SinkTransaction>;
  disconnect(): Promise<void>;
}

/** A topic-partition list, as pause/resume take it. */
export type TopicPartitions = Array<{ topic: string; partitions: number[] }>;

/** One batch of one topic-partition, as a group consumer hands it over. */
export interface SourceBatch {
  batch: { topic: string; partition: number; messages: ConsumedMessage[] };
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
}

export interface BatchSourceOptions {
  groupId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** Longest a fetch waits on the broker for new records. */
  maxWaitTimeMs: number;
  /** Most bytes one fetch response may carry, all partitions together (compressed as stored). */
  maxBytes: number;
  /** Most bytes per partition in one fetch response (the broker still sends one batch larger than this). */
  maxBytesPerPartition: number;
}

/** A group consumer that hands over batches and lets its user pause, resume, seek and commit. */
export interface BatchSource {
  /** Called on every group join with this member's assignment (topic → partitions). */
  onJoin(listener: (assignment: Record<string, number[]>) => void): void;
  /** Called when the client crashed; `restart` says whether it restarts by itself. */
  onCrash(listener: (error: unknown, restart: boolean) => void): void;
  /** Connects, subscribes (from the beginning when the group has no offset) and runs `handler` per batch. */
  start(topics: readonly string[], handler: (batch: SourceBatch) => Promise<void>, options: { concurrency: number }): Promise<void>;
  pause(topics: TopicPartitions): void;
  resume(topics: TopicPartitions): void;
  /** Pauses every partition of these topics. */
  pauseTopics(topics: readonly string[]): void;
  seek(position: CommitPoint): void;
  commit(point: CommitPoint): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
  /** Topic-level configuration, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

export interface TopicState {
  topic: string;
  partitions: number;
  /** Replicas of its first partition. */
  replicationFactor: number;
}

export interface PartitionOffsets {
  partition: number;
  /** The log start offset. */
  low: string;
  /** The next offset to be written. */
  high: string;
}

/** The cluster operations pullrep needs. */
export interface KafkaAdmin {
  listTopics(): Promise<string[]>;
  /**
   * Partition counts of the named topics that exist. `existing` is the cluster's topic list when
   * the caller has it already (createMissingTopics keeps it up to date), saving a listing.
   */
  describeTopics(topics: readonly string[], existing?: Set<string>): Promise<Map<string, TopicState>>;
  /** Creates the topics that are missing; returns the names it created (and adds them to `existing`). */
  createMissingTopics(specs: readonly TopicSpec[], existing?: Set<string>): Promise<string[]>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** A group's committed offsets per topic and partition ("-1" where it has none). */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<Map<string, Map<number, string>>>;
  /** The named configuration values of each topic. */
  topicConfigs(topics: readonly string[], names: readonly string[]): Promise<Map<string, Map<string, string>>>;
  /** How many brokers the cluster has. */
  brokerCount(): Promise<number>;
  disconnect(): Promise<void>;
}

export interface ReadToEndOptions {
  /** Gives up after this long (ms). */
  timeoutMs?: number;
}

/** A topic read from its beginning and followed (see follow.ts). */
export interface TopicFollower {
  /** Resolves once the topic was read up to the end it had when following began; rejects when it could not be read. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/** The client moved a group's position because it was out of range (events it had not read are gone). */
export interface OffsetReset {
  groupId: string;
  topic: string;
  partition: number;
}
