/**
 * Per-repository sync state of a replica (see docs/self-healing.md): what the consumer, the
 * healer and verification record, and what `pullrep status` shows.
 */
export const REPO_STATES = ['synced', 'syncing', 'retrying', 'failed', 'missing-on-primary', 'unverified', 'mismatch'] as const;
export type RepoStateName = (typeof REPO_STATES)[number];

/** What the last verification found. */
export type VerifyOutcome = 'equal' | 'repaired' | 'mismatch' | 'missing-on-primary' | 'damaged' | 'error';

export interface RepoFailure {
  errorClass: string;
  message: string;
  /** Where it failed: 0 = the events topic, n = retry stage n; null outside the ladder (a repair). */
  stage: number | null;
  at: number;
}

export interface RepoSyncState {
  repo: string;
  state: RepoStateName;
  /** The retry stage an event of it waits in, while retrying. */
  stage: number | null;
  lastEventId: string | null;
  /** When the last applied event was published (ms since the epoch). */
  lastEventPublishedAt: number | null;
  lastSyncAt: number | null;
  lastSyncMs: number | null;
  lastFailure: RepoFailure | null;
  lastVerifiedAt: number | null;
  lastVerifyResult: VerifyOutcome | null;
  /** The replica's ref checksum as last computed (by verification). */
  checksum: string | null;
  updatedAt: number;
}

/** A retention gap: events of a partition this replica never read, gone from the topic. */
export interface RetentionGap {
  at: number;
  topic: string;
  partition: number;
  /** How many offsets were lost; null when not known. */
  offsets: number | null;
  /** Repositories resynced for it. */
  repos: number;
  healedAt: number | null;
}

/** What recording a sync takes from the consumer. */
export interface SyncRecorder {
  /** The consumer took these events of a repository; they wait until applied (see lag). */
  eventsSeen(repo: string, events: ReadonlyArray<{ id: string; publishedAt: number }>): void;
  /** These events no longer wait (applied, or written to the failed topic), and every one published by `coveredUpTo`. */
  eventsSettled(repo: string, ids: readonly string[], coveredUpTo: number | null, options?: { unlessRetrying?: boolean }): void;
  syncStarted(repo: string, at: number): void;
  syncSucceeded(repo: string, done: { at: number; durationMs: number; eventId?: string | undefined; publishedAt?: number | undefined }): void;
  syncFailed(repo: string, failure: RepoFailure & { next: 'retrying' | 'failed'; nextStage: number | null }): void;
  deleted(repo: string): void;
  /** A repo-deleted event that is not applied (replica.applyDeletes off): the copy is kept. */
  missingOnPrimary(repo: string, at: number): void;
}
