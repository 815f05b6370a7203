import { describe, expect, it } from 'vitest';
import { readOutstanding } from '../../src/failed/index.js';
import { randomName } from '../helpers/git.js';
import { createTopic, testClient, testKafka } from '../helpers/kafka.js';

describe('reading a failed topic to its end', () => {
  it.each([true, false])('ends at an aborted transaction, whose records the reader never sees (a failure before it: %s)', async (before) => {
    const kafka = testKafka();
    const topic = randomName('failed');
    await createTopic(kafka, topic, 1, { 'cleanup.policy': 'compact,delete' });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: randomName('tx') });
    await producer.connect();
    try {
      if (before) {
        const kept = await producer.transaction();
        await kept.send({ topic, acks: -1, messages: [{ key: 'f000000000000001', value: 'not an event', headers: { 'pullrep-reason': 'permanent' } }] });
        await kept.commit();
      }
      // A hand-off whose transaction was aborted (say, its offset commit was refused): the
      // partition now ends with records and a marker that a read-committed consumer skips.
      const aborted = await producer.transaction();
      await aborted.send({ topic, acks: -1, messages: [{ key: 'f000000000000002', value: 'not an event' }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
    const started = Date.now();
    const entries = await readOutstanding(testClient(), { topic, stages: 2, timeoutMs: 15_000 });
    expect(entries.map((e) => e.id)).toEqual(before ? ['f000000000000001'] : []);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
