// Per-repository visibility, against baselines measured in the same run:
//  1. /metrics with BENCH_REPOS (default 10,000) repositories in the state (100 lagging, 10 of
//     them above http.slowRepoLagMs): size and scrape time (median of 20), vs 10 repositories.
//  2. `pullrep status --repos --json` with as many: time (median of 5), vs the same command on
//     10 repositories (Node.js start-up and the CLI dominate there).
//  3. `pullrep wait` over HTTP: from the moment the sync path reports the ref landed to the
//     answer received (median of 50). Target: under 5 ms.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createMetricsRegistry, scrape } from '../src/http/metrics-registry.js';
import { startHttpEndpoint } from '../src/http/server.js';
import { silentLogger } from '../src/log/index.js';
import { registerRepoMetrics } from '../src/replica/repo-metrics.js';
import { RefWaiters } from '../src/replica/wait.js';
import { waitRoute } from '../src/replica/wait-route.js';
import { SyncStateStore } from '../src/state/store.js';
import { git, makeBareRepo, tempDir, WorkClone } from '../test/helpers/git.js';
import { median, timed } from './stats.js';

const run = promisify(execFile);
const REPOS = Number(process.env.BENCH_REPOS ?? 10_000);
const cli = join(import.meta.dirname, '..', 'bin', 'pullrep.js');
const ms = (n: number): string => `${n.toFixed(2)} ms`;

async function stateWith(count: number): Promise<string> {
  const root = await tempDir('pullrep-bench-state-');
  const store = SyncStateStore.open(root);
  const now = Date.now();
  for (let i = 0; i < count; i++) store.syncSucceeded(`g${i % 100}/repo-${i}.git`, { at: now, durationMs: 12, eventId: `e-${i}`, publishedAt: now - 50 });
  const lagging = Math.min(100, count);
  for (let i = 0; i < lagging; i++) store.eventsSeen(`g${i % 100}/repo-${i}.git`, [{ id: `p-${i}`, publishedAt: now - (i < Math.min(10, lagging) ? 600_000 : 5000) }]);
  store.close();
  return root;
}

async function metrics(count: number): Promise<{ bytes: number; ms: number }> {
  const root = await stateWith(count);
  const store = SyncStateStore.open(root);
  const registry = createMetricsRegistry();
  registerRepoMetrics(registry, { store, slowLagMs: 300_000, now: Date.now });
  let bytes = 0;
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    let text = '';
    const t = await timed(async () => (text = await scrape(registry)));
    if (i > 0) times.push(t);
    bytes = Buffer.byteLength(text);
    await new Promise((r) => setTimeout(r, 250)); // past the per-scrape cache
  }
  store.close();
  return { bytes, ms: median(times) };
}

async function statusTime(count: number): Promise<number> {
  const root = await stateWith(count);
  const env = { ...process.env, PULLREP_REPLICA_ROOT: root };
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = await timed(() => run(process.execPath, [cli, 'status', '--repos', '--json'], { env, maxBuffer: 64 * 1024 * 1024 }));
    if (i > 0) times.push(t);
  }
  return median(times);
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now()));
    })
      .on('error', reject)
      .end();
  });
}

async function waitLatency(): Promise<number[]> {
  const root = await tempDir('pullrep-bench-wait-');
  const repo = await makeBareRepo(root, 'g/app.git');
  const work = await WorkClone.of(repo);
  const waiters = new RefWaiters({ root, env: process.env });
  const http = await startHttpEndpoint({ host: '127.0.0.1', port: 0, logger: silentLogger(), metrics: async () => '', ready: () => true, route: waitRoute(waiters, silentLogger()) });
  const deltas: number[] = [];
  try {
    for (let i = 0; i < 53; i++) {
      const oid = await work.commit();
      const answered = get(http.port, `/v1/repos/g%2Fapp.git/wait?ref=refs/heads/main&oid=${oid}&timeoutMs=10000`);
      while (waiters.size === 0) await new Promise((r) => setTimeout(r, 1));
      // The sync landing: the ref moves, then the sync path says so.
      await work.push('HEAD:refs/heads/main');
      const landed = performance.now();
      waiters.synced('g/app.git');
      const at = await answered;
      if (i >= 3) deltas.push(at - landed);
    }
  } finally {
    await http.close();
  }
  void git;
  return deltas;
}

export default async function main(): Promise<void> {
  const small = await metrics(10);
  const big = await metrics(REPOS);
  console.log(`/metrics with the per-repository metrics (100 lagging, 10 above http.slowRepoLagMs)`);
  console.log(`  ${REPOS} repositories: ${(big.bytes / 1024).toFixed(1)} KiB, scrape ${ms(big.ms)} (median of 20)`);
  console.log(`  baseline, 10 repositories: ${(small.bytes / 1024).toFixed(1)} KiB, scrape ${ms(small.ms)} (${(big.bytes / small.bytes).toFixed(2)}x the size)`);
  const statusBig = await statusTime(REPOS);
  const statusSmall = await statusTime(10);
  console.log(`pullrep status --repos --json: ${REPOS} repositories ${ms(statusBig)}, 10 repositories ${ms(statusSmall)} (median of 5; ${(statusBig / statusSmall).toFixed(2)}x)`);
  const deltas = await waitLatency();
  const sorted = [...deltas].sort((a, b) => a - b);
  console.log(`pullrep wait over HTTP, sync landed -> answer received: p50 ${ms(median(deltas))}, p90 ${ms(sorted[Math.floor(sorted.length * 0.9)] ?? NaN)} (median of ${deltas.length}; target < 5 ms)`);
}
