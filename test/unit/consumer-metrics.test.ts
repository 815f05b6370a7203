import { describe, expect, it } from 'vitest';
import { createReplicaMetrics, METRIC_NAMES } from '../../src/http/replica-metrics.js';

describe('replica metrics', () => {
  it('renders every metric in the Prometheus text format with the pullrep_ prefix', () => {
    let paused = 2;
    const m = createReplicaMetrics(() => paused);
    m.syncs.inc({ result: 'failed', kind: 'connection' });
    m.syncs.inc({ result: 'failed', kind: 'connection' });
    m.handedToStage.inc({ stage: '1' });
    m.failedWrites.inc({ reason: 'permanent' });
    m.eventsProcessed.inc({ stage: '0' }, 5);
    m.syncDuration.observe(0.3);
    paused = 3;
    const text = m.registry.render();
    for (const name of Object.values(METRIC_NAMES)) {
      expect(name.startsWith('pullrep_')).toBe(true);
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('pullrep_syncs_total{result="failed",kind="connection"} 2');
    expect(text).toContain('pullrep_records_handed_to_stage_total{stage="1"} 1');
    expect(text).toContain('pullrep_events_processed_total{stage="0"} 5');
    expect(text).toContain('pullrep_paused_partitions 3');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="0.25"} 0');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="+Inf"} 1');
    expect(text).toContain('pullrep_sync_duration_seconds_count 1');
  });

  it('escapes label values', () => {
    const m = createReplicaMetrics(() => 0);
    m.syncs.inc({ result: 'failed', kind: 'a"b\\c\nd' });
    expect(m.registry.render()).toContain('kind="a\\"b\\\\c\\nd"');
  });
});
