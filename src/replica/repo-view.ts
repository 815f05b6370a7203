import type { SyncStateStore } from '../state/store.js';
import { REPO_STATES, type RepoStateName, type RepoSyncState } from '../state/types.js';

/**
 * One repository as `pullrep status --repo/--repos` shows it. The JSON field names are stable
 * (docs/operations.md): times are ISO-8601 strings, durations and lag numbers in milliseconds.
 */
export interface RepoView {
  repo: string;
  state: RepoStateName;
  /** The retry stage an event of it waits in (while retrying). */
  stage: number | null;
  /** Time since the oldest event for it this replica took and has not applied yet; 0 when caught up. */
  lagMs: number;
  lastEventId: string | null;
  lastEventPublishedAt: string | null;
  lastSyncAt: string | null;
  lastSyncMs: number | null;
  lastFailure: { errorClass: string; message: string; stage: number | null; at: string } | null;
  lastVerifiedAt: string | null;
  lastVerifyResult: string | null;
  checksum: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toView(s: RepoSyncState, pendingSince: number | null, now: number): RepoView {
  return {
    repo: s.repo,
    state: s.state,
    stage: s.stage,
    lagMs: pendingSince === null ? 0 : Math.max(0, now - pendingSince),
    lastEventId: s.lastEventId,
    lastEventPublishedAt: iso(s.lastEventPublishedAt),
    lastSyncAt: iso(s.lastSyncAt),
    lastSyncMs: s.lastSyncMs,
    lastFailure: s.lastFailure ? { ...s.lastFailure, at: new Date(s.lastFailure.at).toISOString() } : null,
    lastVerifiedAt: iso(s.lastVerifiedAt),
    lastVerifyResult: s.lastVerifyResult,
    checksum: s.checksum,
  };
}

/** Every repository the replica's state knows, with its lag now. */
export function repoViews(store: SyncStateStore, now: number): RepoView[] {
  const pending = store.pendingSince();
  return store.list().map((s) => toView(s, pending.get(s.repo) ?? null, now));
}

export function repoView(store: SyncStateStore, repo: string, now: number): RepoView | undefined {
  const s = store.get(repo);
  return s ? toView(s, store.oldestPending(repo), now) : undefined;
}

/** Counts per state and the worst lag: the summary of `pullrep status`. */
export function summarize(views: readonly RepoView[]): { states: Record<RepoStateName, number>; worstLagMs: number; worstLagRepo: string | null } {
  const states = Object.fromEntries(REPO_STATES.map((s) => [s, 0])) as Record<RepoStateName, number>;
  let worst: RepoView | undefined;
  for (const v of views) {
    states[v.state] += 1;
    if (v.lagMs > (worst?.lagMs ?? 0)) worst = v;
  }
  return { states, worstLagMs: worst?.lagMs ?? 0, worstLagRepo: worst?.repo ?? null };
}
