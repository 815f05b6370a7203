import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createMissingTopics } from '../../src/kafka/admin.js';

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

/** Just what createMissingTopics calls: createTopics fails with `createError`; metadata answers from `metadata` in turn. */
function admin(createError: Error, metadata: Array<Error | number>) {
  let asked = 0;
  const fake: Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'> = {
    listTopics: async () => [],
    createTopics: async () => {
      throw createError;
    },
    fetchTopicMetadata: async (request) => {
      const answer = metadata[Math.min(asked++, metadata.length - 1)];
      if (answer instanceof Error) throw answer;
      const topics = request?.topics ?? [];
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionErrorCode: 0, partitionId: 0, leader: answer ?? -1, replicas: [], isr: [] }] })) };
    },
  };
  return { admin: fake as Admin, asked: () => asked };
}

describe('creating the ladder topics', () => {
  it('waits out a broker that does not know the new topics yet', async () => {
    const a = admin(protocolError('UNKNOWN_TOPIC_OR_PARTITION'), [protocolError('UNKNOWN_TOPIC_OR_PARTITION'), -1, 1]);
    await expect(createMissingTopics(a.admin, [{ topic: 'ev.r.retry.1', numPartitions: 1 }])).resolves.toEqual(['ev.r.retry.1']);
    expect(a.asked()).toBe(3);
  });

  it('still fails on any other error', async () => {
    const a = admin(protocolError('POLICY_VIOLATION'), [1]);
    await expect(createMissingTopics(a.admin, [{ topic: 'ev.r.retry.1', numPartitions: 1 }])).rejects.toThrow('POLICY_VIOLATION');
    expect(a.asked()).toBe(0);
  });
});

describe('replication of the topics pullrep creates', () => {
  it('asks for topics.replicationFactor, or the brokers there are, with min.insync.replicas one less', async () => {
    const { replicated } = await import('../../src/kafka/replication.js');
    expect(replicated({ topic: 't', numPartitions: 1, replicationFactor: 3 }, 3)).toEqual({ replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
    expect(replicated({ topic: 't', numPartitions: 1, replicationFactor: 3 }, 5)).toEqual({ replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
    expect(replicated({ topic: 't', numPartitions: 1, replicationFactor: 3 }, 1)).toEqual({ replicationFactor: 1, config: { 'min.insync.replicas': '1' } });
    expect(replicated({ topic: 't', numPartitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': '3' } }, 3).config['min.insync.replicas']).toBe('3');
    expect(replicated({ topic: 't', numPartitions: 1, replicationFactor: -1, config: { a: 'b' } }, 3)).toEqual({ replicationFactor: -1, config: { a: 'b' } });
  });

  it('warns about one replica, or fewer than asked, in a cluster of several brokers only', async () => {
    const { replicationWarnings } = await import('../../src/kafka/replication.js');
    const states = [
      { topic: 'one', partitions: 2, replicationFactor: 1 },
      { topic: 'two', partitions: 2, replicationFactor: 2 },
      { topic: 'three', partitions: 2, replicationFactor: 3 },
    ];
    const warnings = replicationWarnings(states, 3, 3);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^one has a replication factor of 1 in a cluster of 3 brokers/);
    expect(warnings[1]).toMatch(/^two has a replication factor of 2, less than topics\.replicationFactor 3/);
    expect(replicationWarnings(states, 3)).toHaveLength(1);
    expect(replicationWarnings(states, 1, 3)).toEqual([]);
  });
});
