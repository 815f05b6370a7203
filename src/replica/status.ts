import type { KafkaAdmin, KafkaClient } from '../kafka/index.js';
import { readOutstanding } from '../failed/index.js';
import { consumedTopics, type LadderTopics } from '../retry/index.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; null when it never committed there. */
  committed: string | null;
  end: string;
  lag: string;
}

export interface ReplicaStatus {
  replica: string;
  partitions: PartitionLag[];
  totalLag: string;
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
      partitions.push({ topic, partition: end.partition, committed: known ? at : null, end: end.high, lag: String(lag > 0n ? lag : 0n) });
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
  const totalLag = partitions.reduce((sum, p) => sum + BigInt(p.lag), 0n);
  return { replica: options.replica, partitions, totalLag: String(totalLag), outstandingFailures: outstanding.length };
}
