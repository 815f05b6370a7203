/**
 * The fetch engine's API, as the replica consumer calls it. Implemented in src/fetch/.
 * Every method makes the replica converge to the primary's *current* state for what it names,
 * so calling it again, late or out of order is always safe.
 */

export interface SyncOptions {
  /** Aborts the running git process(es); the call then rejects with a FetchError of kind 'aborted'. */
  signal?: AbortSignal;
  /**
   * When the event that asked for this sync was published. "Repository not found on the
   * primary" is transient within replica.missingRepoGraceMs of this time (creation and
   * replication race), permanent after it.
   */
  publishedAt?: Date;
  /**
   * The event's new value per ref (syncRefs only). A ref whose local value already equals its
   * hint is skipped without spawning git; an all-zero hint means "expected absent", so a ref
   * already missing locally is skipped too. Without a hint the primary is always asked.
   */
  hints?: Record<string, string>;
  /**
   * syncRepository only: clone the repository afresh and swap the clone in, as after
   * replica.recloneAfterFailures failed syncs (the replica's copy is known to be damaged).
   */
  reclone?: boolean;
  /**
   * syncRepository only: also point HEAD where the primary's points (one more ls-remote).
   * Default true; self-healing resyncs leave it out, since no event they stand for moves HEAD.
   */
  followHead?: boolean;
  /**
   * deleteRepository only: checked in the repository's turn, right before deleting; when it says
   * false, nothing is deleted (the repository came back while the deletion waited for its turn).
   */
  stillDelete?: () => boolean;
}

export interface SyncResult {
  repo: string;
  /** Refs the replica updated or created to match the primary. */
  fetched: string[];
  /** Refs the replica removed because the primary no longer has them. */
  deleted: string[];
  /** Refs that were already equal (those that matched the event's hint were not even fetched). */
  upToDate: string[];
  /** syncRefs: named refs replica.refs does not select, left alone (absent when there are none). */
  excluded?: string[];
  /** The replica repository did not exist and was created (bare). */
  created: boolean;
  /** Incremental sync kept failing and the repository was cloned afresh and swapped in. */
  recloned: boolean;
  durationMs: number;
}

/**
 * A Fetcher bounds its own concurrency (one sync per repository at a time, at most
 * replica.fetchConcurrency repositories at once), so callers hand it all their work at once.
 */
export interface Fetcher {
  /** Makes each named ref equal to the primary's current value, or deletes it if the primary has none. */
  syncRefs(repo: string, refs: string[], options?: SyncOptions): Promise<SyncResult>;
  /** Makes every ref equal to the primary's, pruning refs the primary no longer has. */
  syncRepository(repo: string, options?: SyncOptions): Promise<SyncResult>;
  /** Deletes the replica's copy (only used when replica.applyDeletes is on). */
  deleteRepository(repo: string, options?: SyncOptions): Promise<{ deleted: boolean }>;
  /** Waits for running work (up to the grace period the caller enforces) and frees resources. */
  close(): Promise<void>;
}
