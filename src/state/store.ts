import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { STATE_DIR } from './dir.js';
import type { RepoFailure, RepoStateName, RepoSyncState, RetentionGap, SyncRecorder, VerifyOutcome } from './types.js';

export { STATE_DIR };

const FILE = 'state.db';

export function statePath(root: string): string {
  return join(root, STATE_DIR, FILE);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS repos (
  repo TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  stage INTEGER,
  last_event_id TEXT,
  last_event_published_at INTEGER,
  last_sync_at INTEGER,
  last_sync_ms INTEGER,
  failure_class TEXT,
  failure_message TEXT,
  failure_stage INTEGER,
  failure_at INTEGER,
  last_verified_at INTEGER,
  last_verify_result TEXT,
  checksum TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
  repo TEXT NOT NULL,
  event_id TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (repo, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bootstrap (repo TEXT PRIMARY KEY, done_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gaps (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offsets INTEGER,
  repos INTEGER NOT NULL,
  healed_at INTEGER
);
`;

interface Row {
  repo: string;
  state: string;
  stage: number | null;
  last_event_id: string | null;
  last_event_published_at: number | null;
  last_sync_at: number | null;
  last_sync_ms: number | null;
  failure_class: string | null;
  failure_message: string | null;
  failure_stage: number | null;
  failure_at: number | null;
  last_verified_at: number | null;
  last_verify_result: string | null;
  checksum: string | null;
  updated_at: number;
}

/** Longest a write waits for another process of the replica holding the database. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The replica's per-repository sync state: one SQLite database (Node's built-in node:sqlite) in
 * replica.root, in WAL mode, so the processes of one replica (which share replica.root) read and
 * write it safely at once and a write costs tens of microseconds. It survives restarts; nothing
 * in it is needed to replicate correctly (events and verification are), so a lost file only
 * means the views start empty.
 */
export class SyncStateStore implements SyncRecorder {
  private readonly db: DatabaseSync;
  private open = true;
  private readonly statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Opens (creating when missing) the state of the replica whose root this is. */
  static open(root: string): SyncStateStore {
    mkdirSync(join(root, STATE_DIR), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(statePath(root));
    // The busy timeout as a pragma: the constructor's option is newer than node:sqlite itself.
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;`);
    db.exec(SCHEMA);
    return new SyncStateStore(db);
  }

  /** Opens an existing state for reading (status); undefined when the replica has none yet. */
  static openReadOnly(root: string): SyncStateStore | undefined {
    if (!existsSync(statePath(root))) return undefined;
    const db = new DatabaseSync(statePath(root), { readOnly: true });
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS};`);
    return new SyncStateStore(db);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  /** Sets the named columns of a repository's row, creating it (state `unverified`) when missing. */
  private upsert(repo: string, at: number, columns: Record<string, string | number | null>): void {
    const names = Object.keys(columns);
    const insertNames = ['repo', 'state', 'updated_at', ...names.filter((n) => n !== 'state')];
    const values = [repo, (columns.state as string | undefined) ?? 'unverified', at, ...names.filter((n) => n !== 'state').map((n) => columns[n] ?? null)];
    const sets = [...names.map((n) => `${n} = excluded.${n}`), 'updated_at = excluded.updated_at'];
    this.sql(`INSERT INTO repos (${insertNames.join(', ')}) VALUES (${insertNames.map(() => '?').join(', ')}) ON CONFLICT(repo) DO UPDATE SET ${sets.join(', ')}`).run(...values);
  }

  /** Events of a repository the consumer took and has not applied yet (those already known stay). */
  eventsSeen(repo: string, events: ReadonlyArray<{ id: string; publishedAt: number }>): void {
    if (events.length === 0) return;
    const insert = this.sql('INSERT OR IGNORE INTO pending (repo, event_id, published_at) VALUES (?, ?, ?)');
    this.transaction(() => {
      for (const e of events) insert.run(repo, e.id, e.publishedAt);
    });
  }

  /**
   * Events that no longer wait: the ones named, and every one published no later than `coveredUpTo`
   * (a sync that began then made the repository equal to a primary that already had them).
   */
  eventsSettled(repo: string, ids: readonly string[], coveredUpTo: number | null, options: { unlessRetrying?: boolean } = {}): void {
    const remove = this.sql('DELETE FROM pending WHERE repo = ? AND event_id = ?');
    this.transaction(() => {
      for (const id of ids) remove.run(repo, id);
      // With unlessRetrying (a sync of some refs): older events go too only when none of the
      // repository waits in a retry stage, since those may name other refs.
      const covered = coveredUpTo !== null && !(options.unlessRetrying && (this.get(repo)?.stage ?? null) !== null);
      if (covered) this.sql('DELETE FROM pending WHERE repo = ? AND published_at <= ?').run(repo, coveredUpTo);
    });
  }

  /** When the oldest unapplied event of each repository that has one was published. */
  pendingSince(): Map<string, number> {
    const rows = this.sql('SELECT repo, MIN(published_at) AS since FROM pending GROUP BY repo').all() as unknown as Array<{ repo: string; since: number }>;
    return new Map(rows.map((r) => [r.repo, r.since]));
  }

  oldestPending(repo: string): number | null {
    return (this.sql('SELECT MIN(published_at) AS since FROM pending WHERE repo = ?').get(repo) as { since: number | null } | undefined)?.since ?? null;
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  syncStarted(repo: string, at: number): void {
    this.upsert(repo, at, { state: 'syncing' });
  }

  syncSucceeded(repo: string, done: { at: number; durationMs: number; eventId?: string | undefined; publishedAt?: number | undefined }): void {
    // Another event of it still waits in a retry stage: it stays retrying (with that stage).
    const stage = this.get(repo)?.stage ?? null;
    const waiting = stage !== null && this.oldestPending(repo) !== null;
    const columns: Record<string, string | number | null> = waiting
      ? { state: 'retrying', last_sync_at: done.at, last_sync_ms: done.durationMs }
      : { state: 'synced', stage: null, last_sync_at: done.at, last_sync_ms: done.durationMs };
    if (done.eventId !== undefined) {
      columns.last_event_id = done.eventId;
      columns.last_event_published_at = done.publishedAt ?? null;
    }
    this.upsert(repo, done.at, columns);
  }

  syncFailed(repo: string, failure: RepoFailure & { next: 'retrying' | 'failed'; nextStage: number | null }): void {
    this.upsert(repo, failure.at, {
      state: failure.next,
      stage: failure.nextStage,
      failure_class: failure.errorClass,
      failure_message: failure.message.slice(0, 1000),
      failure_stage: failure.stage,
      failure_at: failure.at,
    });
  }

  deleted(repo: string): void {
    this.sql('DELETE FROM repos WHERE repo = ?').run(repo);
    this.sql('DELETE FROM pending WHERE repo = ?').run(repo);
  }

  missingOnPrimary(repo: string, at: number): void {
    this.upsert(repo, at, { state: 'missing-on-primary' });
  }

  /** What a verification found; `state` is the repository's state after it. */
  verified(repo: string, v: { at: number; result: VerifyOutcome; checksum: string | null; state: RepoStateName }): void {
    const columns: Record<string, string | number | null> = { state: v.state, last_verified_at: v.at, last_verify_result: v.result, checksum: v.checksum };
    if (v.state === 'synced') columns.stage = null;
    this.upsert(repo, v.at, columns);
  }

  /** Sets a state only (missing-on-primary from a tombstone, mismatch before a repair). */
  setState(repo: string, state: RepoStateName, at: number): void {
    this.upsert(repo, at, { state });
  }

  get(repo: string): RepoSyncState | undefined {
    const row = this.sql('SELECT * FROM repos WHERE repo = ?').get(repo) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): RepoSyncState[] {
    return (this.sql('SELECT * FROM repos ORDER BY repo').all() as unknown as Row[]).map(fromRow);
  }

  /** When each repository was last verified (null: never). */
  lastVerified(): Map<string, number | null> {
    const rows = this.sql('SELECT repo, last_verified_at FROM repos').all() as unknown as Array<{ repo: string; last_verified_at: number | null }>;
    return new Map(rows.map((r) => [r.repo, r.last_verified_at]));
  }

  counts(): Map<RepoStateName, number> {
    const rows = this.sql('SELECT state, COUNT(*) AS n FROM repos GROUP BY state').all() as unknown as Array<{ state: RepoStateName; n: number }>;
    return new Map(rows.map((r) => [r.state, r.n]));
  }

  meta(key: string): string | undefined {
    return (this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Adds repositories to the bootstrap (those already there keep their progress). */
  planBootstrap(repos: Iterable<string>): void {
    const insert = this.sql('INSERT OR IGNORE INTO bootstrap (repo, done_at) VALUES (?, NULL)');
    this.transaction(() => {
      for (const repo of repos) insert.run(repo);
    });
  }

  bootstrapPending(): string[] {
    return (this.sql('SELECT repo FROM bootstrap WHERE done_at IS NULL ORDER BY repo').all() as unknown as Array<{ repo: string }>).map((r) => r.repo);
  }

  bootstrapDone(repo: string, at: number): void {
    this.sql('UPDATE bootstrap SET done_at = ? WHERE repo = ?').run(at, repo);
  }

  bootstrapProgress(): { total: number; done: number } {
    const row = this.sql('SELECT COUNT(*) AS total, COUNT(done_at) AS done FROM bootstrap').get() as { total: number; done: number };
    return { total: row.total, done: row.done };
  }

  recordGap(gap: Omit<RetentionGap, 'healedAt'>): number {
    const result = this.sql('INSERT INTO gaps (at, topic, partition, offsets, repos, healed_at) VALUES (?, ?, ?, ?, ?, NULL)').run(gap.at, gap.topic, gap.partition, gap.offsets, gap.repos);
    return Number(result.lastInsertRowid);
  }

  gapHealed(id: number, at: number): void {
    this.sql('UPDATE gaps SET healed_at = ? WHERE id = ?').run(at, id);
  }

  /** The most recent gaps, newest first. */
  gaps(limit = 20): RetentionGap[] {
    const rows = this.sql('SELECT at, topic, partition, offsets, repos, healed_at FROM gaps ORDER BY id DESC LIMIT ?').all(limit) as unknown as Array<{
      at: number;
      topic: string;
      partition: number;
      offsets: number | null;
      repos: number;
      healed_at: number | null;
    }>;
    return rows.map((r) => ({ at: r.at, topic: r.topic, partition: r.partition, offsets: r.offsets, repos: r.repos, healedAt: r.healed_at }));
  }
}

function fromRow(row: Row): RepoSyncState {
  return {
    repo: row.repo,
    state: row.state as RepoStateName,
    stage: row.stage,
    lastEventId: row.last_event_id,
    lastEventPublishedAt: row.last_event_published_at,
    lastSyncAt: row.last_sync_at,
    lastSyncMs: row.last_sync_ms,
    lastFailure:
      row.failure_class === null || row.failure_at === null
        ? null
        : { errorClass: row.failure_class, message: row.failure_message ?? '', stage: row.failure_stage, at: row.failure_at },
    lastVerifiedAt: row.last_verified_at,
    lastVerifyResult: row.last_verify_result as VerifyOutcome | null,
    checksum: row.checksum,
    updatedAt: row.updated_at,
  };
}
