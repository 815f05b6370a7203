/**
 * The only module that imports the Kafka client. Everything else takes pullrep's own interfaces
 * from here (types.ts), so the client can be swapped in this folder alone.
 */
export { createKafka, boundedKafkaSettings, type KafkaClient, type KafkaSettings } from './client.js';
export { MissingTopicError } from './read-to-end.js';
export { KafkaUnreachableError, checkReachable, networkCause } from './reachable.js';
export { KafkaAccessError } from './access.js';
export { installKafkaWorkarounds, workaroundState, kafkajsVersion, WORKAROUNDS_KAFKAJS_VERSION, type WorkaroundState } from './workarounds.js';
export { BoundedProducer, ProduceTimeoutError, beforeDeadline } from './producer.js';
export type { BoundedProducerOptions, OutgoingRecord } from './producer.js';
export { recordBytes, requestChunks, MAX_REQUEST_BYTES } from './sinks.js';
export { RecordTooLargeError } from './types.js';
export { partitionOf } from './partition-of.js';
export { replicationWarnings } from './replication.js';
export type * from './types.js';
