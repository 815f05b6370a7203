import { describe, expect, it } from 'vitest';
import { compileOptions, loadConfig } from '../../src/config/index.js';
import type { KafkaClient } from '../../src/kafka/index.js';
import { replicaStatus } from '../../src/replica/status.js';
import { replicaTopics } from '../../src/replica/topics.js';
import { randomName } from '../helpers/git.js';
import { createTopic, testClient, testKafka } from '../helpers/kafka.js';

function ladderOf(replica: string, events: string) {
  const options = compileOptions(loadConfig({ overrides: { 'replica.name': replica, 'topics.events': events, 'retry.stages': 1 } }).config);
  return { replica, topics: replicaTopics(options.topics), stages: 1 };
}

describe('replica status', () => {
  it('reports lag per partition from the committed offsets and counts outstanding failures, on the real broker', async () => {
    const status = ladderOf(randomName('rep'), randomName('events'));
    const { topics } = status;
    await createTopic(undefined, topics.events, 2);
    await createTopic(undefined, topics.failed, 1);
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await producer.send({ topic: topics.events, messages: [0, 0, 0, 1].map((partition) => ({ partition, value: 'x' })) });
      await producer.send({ topic: topics.failed, messages: [{ key: 'f0123456789abcde', value: 'y' }, { key: 'f0123456789abcdf', value: 'z' }, { key: 'f0123456789abcdf', value: null }] });
    } finally {
      await producer.disconnect();
    }
    const admin = testKafka().admin();
    await admin.connect();
    await admin.setOffsets({ groupId: status.replica, topic: topics.events, partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();
    const result = await replicaStatus(testClient(), status);
    expect(result.partitions.filter((p) => p.topic === topics.events)).toEqual([
      { topic: topics.events, partition: 0, committed: 1, end: 3, lag: 2 },
      { topic: topics.events, partition: 1, committed: null, end: 1, lag: 1 },
    ]);
    expect(result.topics.find((t) => t.topic === topics.events)).toEqual({ topic: topics.events, partitions: 2, committedPartitions: 1, end: 4, lag: 3 });
    expect(result.totalLag).toBe(3);
    expect(result.outstandingFailures).toBe(1);
  });

  it('fails instead of reporting no outstanding failures when the failed topic cannot be read', async () => {
    const status = ladderOf(randomName('rep'), randomName('events'));
    const real = testClient();
    // The real cluster for every admin call; only reading the failed topic breaks.
    const kafka: KafkaClient = { ...real, readToEnd: () => Promise.reject(new Error('the failed topic cannot be read')) };
    await createTopic(undefined, status.topics.events, 1);
    await expect(replicaStatus(kafka, status)).rejects.toThrow('the failed topic cannot be read');
  });
});
