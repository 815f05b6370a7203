import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/consumer/metrics.js';
import { HEAL_METRIC_NAMES } from '../../src/heal/metrics.js';
import { PRIMARY_METRIC_NAMES } from '../../src/primary/metrics.js';
import { REPO_METRIC_NAMES } from '../../src/replica/repo-metrics.js';
import { repoRoot, run } from '../helpers/cli.js';
import { available } from '../helpers/commands.js';

/** deploy/prometheus and deploy/grafana: valid, tested, and about metrics pullrep exports. */

const deploy = join(repoRoot, 'deploy');
const exported = new Set<string>([...Object.values(METRIC_NAMES), ...Object.values(PRIMARY_METRIC_NAMES), ...Object.values(HEAL_METRIC_NAMES), ...Object.values(REPO_METRIC_NAMES)]);

/** Every pullrep_ metric a text names, with the histogram suffixes taken off. */
function metricsIn(text: string): string[] {
  const names = new Set<string>();
  for (const [name] of text.matchAll(/\bpullrep_[a-z0-9_]+/g)) {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    names.add(exported.has(base) ? base : name);
  }
  return [...names].sort();
}

describe('monitoring files', () => {
  it.skipIf(!available('promtool'))('the Prometheus rules pass promtool check rules and their unit tests', async () => {
    const check = await run('promtool', ['check', 'rules', join(deploy, 'prometheus', 'pullrep-rules.yml')]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const test = await run('promtool', ['test', 'rules', 'pullrep-rules.test.yml'], { cwd: join(deploy, 'prometheus') });
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
  });

  it('every alert has a summary and a runbook naming a pullrep command, and uses only metrics pullrep exports', async () => {
    const text = await readFile(join(deploy, 'prometheus', 'pullrep-rules.yml'), 'utf8');
    const alerts = text.split(/\n\s+- alert: /).slice(1);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const alert of alerts) {
      expect(alert, alert.split('\n')[0]).toMatch(/\n\s+summary: "/);
      expect(alert, alert.split('\n')[0]).toMatch(/\n\s+runbook: ".*`(pullrep|systemctl|curl) [^`]+`/);
    }
    for (const name of metricsIn(text)) expect(exported, name).toContain(name);
  });

  it('the Grafana dashboard is valid JSON whose panels query only metrics pullrep exports', async () => {
    const dashboard = JSON.parse(await readFile(join(deploy, 'grafana', 'pullrep.json'), 'utf8')) as {
      uid: string;
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.uid).toBe('pullrep');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const used = metricsIn(exprs.join('\n'));
    for (const name of used) expect(exported, name).toContain(name);
    // The views operators look for first.
    for (const name of ['pullrep_consumer_lag_records', 'pullrep_end_to_end_latency_seconds', 'pullrep_syncs_total', 'pullrep_records_handed_to_stage_total', 'pullrep_failed_topic_writes_total', 'pullrep_primary_spool_entries']) {
      expect(used).toContain(name);
    }
  });
});
