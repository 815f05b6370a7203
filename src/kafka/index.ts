/**
 * The only module that imports the Kafka client. Everything else takes these names from here,
 * so the client can be swapped in one place.
 */
export { createKafka } from './client.js';
export type { KafkaSettings } from './client.js';
export { createMissingTopics, describeTopics } from './topics.js';
export type { TopicSpec, TopicState } from './topics.js';
export { readToEnd, MissingTopicError } from './read-to-end.js';
export type { ReadToEndOptions } from './read-to-end.js';
export { stopIdleRequestTimers } from './idle-timers.js';
export type {
  Kafka,
  Admin,
  Producer,
  Consumer,
  Transaction,
  KafkaMessage,
  Message,
  IHeaders,
  EachBatchPayload,
  EachMessagePayload,
  RecordMetadata,
  TopicPartitionOffsetAndMetadata,
} from 'kafkajs';
export {
  BoundedProducer,
  ProduceTimeoutError,
  beforeDeadline,
  boundedKafkaSettings,
} from './producer.js';
export type { BoundedProducerOptions, OutgoingRecord } from './producer.js';
