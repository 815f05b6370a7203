import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric the primary agent exports. All names start with `pullrep_primary_`. */
export const PRIMARY_METRIC_NAMES = {
  spoolEntries: 'pullrep_primary_spool_entries',
  spoolOldestAge: 'pullrep_primary_spool_oldest_age_seconds',
  publishLatency: 'pullrep_primary_publish_latency_seconds',
  published: 'pullrep_primary_pushes_published_total',
  invalid: 'pullrep_primary_spool_invalid_total',
  catalogRecords: 'pullrep_primary_catalog_records_total',
  catalogCorrections: 'pullrep_primary_catalog_corrections_total',
  catalogWaiting: 'pullrep_primary_catalog_records_waiting',
  scanDuration: 'pullrep_primary_scan_duration_seconds',
  scanRepositories: 'pullrep_primary_scan_repositories',
  scanListed: 'pullrep_primary_scan_listed_repositories',
  lastScan: 'pullrep_primary_last_scan_timestamp_seconds',
  kafkaUp: 'pullrep_primary_kafka_up',
} as const;

export interface PrimaryMetrics {
  publishLatency: Histogram;
  published: Counter;
  invalid: Counter;
  /** labels: kind (record | tombstone) */
  catalogRecords: Counter<'kind'>;
  catalogCorrections: Counter;
  scanDuration: Histogram;
  scanRepositories: Gauge;
  scanListed: Gauge;
  lastScan: Gauge;
}

export interface PrimaryGauges {
  /** Spool files waiting, and the epoch ms the oldest was written (NaN when none). */
  spool: () => Promise<{ entries: number; oldestAt: number }>;
  catalogWaiting: () => number;
  kafkaUp: () => boolean;
}

export function createPrimaryMetrics(registry: Registry, gauges: PrimaryGauges): PrimaryMetrics {
  const registers = [registry];
  let lastSpool: Promise<{ entries: number; oldestAt: number }> | undefined;
  // One listing of the spool serves both gauges of a scrape.
  const spool = () => (lastSpool ??= gauges.spool().finally(() => setImmediate(() => (lastSpool = undefined))));
  new Gauge({
    name: PRIMARY_METRIC_NAMES.spoolEntries,
    help: 'Spool files (pushes and events) waiting for Kafka to acknowledge them',
    registers,
    async collect() {
      this.set((await spool()).entries);
    },
  });
  new Gauge({
    name: PRIMARY_METRIC_NAMES.spoolOldestAge,
    help: 'Age of the oldest spool file waiting (0 when the spool is empty)',
    registers,
    async collect() {
      const { oldestAt } = await spool();
      this.set(Number.isFinite(oldestAt) ? Math.max(0, (Date.now() - oldestAt) / 1000) : 0);
    },
  });
  new Gauge({
    name: PRIMARY_METRIC_NAMES.catalogWaiting,
    help: 'Catalog records not acknowledged by Kafka yet',
    registers,
    collect() {
      this.set(gauges.catalogWaiting());
    },
  });
  new Gauge({
    name: PRIMARY_METRIC_NAMES.kafkaUp,
    help: '1 while the last sends to Kafka (spool and catalog) succeeded',
    registers,
    collect() {
      this.set(gauges.kafkaUp() ? 1 : 0);
    },
  });
  return {
    publishLatency: new Histogram({
      name: PRIMARY_METRIC_NAMES.publishLatency,
      help: 'From the hook writing a push to the spool to Kafka acknowledging its event(s)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    }),
    published: new Counter({ name: PRIMARY_METRIC_NAMES.published, help: 'Spool files (pushes) whose events Kafka acknowledged', registers }),
    invalid: new Counter({ name: PRIMARY_METRIC_NAMES.invalid, help: 'Spool files refused as invalid and moved aside (<name>.invalid)', registers }),
    catalogRecords: new Counter({ name: PRIMARY_METRIC_NAMES.catalogRecords, help: 'Catalog records Kafka acknowledged, by kind', labelNames: ['kind'], registers }),
    catalogCorrections: new Counter({
      name: PRIMARY_METRIC_NAMES.catalogCorrections,
      help: 'Catalog records a full listing corrected: a repository changed without a hook, or an increment was inexact',
      registers,
    }),
    scanDuration: new Histogram({
      name: PRIMARY_METRIC_NAMES.scanDuration,
      help: 'Duration of a scan of primary.root',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    scanRepositories: new Gauge({ name: PRIMARY_METRIC_NAMES.scanRepositories, help: 'Repositories the last scan found', registers }),
    scanListed: new Gauge({ name: PRIMARY_METRIC_NAMES.scanListed, help: 'Repositories the last scan listed in full (new, changed or pushed to)', registers }),
    lastScan: new Gauge({ name: PRIMARY_METRIC_NAMES.lastScan, help: 'When the last scan finished (seconds since the epoch)', registers }),
  };
}
