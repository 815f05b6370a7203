import type { Admin } from 'kafkajs';

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
}

/**
 * Partition counts of the named topics that exist. `existing` is the cluster's topic list when
 * the caller has it already (it is kept up to date by createMissingTopics), saving a listing.
 */
export async function describeTopics(admin: Admin, topics: string[], existing?: Set<string>): Promise<Map<string, TopicState>> {
  existing ??= new Set(await admin.listTopics());
  const wanted = topics.filter((t) => existing.has(t));
  const result = new Map<string, TopicState>();
  if (wanted.length === 0) return result;
  const meta = await admin.fetchTopicMetadata({ topics: wanted });
  for (const t of meta.topics) result.set(t.name, { topic: t.name, partitions: t.partitions.length });
  return result;
}

/** Creates the topics that are missing; returns the names it created (and adds them to `existing`). */
export async function createMissingTopics(admin: Admin, specs: TopicSpec[], existing?: Set<string>): Promise<string[]> {
  existing ??= new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  const names = missing.map((s) => s.topic);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.numPartitions,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (err) {
    // The topics were created, but the broker asked for their leaders does not know them yet
    // (KRaft spreads new metadata asynchronously); kafkajs only waits out "leader not available".
    if ((err as { type?: unknown }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    await waitForLeaders(admin, names);
  }
  for (const name of names) existing.add(name);
  return names;
}

/** Waits until every partition of the topics has a leader (at most `timeoutMs`). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
