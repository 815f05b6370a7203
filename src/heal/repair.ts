import type { CatalogView } from '../catalog/view.js';
import { FetchError, type Fetcher } from '../fetch/index.js';
import type { Logger } from '../log/index.js';
import type { RepoStateName, VerifyOutcome } from '../state/types.js';
import type { LocalSide, Sides } from './sides.js';

/** What verification and resyncs write into the replica's state. */
export interface HealRecorder {
  verified(repo: string, v: { at: number; result: VerifyOutcome; checksum: string | null; state: RepoStateName }): void;
  setState(repo: string, state: RepoStateName, at: number): void;
  syncSucceeded(repo: string, done: { at: number; durationMs: number }): void;
  syncFailed(repo: string, failure: { errorClass: string; message: string; stage: number | null; at: number; next: 'retrying' | 'failed'; nextStage: number | null }): void;
  deleted(repo: string): void;
  eventsSettled(repo: string, ids: readonly string[], coveredUpTo: number | null, options?: { unlessRetrying?: boolean }): void;
}

export interface RepairDeps {
  fetcher: Fetcher;
  catalog: CatalogView;
  sides: Sides;
  state: HealRecorder;
  applyDeletes: boolean;
  now(): number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /**
   * Events of the repository are on their way (taken by the consumer, not applied yet): a
   * difference now is lag, not drift, and verification leaves it to them.
   */
  busy?: (repo: string) => boolean;
}

/** What a verification of one repository did. */
export interface Verified {
  /** `skipped`: events of it are on their way (see RepairDeps.busy); nothing was recorded. */
  result: VerifyOutcome | 'skipped';
  /** The primary was asked (the catalog did not settle it). */
  askedPrimary: boolean;
}

/**
 * Anti-entropy for one repository. The cheap path compares the replica's checksum with the
 * catalog's and asks nothing of the primary. When they differ (or the catalog does not know the
 * repository) the primary itself is asked (`ls-remote`), because catalog and replica may each be
 * mid-update; only a difference it confirms is repaired, by a full sync with pruning in the
 * repository's turn (the fetcher's, shared with events). A damaged copy is cloned afresh.
 * Nothing is deleted without both a tombstone in the catalog and the primary's "not found".
 */
export async function verifyRepository(repo: string, deps: RepairDeps): Promise<Verified> {
  const { catalog, sides, state, logger, signal } = deps;
  const log = logger.child({ repo });
  if (deps.busy?.(repo)) return { result: 'skipped', askedPrimary: false };
  const started = deps.now();
  const local = await sides.local(repo, signal);
  const entry = catalog.get(repo);
  const done = (result: VerifyOutcome, askedPrimary: boolean, checksum: string | null, s: RepoStateName): Verified => {
    state.verified(repo, { at: deps.now(), result, checksum, state: s });
    return { result, askedPrimary };
  };
  if (local.kind === 'damaged') {
    log.warn({ why: local.why }, 'the replica repository is damaged; cloning it afresh');
    state.setState(repo, 'mismatch', deps.now());
    await deps.fetcher.syncRepository(repo, { signal, reclone: true });
    const after = await sides.local(repo, signal);
    return done('repaired', false, after.kind === 'present' ? after.checksum : null, after.kind === 'present' ? 'synced' : 'mismatch');
  }
  if (local.kind === 'present' && entry && matchesCatalog(local, entry.checksum)) {
    // Equal to the primary as the catalog saw it then: every event published by then is applied.
    state.eventsSettled(repo, [], Date.parse(entry.updatedAt));
    return done('equal', false, local.checksum, 'synced');
  }
  if (local.kind === 'absent' && !entry) {
    // Nothing here and nothing to hold: a tombstone of a repository this replica never had.
    state.deleted(repo);
    return { result: 'missing-on-primary', askedPrimary: false };
  }
  const primary = await sides.primary(repo, signal);
  if (primary === null) {
    if (local.kind === 'absent') {
      state.deleted(repo);
      return { result: 'missing-on-primary', askedPrimary: true };
    }
    if (deps.applyDeletes && catalog.deleted(repo)) {
      // Checked again in the repository's turn: it may have come back meanwhile.
      const { deleted } = await deps.fetcher.deleteRepository(repo, { signal, stillDelete: () => catalog.deleted(repo) });
      if (!deleted) return { result: 'skipped', askedPrimary: true };
      state.deleted(repo);
      log.info('deleted: the catalog has a tombstone and the primary confirms the repository is gone');
      return { result: 'missing-on-primary', askedPrimary: true };
    }
    return done('missing-on-primary', true, local.checksum, 'missing-on-primary');
  }
  if (local.kind === 'present' && local.checksum === primary && !local.unselected) {
    state.eventsSettled(repo, [], started);
    return done('equal', true, local.checksum, 'synced');
  }
  if (deps.busy?.(repo)) return { result: 'skipped', askedPrimary: true };
  const unselected = local.kind === 'present' ? local.unselected : undefined;
  log.warn({ replica: local.kind === 'present' ? local.checksum : null, primary, catalog: entry?.checksum ?? null, ...(unselected ? { unselected } : {}) }, 'verification: the replica differs from the primary; repairing');
  state.setState(repo, 'mismatch', deps.now());
  const repairStarted = deps.now();
  await deps.fetcher.syncRepository(repo, { signal });
  state.eventsSettled(repo, [], repairStarted);
  state.syncSucceeded(repo, { at: deps.now(), durationMs: deps.now() - repairStarted });
  const after = await sides.local(repo, signal);
  return done('repaired', true, after.kind === 'present' ? after.checksum : null, 'synced');
}

/**
 * A full sync with pruning of one repository that events may have missed (a retention gap, a
 * bootstrap). A copy whose checksum already equals the catalog's is skipped: the catalog was read
 * to its end after the events were lost, so it is newer than any of them, and that copy holds
 * everything they asked for. A repository the catalog says is deleted is only marked.
 */
export async function resyncRepository(repo: string, deps: RepairDeps, options: { skipWhenEqual: boolean }): Promise<'synced' | 'equal' | 'missing-on-primary'> {
  const { catalog, sides, state, signal } = deps;
  if (catalog.deleted(repo)) {
    state.setState(repo, 'missing-on-primary', deps.now());
    return 'missing-on-primary';
  }
  if (options.skipWhenEqual) {
    const entry = catalog.get(repo);
    const local = await sides.local(repo, signal, { objects: false });
    if (entry && local.kind === 'present' && matchesCatalog(local, entry.checksum)) {
      state.verified(repo, { at: deps.now(), result: 'equal', checksum: local.checksum, state: 'synced' });
      state.eventsSettled(repo, [], Date.parse(entry.updatedAt));
      return 'equal';
    }
  }
  const started = deps.now();
  try {
    await deps.fetcher.syncRepository(repo, { signal, followHead: false });
  } catch (err) {
    if (err instanceof FetchError && err.kind === 'not-found') {
      state.setState(repo, 'missing-on-primary', deps.now());
      return 'missing-on-primary';
    }
    const e = err as { name?: string; message?: string };
    state.syncFailed(repo, { errorClass: e.name ?? 'Error', message: e.message ?? String(err), stage: null, at: deps.now(), next: 'failed', nextStage: null });
    throw err;
  }
  state.eventsSettled(repo, [], started);
  state.syncSucceeded(repo, { at: deps.now(), durationMs: deps.now() - started });
  return 'synced';
}

/**
 * The replica's copy equals the primary as the catalog records it. With replica.refs the
 * catalog's checksum covers refs the replica leaves out: the copy's checksum combined with theirs
 * (LocalSide.againstCatalog) is compared, and a copy holding refs replica.refs does not select
 * never matches (a whole sync prunes them).
 */
function matchesCatalog(local: Extract<LocalSide, { kind: 'present' }>, catalogChecksum: string): boolean {
  return !local.unselected && (local.againstCatalog ?? local.checksum) === catalogChecksum;
}
