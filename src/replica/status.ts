import type { Config } from '../config/index.js';
import type { Kafka } from '../kafka/index.js';
import { readOutstanding } from '../failed/index.js';
import { replicaTopics } from './topics.js';

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

/** Lag of this replica's consumer group on each of its topics, and the outstanding failures. */
export async function replicaStatus(kafka: Kafka, config: Pick<Config, 'topics' | 'replica' | 'retry'>): Promise<ReplicaStatus> {
  const ladder = replicaTopics(config);
  const topics = [ladder.events, ...ladder.retry];
  const admin = kafka.admin();
  await admin.connect();
  const partitions: PartitionLag[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    const committed = await admin.fetchOffsets({ groupId: config.replica.name, topics: present });
    for (const topic of present) {
      const ends = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends.sort((a, b) => a.partition - b.partition)) {
        const at = mine.find((p) => p.partition === end.partition)?.offset;
        const from = at !== undefined && BigInt(at) >= 0n ? BigInt(at) : BigInt(end.low);
        const lag = BigInt(end.high) - from;
        partitions.push({
          topic,
          partition: end.partition,
          committed: at !== undefined && BigInt(at) >= 0n ? at : null,
          end: end.high,
          lag: String(lag > 0n ? lag : 0n),
        });
      }
    }
  } finally {
    await admin.disconnect();
  }
  // A missing failed topic reads as empty; any other error is the command's: a count of 0 would lie.
  const outstanding = await readOutstanding(kafka, { topic: ladder.failed, stages: config.retry.stages });
  const totalLag = partitions.reduce((sum, p) => sum + BigInt(p.lag), 0n);
  return { replica: config.replica.name, partitions, totalLag: String(totalLag), outstandingFailures: outstanding.length };
}
