import type { TopicOptions } from '../config/index.js';
import { replicationWarnings, type KafkaAdmin, type TopicSpec } from '../kafka/index.js';
import { ladderTopics, type LadderTopics } from '../retry/index.js';

/** The topology does not fit: start-up must stop. Not retriable: an operator has to act. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  readonly retriable = false;
}

/** This replica's ladder: the events topic, its retry stages and its failed topic. */
export function replicaTopics(options: Pick<TopicOptions, 'events' | 'replica' | 'stages'>): LadderTopics {
  return ladderTopics(options.events, options.replica, options.stages);
}

export interface EnsureResult {
  topics: LadderTopics;
  created: string[];
  partitions: number;
  /** Problems that do not stop start-up. */
  warnings: string[];
}

/**
 * Creates whatever is missing: the events topic (topics.partitions), the retry topics with the
 * events topic's partition count and broker append time, the compacted failed topic. A retry
 * topic whose partition count differs from the events topic stops everything.
 */
export async function ensureTopics(admin: KafkaAdmin, options: TopicOptions): Promise<EnsureResult> {
  const topics = replicaTopics(options);
  const { replicationFactor } = options;
  const existing = new Set(await admin.listTopics());
  let created = await admin.createMissingTopics([{ topic: topics.events, numPartitions: options.partitions, replicationFactor }], existing);
  const events = (await admin.describeTopics([topics.events], existing)).get(topics.events);
  if (!events) throw new TopologyError(`topic ${topics.events} does not exist and could not be created`);
  const partitions = events.partitions;
  const specs: TopicSpec[] = [
    ...topics.retry.map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor,
      config: { 'message.timestamp.type': 'LogAppendTime', 'retention.ms': String(options.retryRetentionMs) },
    })),
    {
      topic: topics.failed,
      numPartitions: Math.min(partitions, 6),
      replicationFactor,
      config: {
        'cleanup.policy': 'compact,delete',
        'retention.ms': String(options.failedRetentionMs),
        'min.compaction.lag.ms': '60000',
      },
    },
  ];
  created = [...created, ...(await admin.createMissingTopics(specs, existing))];
  const states = await admin.describeTopics(topics.retry, existing);
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
  const all = await admin.describeTopics([topics.events, ...topics.retry, topics.failed], existing);
  const warnings = [...replicationWarnings(all.values(), await admin.brokerCount(), replicationFactor), ...(await retryTopicWarnings(admin, topics.retry, options.retryRetentionMs))];
  return { topics, created, partitions, warnings };
}

/**
 * Retry topics created elsewhere (or before pullrep set their retention) may use producer time,
 * so delays follow the producer's clock, or keep records for less than an event may wait in the
 * ladder, so a waiting event could expire unread (a retention gap).
 */
async function retryTopicWarnings(admin: KafkaAdmin, retryTopics: string[], retentionMs: number): Promise<string[]> {
  const configs = await admin.topicConfigs(retryTopics, ['message.timestamp.type', 'retention.ms']);
  const warnings: string[] = [];
  for (const topic of retryTopics) {
    const config = configs.get(topic);
    if (config?.get('message.timestamp.type') !== 'LogAppendTime') warnings.push(`${topic} does not use message.timestamp.type=LogAppendTime; its delays follow the producer's clock`);
    const retention = Number(config?.get('retention.ms'));
    if (Number.isFinite(retention) && retention >= 0 && retention < retentionMs) {
      warnings.push(`${topic} keeps records for retention.ms=${retention}, less than retry.maxRetryPeriodMs plus a day (${retentionMs}); raise it (kafka-configs --alter --add-config retention.ms=${retentionMs}) or events waiting in it may expire unread`);
    }
  }
  return warnings;
}
