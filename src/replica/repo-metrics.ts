import { Gauge, Histogram, type Registry } from 'prom-client';
import type { SyncStateStore } from '../state/store.js';
import { REPO_STATES } from '../state/types.js';

/** The replica's per-repository metrics, in one place. All names start with `pullrep_`. */
export const REPO_METRIC_NAMES = {
  worstLag: 'pullrep_replication_lag_seconds',
  repoLag: 'pullrep_repository_lag_seconds',
  repositories: 'pullrep_repositories',
  slowRepo: 'pullrep_slow_repository_lag_seconds',
} as const;

const LAG_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 21600, 86400];

/**
 * Read from the replica's state at every scrape. A series per repository exists only for the
 * repositories whose lag is above `slowLagMs` (http.slowRepoLagMs), so the output stays bounded
 * whatever the number of repositories; every other repository counts only in the histogram.
 * With `selects` (a selection: replica.shard, replica.repos), repositories this replica does not
 * keep are left out, whatever the state still holds of them.
 */
export function registerRepoMetrics(
  registry: Registry,
  deps: { store: SyncStateStore; slowLagMs: number; now: () => number; maxSlowSeries?: number; selects?: ((repo: string) => boolean) | undefined },
): { worstLagMs(): number } {
  const registers = [registry];
  const maxSlow = deps.maxSlowSeries ?? 100;
  let cached: { at: number; pending: Map<string, number>; counts: Map<string, number> } | undefined;
  const readState = (): { pending: Map<string, number>; counts: Map<string, number> } => {
    const { selects } = deps;
    if (!selects) return { pending: deps.store.pendingSince(), counts: deps.store.counts() };
    const pending = new Map([...deps.store.pendingSince()].filter(([repo]) => selects(repo)));
    const counts = new Map<string, number>();
    for (const s of deps.store.list()) if (selects(s.repo)) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
    return { pending, counts };
  };
  // One read of the state per scrape, shared by the collectors below.
  const read = () => {
    const now = deps.now();
    if (!cached || now - cached.at > 200) cached = { at: now, ...readState() };
    return cached;
  };
  const pending = () => read().pending;
  const worstLagMs = () => {
    let oldest = Infinity;
    for (const since of pending().values()) oldest = Math.min(oldest, since);
    return oldest === Infinity ? 0 : Math.max(0, deps.now() - oldest);
  };
  new Gauge({
    name: REPO_METRIC_NAMES.worstLag,
    help: 'The worst lag of any repository now: time since the oldest event this replica took and has not applied',
    registers,
    collect() {
      this.set(worstLagMs() / 1000);
    },
  });
  new Histogram({
    name: REPO_METRIC_NAMES.repoLag,
    help: 'Lag of every repository the replica knows, now (0 for those caught up)',
    buckets: LAG_BUCKETS,
    registers,
    collect() {
      this.reset();
      const lags = pending();
      const now = deps.now();
      let known = 0;
      for (const n of read().counts.values()) known += n;
      for (const since of lags.values()) this.observe(Math.max(0, now - since) / 1000);
      for (let i = lags.size; i < known; i++) this.observe(0);
    },
  });
  new Gauge({
    name: REPO_METRIC_NAMES.repositories,
    help: 'Repositories of this replica per state',
    labelNames: ['state'],
    registers,
    collect() {
      const { counts } = read();
      for (const state of REPO_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: REPO_METRIC_NAMES.slowRepo,
    help: 'Lag of each repository above http.slowRepoLagMs (only those; at most 100, the slowest)',
    labelNames: ['repo'],
    registers,
    collect() {
      this.reset();
      const now = deps.now();
      const slow = [...pending()].map(([repo, since]) => [repo, now - since] as const).filter(([, lag]) => lag > deps.slowLagMs);
      slow.sort((a, b) => b[1] - a[1]);
      for (const [repo, lag] of slow.slice(0, maxSlow)) this.set({ repo }, lag / 1000);
    },
  });
  return { worstLagMs };
}
