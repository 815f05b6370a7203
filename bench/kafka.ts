import kafkajs, { type Kafka } from 'kafkajs';
import { loadConfig } from '../src/config/index.js';
import { createKafka, type KafkaClient } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';

/** The broker benchmarks use: KAFKA_BROKERS, else the local default. */
export function benchBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** An independent, quiet kafkajs client (producing the load, reading results, the baselines). */
export function benchKafka(clientId: string): Kafka {
  return new kafkajs.Kafka({ clientId, brokers: benchBrokers(), logLevel: kafkajs.logLevel.NOTHING });
}

/**
 * pullrep's client with the configuration's defaults for everything but brokers and id (bench/run.ts
 * installs the kafkajs workarounds first, as the CLI does).
 */
export function benchClient(clientId: string): KafkaClient {
  const { kafka } = loadConfig({ env: {} }).config;
  return createKafka({ ...kafka, brokers: benchBrokers(), clientId, logger: silentLogger() });
}
