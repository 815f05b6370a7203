import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Kafka } from '../../src/kafka/index.js';
import { replicaStatus } from '../../src/replica/status.js';
import { replicaTopics } from '../../src/replica/topics.js';

const config = loadConfig({ overrides: { 'replica.name': 'r1', 'topics.events': 'ev' } }).config;

/** A cluster where the ladder topics exist but the failed topic cannot be read. */
function unreadableFailedTopic(): Kafka {
  const ladder = replicaTopics(config);
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [ladder.failed],
    fetchOffsets: async () => [],
    fetchTopicOffsets: async () => [{ partition: 0, low: '0', high: '3', offset: '3' }],
    deleteGroups: async () => [],
  };
  return {
    admin: () => admin,
    consumer: () => {
      throw new Error('the failed topic cannot be read');
    },
  } as unknown as Kafka;
}

describe('replica status', () => {
  it('fails instead of reporting no outstanding failures when the failed topic cannot be read', async () => {
    await expect(replicaStatus(unreadableFailedTopic(), config)).rejects.toThrow('the failed topic cannot be read');
  });
});
