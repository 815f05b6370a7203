import { Counter, Gauge, type Registry } from 'prom-client';

/** Every metric of the replica's self-healing, in one place. All names start with `pullrep_`. */
export const HEAL_METRIC_NAMES = {
  gaps: 'pullrep_retention_gaps_total',
  gapOffsets: 'pullrep_retention_gap_offsets_total',
  verifications: 'pullrep_verifications_total',
  primaryChecks: 'pullrep_verification_primary_requests_total',
  resyncs: 'pullrep_heal_syncs_total',
  bootstrapPending: 'pullrep_bootstrap_pending_repositories',
  catalogRepositories: 'pullrep_catalog_repositories',
  catalogSkipped: 'pullrep_catalog_records_skipped_total',
} as const;

export interface HealMetrics {
  /** labels: topic */
  gaps: Counter<'topic'>;
  /** labels: topic */
  gapOffsets: Counter<'topic'>;
  /** labels: result (equal | repaired | missing-on-primary | damaged | error) */
  verifications: Counter<'result'>;
  primaryChecks: Counter;
  /** labels: reason (bootstrap | gap), result (synced | equal | missing-on-primary | failed) */
  resyncs: Counter<'reason' | 'result'>;
}

export function createHealMetrics(registry: Registry, read: { bootstrapPending: () => number; catalog: () => number; skipped: () => number }): HealMetrics {
  const registers = [registry];
  new Gauge({
    name: HEAL_METRIC_NAMES.bootstrapPending,
    help: 'Repositories of the catalog this replica has still to bootstrap',
    registers,
    collect() {
      this.set(read.bootstrapPending());
    },
  });
  new Gauge({
    name: HEAL_METRIC_NAMES.catalogRepositories,
    help: 'Repositories the catalog lists',
    registers,
    collect() {
      this.set(read.catalog());
    },
  });
  new Counter({
    name: HEAL_METRIC_NAMES.catalogSkipped,
    help: 'Catalog records skipped as malformed or naming an unsafe repository',
    registers,
    collect() {
      this.reset();
      this.inc(read.skipped());
    },
  });
  return {
    gaps: new Counter({ name: HEAL_METRIC_NAMES.gaps, help: 'Retention gaps found: partitions whose unread events left the topic', labelNames: ['topic'], registers }),
    gapOffsets: new Counter({ name: HEAL_METRIC_NAMES.gapOffsets, help: 'Offsets lost in retention gaps (where known)', labelNames: ['topic'], registers }),
    verifications: new Counter({ name: HEAL_METRIC_NAMES.verifications, help: 'Repository verifications by result', labelNames: ['result'], registers }),
    primaryChecks: new Counter({ name: HEAL_METRIC_NAMES.primaryChecks, help: 'Verifications that had to ask the primary (the catalog disagreed or did not know)', registers }),
    resyncs: new Counter({ name: HEAL_METRIC_NAMES.resyncs, help: 'Full syncs of repositories events may have missed', labelNames: ['reason', 'result'], registers }),
  };
}
