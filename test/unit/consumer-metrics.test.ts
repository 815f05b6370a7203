import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createReplicaMetrics, METRIC_NAMES } from '../../src/consumer/metrics.js';
import { createMetricsRegistry, scrape } from '../../src/http/metrics-registry.js';

describe('replica metrics', () => {
  it('renders every metric in the Prometheus text format with the pullrep_ prefix', async () => {
    let paused = 2;
    const registry = new Registry();
    const m = createReplicaMetrics(registry, () => paused);
    m.syncs.inc({ result: 'failed', kind: 'connection' });
    m.syncs.inc({ result: 'failed', kind: 'connection' });
    m.syncs.inc({ result: 'ok' });
    m.handedToStage.inc({ stage: '1' });
    m.failedWrites.inc({ reason: 'permanent' });
    m.eventsProcessed.inc({ stage: '0' }, 5);
    m.syncDuration.observe(0.3);
    paused = 3;
    const text = await registry.metrics();
    for (const name of Object.values(METRIC_NAMES)) {
      expect(name.startsWith('pullrep_')).toBe(true);
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('pullrep_syncs_total{result="failed",kind="connection"} 2');
    // A successful sync has no error kind, and no empty label for one.
    expect(text).toContain('pullrep_syncs_total{result="ok"} 1');
    expect(text).not.toContain('kind=""');
    expect(text).toContain('pullrep_records_handed_to_stage_total{stage="1"} 1');
    expect(text).toContain('pullrep_events_processed_total{stage="0"} 5');
    expect(text).toContain('pullrep_paused_partitions 3');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="0.25"} 0');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('pullrep_sync_duration_seconds_bucket{le="+Inf"} 1');
    expect(text).toContain('pullrep_sync_duration_seconds_count 1');
  });

  it('escapes label values', async () => {
    const registry = new Registry();
    const m = createReplicaMetrics(registry, () => 0);
    m.syncs.inc({ result: 'failed', kind: 'a"b\\c\nd' });
    expect(await registry.metrics()).toContain('kind="a\\"b\\\\c\\nd"');
  });

  it("serves prom-client's process and Node.js metrics beside pullrep's", async () => {
    const registry = createMetricsRegistry();
    createReplicaMetrics(registry, () => 0);
    const text = await scrape(registry);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'process_open_fds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('# TYPE pullrep_syncs_total counter');
  });
});
