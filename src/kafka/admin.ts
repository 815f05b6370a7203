import type { Admin } from 'kafkajs';
import { replicated } from './replication.js';
import type { KafkaAdmin, PartitionOffsets, TopicSpec, TopicState } from './types.js';

/** ConfigResourceTypes.TOPIC of the Kafka protocol. */
const TOPIC_RESOURCE = 2;

/** pullrep's admin operations over a connected kafkajs admin client. */
export function adminOps(admin: Admin): KafkaAdmin {
  return {
    listTopics: () => admin.listTopics(),
    describeTopics: (topics, existing) => describeTopics(admin, topics, existing),
    createMissingTopics: (specs, existing) => createMissingTopics(admin, specs, existing),
    async topicOffsets(topic): Promise<PartitionOffsets[]> {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
    },
    async committedOffsets(groupId, topics) {
      const result = new Map<string, Map<number, string>>();
      if (topics.length === 0) return result;
      for (const entry of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
        result.set(entry.topic, new Map(entry.partitions.map((p) => [p.partition, p.offset])));
      }
      return result;
    },
    async topicConfigs(topics, names) {
      const result = new Map<string, Map<string, string>>();
      if (topics.length === 0) return result;
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: [...names] })),
      });
      for (const r of resources) result.set(r.resourceName, new Map(r.configEntries.map((c) => [c.configName, c.configValue])));
      return result;
    },
    brokerCount: async () => (await admin.describeCluster()).brokers.length,
    disconnect: () => admin.disconnect(),
  };
}

async function describeTopics(admin: Admin, topics: readonly string[], existing?: Set<string>): Promise<Map<string, TopicState>> {
  existing ??= new Set(await admin.listTopics());
  const wanted = topics.filter((t) => existing.has(t));
  const result = new Map<string, TopicState>();
  if (wanted.length === 0) return result;
  const meta = await admin.fetchTopicMetadata({ topics: wanted });
  for (const t of meta.topics) result.set(t.name, { topic: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 });
  return result;
}

export async function createMissingTopics(admin: Admin, specs: readonly TopicSpec[], existing?: Set<string>): Promise<string[]> {
  existing ??= new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  const names = missing.map((s) => s.topic);
  const brokers = missing.some((s) => (s.replicationFactor ?? -1) > 0) ? (await admin.describeCluster()).brokers.length : 0;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => {
        const { replicationFactor, config } = replicated(s, brokers);
        return { topic: s.topic, numPartitions: s.numPartitions, replicationFactor, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) };
      }),
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
