import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { producerFor } from '../../src/kafka/producer.js';
import { workaroundState } from '../../src/kafka/index.js';
import { randomName } from '../helpers/git.js';
import { createTopic, testKafka } from '../helpers/kafka.js';

/** The largest Metadata response a producer got while connecting and sending one record. */
async function largestMetadata(producer: Producer, topic: string): Promise<number> {
  let largest = 0;
  producer.on(producer.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'Metadata') largest = Math.max(largest, payload.size);
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
  } finally {
    await producer.disconnect();
  }
  return largest;
}

describe("the producer workaround, against kafkajs's real behaviour", () => {
  it('connecting asks for the metadata of its own topics only, not of every topic of the cluster', async () => {
    expect(workaroundState().producerTopics).toBe(true);
    const topic = randomName('events');
    await createTopic(undefined, topic, 1);
    // A cluster with many topics (the test broker has those of every other test, and these).
    for (let i = 0; i < 20; i++) await createTopic(undefined, `${randomName('crowd')}-${'x'.repeat(150)}`, 1);
    const config = { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false };
    const ours = await largestMetadata(producerFor(testKafka(), config, [topic]), topic);
    const plain = await largestMetadata(testKafka().producer(config), topic);
    // kafkajs as shipped: one response listing every topic; with the workaround: this topic's.
    expect(plain).toBeGreaterThan(20 * 150);
    expect(ours).toBeLessThan(plain / 4);
  });
});
