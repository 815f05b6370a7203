import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric the replica's consumer exports, in one place. All names start with `pullrep_`. */
export const METRIC_NAMES = {
  eventsProcessed: 'pullrep_events_processed_total',
  eventsSkipped: 'pullrep_events_skipped_total',
  syncs: 'pullrep_syncs_total',
  handedToStage: 'pullrep_records_handed_to_stage_total',
  failedWrites: 'pullrep_failed_topic_writes_total',
  pausedPartitions: 'pullrep_paused_partitions',
  syncDuration: 'pullrep_sync_duration_seconds',
  eventLatency: 'pullrep_end_to_end_latency_seconds',
  ready: 'pullrep_replica_ready',
  lag: 'pullrep_consumer_lag_records',
} as const;

export interface ReplicaMetrics {
  /** labels: stage (of the topic: "0" = events) */
  eventsProcessed: Counter<'stage'>;
  /** labels: reason ("not-selected": a repository this replica does not keep, replica.shard / replica.repos) */
  eventsSkipped: Counter<'reason'>;
  /** labels: result ("ok" | "failed"), kind (the error kind; only on failures) */
  syncs: Counter<'result' | 'kind'>;
  /** labels: stage (the stage the record was handed to) */
  handedToStage: Counter<'stage'>;
  /** labels: reason (permanent | exhausted | expired | undecodable) */
  failedWrites: Counter<'reason'>;
  syncDuration: Histogram;
  /** Published on the primary → applied on this replica, per event. */
  eventLatency: Histogram;
  /** labels: topic; set by the lag poller (replica/lag.ts). */
  lag: Gauge<'topic'>;
}

/** Registers the consumer's metrics; `pausedPartitions` is read at every scrape. */
export function createReplicaMetrics(registry: Registry, pausedPartitions: () => number, ready: () => boolean = () => false): ReplicaMetrics {
  const registers = [registry];
  new Gauge({
    name: METRIC_NAMES.ready,
    help: '1 while the replica is ready (as /readyz): running, its consumers joined',
    registers,
    collect() {
      this.set(ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.pausedPartitions,
    help: 'Partitions paused until their next retry is due',
    registers,
    collect() {
      this.set(pausedPartitions());
    },
  });
  return {
    eventsProcessed: new Counter({ name: METRIC_NAMES.eventsProcessed, help: 'Records consumed and settled (synced, handed on, failed or skipped)', labelNames: ['stage'], registers }),
    eventsSkipped: new Counter({ name: METRIC_NAMES.eventsSkipped, help: 'Records committed without a sync, by reason (not-selected: a repository this replica does not keep)', labelNames: ['reason'], registers }),
    syncs: new Counter({ name: METRIC_NAMES.syncs, help: 'Repository syncs by result and error kind', labelNames: ['result', 'kind'], registers }),
    handedToStage: new Counter({ name: METRIC_NAMES.handedToStage, help: 'Records handed to each retry stage', labelNames: ['stage'], registers }),
    failedWrites: new Counter({ name: METRIC_NAMES.failedWrites, help: 'Records written to the failed topic, by reason', labelNames: ['reason'], registers }),
    syncDuration: new Histogram({
      name: METRIC_NAMES.syncDuration,
      help: 'Duration of one repository sync',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    eventLatency: new Histogram({
      name: METRIC_NAMES.eventLatency,
      help: 'From an event being published on the primary to its sync succeeding on this replica (retries included)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600],
      registers,
    }),
    lag: new Gauge({
      name: METRIC_NAMES.lag,
      help: "Records of each topic this replica's consumer group has not committed yet (refreshed every 15 s)",
      labelNames: ['topic'],
      registers,
    }),
  };
}
