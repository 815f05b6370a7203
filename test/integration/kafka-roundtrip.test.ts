import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { randomName } from '../helpers/git.js';
import { createTopic, readTopic, testKafka } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';

describe('the test broker', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('round-trips a record: create topic, produce, consume, commit', async () => {
    const topic = randomName('roundtrip');
    const groupId = randomName('group');
    await createTopic(kafka, topic, 3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'group/repo.git', value: '{"hello":"world"}', headers: { 'x-test': 'yes' } }],
    });
    await producer.disconnect();
    expect(meta?.errorCode).toBe(0);

    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Array<{ key: string; value: string; header: string; partition: number; offset: string }> = [];
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received.push({
          key: String(message.key),
          value: String(message.value),
          header: String(message.headers?.['x-test']),
          partition,
          offset: message.offset,
        });
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    await waitFor(() => received.length === 1, { what: 'the record' });
    await consumer.disconnect();

    expect(received[0]).toMatchObject({ key: 'group/repo.git', value: '{"hello":"world"}', header: 'yes' });
    expect(received[0]?.partition).toBe(meta?.partition);

    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    const committed = offsets?.partitions.find((p) => p.partition === meta?.partition);
    expect(committed?.offset).toBe('1');

    // An independent reader sees the same record.
    const records = await readTopic(kafka, topic);
    expect(records.map((r) => r.key)).toEqual(['group/repo.git']);
  });

  afterAll(() => undefined);
});
