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
 * A topic with one replica in a cluster of several brokers loses its records, and stops taking
 * writes, when that broker goes: worth a warning at start-up (pullrep does not change a topic it
 * did not create).
 */
export function replicationWarnings(states: Iterable<TopicState>, brokers: number): string[] {
  if (brokers < 2) return [];
  const warnings: string[] = [];
  for (const state of states) {
    if (state.replicationFactor === 1) {
      warnings.push(`${state.topic} has a replication factor of 1 in a cluster of ${brokers} brokers; its partitions stop when their one broker does (raise it with kafka-reassign-partitions)`);
    }
  }
  return warnings;
}
