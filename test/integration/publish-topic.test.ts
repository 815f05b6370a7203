import { describe, expect, it } from 'vitest';
import { makeBareRepo } from '../helpers/git.js';
import { testBrokers, testKafka } from '../helpers/kafka.js';
import { makePrimary, pullrep, topicEvents } from './publish-helpers.js';

describe('the events topic', () => {
  it('is created with topics.partitions by the first publish when it does not exist', async () => {
    const primary = await makePrimary(testBrokers(), { timeoutMs: 5000 });
    const bare = await makeBareRepo(primary.root, 'first.git');
    const env = { PULLREP_TOPICS_PARTITIONS: '3' };
    const r = await pullrep(['--config', primary.configFile, 'publish'], { cwd: bare, env, input: `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n` });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [primary.topic] });
      expect(meta.topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
    expect((await topicEvents(kafka, primary.topic)).map((e) => e.key)).toEqual(['first.git']);
  });
});
