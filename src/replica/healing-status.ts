import { SyncStateStore } from '../state/store.js';
import { REPO_STATES, type RepoStateName } from '../state/types.js';
import { age, counted } from '../text/index.js';
import { repoViews, summarize } from './repo-view.js';

/** The self-healing part of `pullrep status` on a replica, read from its state in replica.root. */
export interface HealingStatus {
  /** Selected repositories the state knows (replica.shard, replica.repos), and how many are in each state. */
  repositories: number;
  /** Repositories the state still knows that this replica no longer selects: kept on disk, neither synced nor verified. */
  notSelected: number;
  states: Record<RepoStateName, number>;
  bootstrap: { total: number; done: number; finished: boolean };
  /** The oldest unapplied event of any repository, and whose; 0 and null when caught up. */
  worstLagMs: number;
  worstLagRepo: string | null;
  /** The most recent retention gaps, newest first. */
  gaps: Array<{ at: string; topic: string; partition: number; offsets: number | null; repos: number; healedAt: string | null }>;
}

/** Undefined when the replica has never run (no state yet). `selects`: the replica's selection (every repository when absent). */
export function healingStatus(root: string, now = Date.now(), selects?: (repo: string) => boolean): HealingStatus | undefined {
  const store = SyncStateStore.openReadOnly(root);
  if (!store) return undefined;
  try {
    const views = repoViews(store, now);
    const selected = selects ? views.filter((v) => selects(v.repo)) : views;
    const { states, worstLagMs, worstLagRepo } = summarize(selected);
    const progress = store.bootstrapProgress();
    return {
      repositories: Object.values(states).reduce((a, b) => a + b, 0),
      notSelected: views.length - selected.length,
      states,
      worstLagMs,
      worstLagRepo,
      bootstrap: { ...progress, finished: store.meta('bootstrapped') !== undefined },
      gaps: store.gaps(10).map((g) => ({ ...g, at: new Date(g.at).toISOString(), healedAt: g.healedAt === null ? null : new Date(g.healedAt).toISOString() })),
    };
  } finally {
    store.close();
  }
}

export function renderHealingStatus(status: HealingStatus | undefined, now = Date.now()): string {
  if (!status) return 'repositories: no state yet (the replica has not run here)\n';
  const parts = REPO_STATES.filter((s) => status.states[s] > 0).map((s) => `${status.states[s]} ${s}`);
  let out = `repositories ${status.repositories}${parts.length ? `: ${parts.join(', ')}` : ''}\n`;
  if (status.notSelected > 0) out += `not selected ${status.notSelected} (kept in replica.root, neither synced nor verified; pullrep verify --all lists them)\n`;
  out += status.worstLagRepo === null ? 'worst lag 0 (every event taken is applied)\n' : `worst lag ${age(status.worstLagMs)}: ${status.worstLagRepo} (pullrep status --repo ${status.worstLagRepo})\n`;
  const { bootstrap } = status;
  if (bootstrap.total > 0 || !bootstrap.finished) {
    out += bootstrap.finished
      ? `bootstrap done: ${counted(bootstrap.total, 'repository', 'repositories')} from the catalog\n`
      : `bootstrap ${bootstrap.done} of ${counted(bootstrap.total, 'repository', 'repositories')}${bootstrap.total === 0 ? ' (waiting for the catalog)' : ''}\n`;
  }
  const latest = status.gaps[0];
  if (latest) {
    const lost = latest.offsets === null ? 'unknown offsets' : counted(latest.offsets, 'offset', 'offsets');
    const healed = latest.healedAt === null ? `healing ${counted(latest.repos, 'repository', 'repositories')}` : `healed ${age(now - Date.parse(latest.healedAt))} ago`;
    out += `retention gaps ${status.gaps.length}${status.gaps.length === 10 ? '+' : ''}; latest ${age(now - Date.parse(latest.at))} ago: ${latest.topic}[${latest.partition}], ${lost} lost, ${healed}\n`;
  }
  return out;
}
