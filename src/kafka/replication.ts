import type { TopicSpec, TopicState } from './types.js';

/**
 * The replication a topic is created with: the factor asked for, or the number of brokers when
 * there are fewer (a one-broker development cluster takes 1), and `min.insync.replicas` one less
 * than the factor (at least 1), so a write needs every replica but one. A factor of -1 leaves
 * both to the brokers' defaults; a `min.insync.replicas` in the spec's own config is kept.
 */
export function replicated(spec: TopicSpec, brokers: number): { replicationFactor: number; config: Record<string, string> } {
  const asked = spec.replicationFactor ?? -1;
  if (asked <= 0) return { replicationFactor: -1, config: { ...spec.config } };
  const replicationFactor = Math.max(1, Math.min(asked, brokers));
  return { replicationFactor, config: { 'min.insync.replicas': String(Math.max(1, replicationFactor - 1)), ...spec.config } };
}

/**
 * Warnings about topics that are less replicated than they should be, in a cluster of several
 * brokers (`brokers` counts those up now): one with a single replica loses its records, and stops
 * taking writes, when that broker goes; one with fewer replicas than `asked`
 * (topics.replicationFactor) was made while brokers were down, or elsewhere. pullrep does not
 * change a topic it did not create, nor one it made before.
 */
export function replicationWarnings(states: Iterable<TopicState>, brokers: number, asked = -1): string[] {
  if (brokers < 2) return [];
  const warnings: string[] = [];
  for (const state of states) {
    if (state.replicationFactor === 1) {
      warnings.push(`${state.topic} has a replication factor of 1 in a cluster of ${brokers} brokers; its partitions stop when their one broker does (raise it with kafka-reassign-partitions)`);
    } else if (asked > 0 && state.replicationFactor < asked) {
      warnings.push(`${state.topic} has a replication factor of ${state.replicationFactor}, less than topics.replicationFactor ${asked} (made while brokers were down, or elsewhere); raise it with kafka-reassign-partitions, or set topics.replicationFactor to what the cluster can hold`);
    }
  }
  return warnings;
}
