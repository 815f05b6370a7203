import { loadConfig } from '../src/config/index.js';
import { createKafka, type Kafka } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';

/** The broker benchmarks use: KAFKA_BROKERS, else the local default. */
export function benchBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** A quiet Kafka client with the configuration's defaults for everything but brokers and id. */
export function benchKafka(clientId: string, options: { keepIdleTimers?: boolean } = {}): Kafka {
  const { kafka } = loadConfig({ env: {} }).config;
  return createKafka({ ...kafka, brokers: benchBrokers(), clientId, logger: silentLogger(), ...options });
}
