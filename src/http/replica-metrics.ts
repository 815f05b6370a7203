import { Counter, Gauge, Histogram, Registry } from './registry.js';

/** Every metric the replica exports, in one place. All names start with `pullrep_`. */
export const METRIC_NAMES = {
  eventsProcessed: 'pullrep_events_processed_total',
  syncs: 'pullrep_syncs_total',
  handedToStage: 'pullrep_records_handed_to_stage_total',
  failedWrites: 'pullrep_failed_topic_writes_total',
  pausedPartitions: 'pullrep_paused_partitions',
  syncDuration: 'pullrep_sync_duration_seconds',
} as const;

export interface ReplicaMetrics {
  registry: Registry;
  /** labels: topic stage ("0" = events) */
  eventsProcessed: Counter;
  /** labels: result ("ok" | "failed"), kind (the error kind, "" on success) */
  syncs: Counter;
  /** labels: stage (the stage the record was handed to) */
  handedToStage: Counter;
  /** labels: reason (permanent | exhausted | expired | undecodable) */
  failedWrites: Counter;
  syncDuration: Histogram;
}

export function createReplicaMetrics(pausedPartitions: () => number): ReplicaMetrics {
  const registry = new Registry();
  registry.add(new Gauge(METRIC_NAMES.pausedPartitions, 'Partitions paused until their next retry is due', pausedPartitions));
  return {
    registry,
    eventsProcessed: registry.add(new Counter(METRIC_NAMES.eventsProcessed, 'Records consumed and settled (synced, handed on or failed)')),
    syncs: registry.add(new Counter(METRIC_NAMES.syncs, 'Repository syncs by result and error kind')),
    handedToStage: registry.add(new Counter(METRIC_NAMES.handedToStage, 'Records handed to each retry stage')),
    failedWrites: registry.add(new Counter(METRIC_NAMES.failedWrites, 'Records written to the failed topic, by reason')),
    syncDuration: registry.add(
      new Histogram(METRIC_NAMES.syncDuration, 'Duration of one repository sync', [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]),
    ),
  };
}
