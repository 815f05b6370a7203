import type { KafkaAdmin, KafkaClient } from '../kafka/index.js';
import { readOutstanding } from '../failed/index.js';
import { consumedTopics, type LadderTopics } from '../retry/index.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; null when it never committed there. */
  committed: number | null;
  end: number;
  lag: number;
}

/** One topic's partitions summed up. */
export interface TopicLag {
  topic: string;
  partitions: number;
  /** Partitions where the group committed at least once. */
  committedPartitions: number;
  end: number;
  lag: number;
}

export interface ReplicaStatus {
  replica: string;
  topics: TopicLag[];
  partitions: PartitionLag[];
  totalLag: number;
  outstandingFailures: number;
}

/** Committed offset, end and lag of a consumer group on each partition of the topics that exist. */
export async function groupLag(admin: KafkaAdmin, group: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const partitions: PartitionLag[] = [];
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const committed = await admin.committedOffsets(group, present);
  for (const topic of present) {
    const mine = committed.get(topic);
    for (const end of await admin.topicOffsets(topic)) {
      const at = mine?.get(end.partition);
      const known = at !== undefined && BigInt(at) >= 0n;
      const from = known ? BigInt(at) : BigInt(end.low);
      const lag = BigInt(end.high) - from;
      partitions.push({ topic, partition: end.partition, committed: known ? Number(at) : null, end: Number(end.high), lag: Number(lag > 0n ? lag : 0n) });
    }
  }
  return partitions;
}

/** Lag of this replica's consumer group on each of its topics, and the outstanding failures. */
export async function replicaStatus(kafka: KafkaClient, options: { replica: string; topics: LadderTopics; stages: number }): Promise<ReplicaStatus> {
  const topics = consumedTopics(options.topics);
  const admin = await kafka.admin();
  let partitions: PartitionLag[];
  try {
    partitions = await groupLag(admin, options.replica, topics);
  } finally {
    await admin.disconnect();
  }
  // A missing failed topic reads as empty; any other error is the command's: a count of 0 would lie.
  const outstanding = await readOutstanding(kafka, { topic: options.topics.failed, stages: options.stages });
  const byTopic = new Map<string, TopicLag>();
  for (const p of partitions) {
    const t = byTopic.get(p.topic) ?? { topic: p.topic, partitions: 0, committedPartitions: 0, end: 0, lag: 0 };
    t.partitions += 1;
    if (p.committed !== null) t.committedPartitions += 1;
    t.end += p.end;
    t.lag += p.lag;
    byTopic.set(p.topic, t);
  }
  const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);
  return { replica: options.replica, topics: [...byTopic.values()], partitions, totalLag, outstandingFailures: outstanding.length };
}
