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
