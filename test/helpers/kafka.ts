import kafkajs, { type Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createKafka, type ConsumedMessage, type KafkaClient } from '../../src/kafka/index.js';
import { silentLogger } from '../../src/log/index.js';
import { randomName } from './git.js';
import { waitFor } from './wait.js';

/** The broker chosen by the global setup (KAFKA_BROKERS, testcontainers or the local broker). */
export function testBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

/**
 * An independent client of the test broker (kafkajs itself, not pullrep's adapters): what tests
 * use to produce crafted records and to read what pullrep wrote.
 */
export function testKafka(brokers: string[] = testBrokers()): Kafka {
  const kafka = new kafkajs.Kafka({ clientId: randomName('test'), brokers, logLevel: kafkajs.logLevel.NOTHING });
  brokersOf.set(kafka, brokers);
  return kafka;
}

const brokersOf = new WeakMap<Kafka, string[]>();

/** pullrep's own client of the test broker (or of `brokers`), with the configuration's defaults for everything else. */
export function testClient(brokers: string[] = testBrokers()): KafkaClient {
  const { kafka } = loadConfig({ env: {} }).config;
  return createKafka({ ...kafka, brokers, clientId: randomName('test'), logger: silentLogger() });
}

/** Creates a topic on the broker of `kafka` (one of testKafka's; the test broker otherwise). */
export async function createTopic(kafka: unknown, topic: string, partitions = 1, config: Record<string, string> = {}): Promise<void> {
  const brokers = typeof kafka === 'object' && kafka !== null ? brokersOf.get(kafka as Kafka) : undefined;
  const admin = await testClient(brokers).admin();
  try {
    await admin.createMissingTopics([{ topic, numPartitions: partitions, replicationFactor: 3, config }]);
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  timestamp: string;
  headers: Record<string, string>;
}

function toRecord(partition: number, m: ConsumedMessage): ReadRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return {
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString() : null,
    value: m.value ? m.value.toString() : null,
    timestamp: m.timestamp,
    headers,
  };
}

/**
 * Every record now on a topic (all partitions), read by a throwaway consumer group: up to the end
 * offsets at the start (src/kafka's readToEnd), or, with `atLeast`, until that many have arrived.
 */
export async function readTopic(kafka: Kafka, topic: string, options: { atLeast?: number; timeoutMs?: number } = {}): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.atLeast === undefined) {
    await testClient(brokersOf.get(kafka)).readToEnd(topic, (partition, message) => records.push(toRecord(partition, message)), { timeoutMs });
  } else {
    const atLeast = options.atLeast;
    const consumer = kafka.consumer({ groupId: randomName('reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void records.push(toRecord(partition, { ...message, headers: message.headers })) });
      await waitFor(() => records.length >= atLeast, { timeoutMs, what: `${atLeast} records of ${topic}` });
    } finally {
      await consumer.disconnect();
    }
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/**
 * Produces one record with kcat, an independent client that can write what kafkajs cannot (a
 * header without a value: give its name alone, without "=").
 */
export async function kcatProduce(topic: string, record: { partition?: number; key: string; value: Buffer | string; headers?: string[] }): Promise<void> {
  const { execFile } = await import('node:child_process');
  const args = ['-P', '-b', testBrokers().join(','), '-t', topic, '-k', record.key, '-c', '1'];
  if (record.partition !== undefined) args.push('-p', String(record.partition));
  for (const header of record.headers ?? []) args.push('-H', header);
  await new Promise<void>((resolve, reject) => {
    const child = execFile('kcat', args, (err, _stdout, stderr) => (err ? reject(new Error(`kcat failed: ${stderr || err.message}`)) : resolve()));
    // One record: kcat reads until end of input, so the value may hold newlines only with -D; keep it on one line.
    child.stdin?.end(record.value);
  });
}
