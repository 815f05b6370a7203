import { createMissingTopics, describeTopics, type Admin, type TopicSpec } from '../kafka/index.js';
import type { Config } from '../config/index.js';
import { ladderTopics, type LadderTopics } from '../retry/index.js';

/** The topology does not fit: start-up must stop. Not retriable: an operator has to act. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  readonly retriable = false;
}

export function replicaTopics(config: Pick<Config, 'topics' | 'replica' | 'retry'>): LadderTopics {
  return ladderTopics(config.topics.events, config.replica.name, config.retry.stages);
}

export interface EnsureResult {
  topics: LadderTopics;
  created: string[];
  partitions: number;
  /** Problems that do not stop start-up. */
  warnings: string[];
}

/** ConfigResourceTypes.TOPIC of the Kafka protocol. */
const TOPIC_RESOURCE = 2;

/**
 * Creates whatever is missing: the events topic (topics.partitions), the retry topics with the
 * events topic's partition count and broker append time, the compacted failed topic. A retry
 * topic whose partition count differs from the events topic stops everything.
 */
export async function ensureTopics(admin: Admin, config: Pick<Config, 'topics' | 'replica' | 'retry'>): Promise<EnsureResult> {
  const topics = replicaTopics(config);
  const replicationFactor = config.topics.replicationFactor;
  const existing = new Set(await admin.listTopics());
  let created = await createMissingTopics(admin, [{ topic: topics.events, numPartitions: config.topics.partitions, replicationFactor }], existing);
  const events = (await describeTopics(admin, [topics.events], existing)).get(topics.events);
  if (!events) throw new TopologyError(`topic ${topics.events} does not exist and could not be created`);
  const partitions = events.partitions;
  const specs: TopicSpec[] = [
    ...topics.retry.map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor,
      config: { 'message.timestamp.type': 'LogAppendTime' },
    })),
    {
      topic: topics.failed,
      numPartitions: Math.min(partitions, 6),
      replicationFactor,
      config: {
        'cleanup.policy': 'compact,delete',
        'retention.ms': String(config.topics.failedRetentionMs),
        'min.compaction.lag.ms': '60000',
      },
    },
  ];
  created = [...created, ...(await createMissingTopics(admin, specs, existing))];
  const states = await describeTopics(admin, topics.retry, existing);
  const wrong = topics.retry
    .map((topic) => ({ topic, count: states.get(topic)?.partitions }))
    .filter((t) => t.count !== partitions);
  if (wrong.length > 0) {
    const list = wrong.map((t) => `${t.topic} has ${t.count ?? 'no'} partitions`).join(', ');
    throw new TopologyError(
      `retry topics must have the partition count of ${topics.events} (${partitions}): ${list}; ` +
        'an event keeps its partition number down the ladder. Recreate or repartition them.',
    );
  }
  return { topics, created, partitions, warnings: await timestampWarnings(admin, topics.retry) };
}

/** Retry topics created elsewhere may use producer time; delays then follow the producer's clock. */
async function timestampWarnings(admin: Admin, retryTopics: string[]): Promise<string[]> {
  if (retryTopics.length === 0) return [];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: retryTopics.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['message.timestamp.type'] })),
  });
  return resources
    .filter((r) => r.configEntries.find((c) => c.configName === 'message.timestamp.type')?.configValue !== 'LogAppendTime')
    .map((r) => `${r.resourceName} does not use message.timestamp.type=LogAppendTime; its delays follow the producer's clock`);
}
