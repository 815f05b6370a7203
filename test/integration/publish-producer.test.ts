import { describe, expect, it } from 'vitest';
import { randomName } from '../helpers/git.js';
import { createTopic, readTopic, testClient, testKafka } from '../helpers/kafka.js';

describe('the bounded producer', () => {
  it('keeps every produce request under the broker limit when long keys add up (a spool of small events of one repository)', async () => {
    const kafka = testKafka();
    const topic = randomName('events');
    await createTopic(kafka, topic, 1);
    // 500 records whose values alone fit in one request, but whose 255-byte keys push the batch past 1 MiB.
    const key = `${'r'.repeat(250)}.git`.padEnd(255, 'x');
    const records = Array.from({ length: 500 }, (_, i) => ({ topic, key, value: `${i}:`.padEnd(1840, 'v') }));
    const producer = testClient().boundedProducer({ topics: [topic], partitions: 1, replicationFactor: 1 });
    let acked = 0;
    try {
      await producer.send(records, Date.now() + 30_000, async (count) => {
        acked += count;
      });
    } finally {
      await producer.close(5_000);
    }
    expect(acked).toBe(500);
    const read = await readTopic(kafka, topic, { atLeast: 500 });
    expect(read.map((r) => r.value?.split(':')[0])).toEqual(records.map((_, i) => String(i)));
  });
});
