import type { GitRunner } from './git-runner.js';

/** Everything one incremental sync of one repository needs. */
export interface RefSyncJob {
  git: GitRunner;
  root: string;
  gitDir: string;
  url: string;
  refs: string[];
  hints?: Record<string, string> | undefined;
  /** Fetch through a quarantine repository (large repositories) instead of directly. */
  quarantine: boolean;
  /** Size of the replica's packed-refs: prices a listing of the primary's refs (see listAfter). */
  packedRefsBytes: number;
  staleLockMs: number;
  now: () => number;
}

export type RefValues = Map<string, string | undefined | null>;

export interface RefSyncOutcome {
  before: RefValues;
  after: RefValues;
  /** Refs skipped because the local value already matched the hint. */
  skipped: string[];
  /** Stale lock files removed before a retry. */
  locksRemoved: string[];
}
