import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchOptions } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { FetchError, PermanentFetchError, TransientFetchError } from './errors.js';
import { gitEnvironment, primarySecrets } from './git-env.js';
import { gitRunner } from './git-runner.js';
import { WorkGate } from './work-gate.js';
import { listRepositories } from './list-repositories.js';
import { runMaintenance } from './maintenance.js';
import { checkRepository } from './repo-guard.js';
import { checkDeletable, checkNoOtherSpelling, repositoryKey, checkRefNames, primaryUrl, repoPathUnder } from './paths.js';
import { compareRefs, listRefs, NO_CHANGE } from './refs.js';
import { fetchEverything, followHead } from './whole-sync.js';
import { finish, type SyncContext } from './sync-context.js';
import { createReplica } from './create.js';
import { FailureCounter, recloneReplica } from './reclone.js';
import { syncRefsIncremental } from './sync-refs.js';
import { scrub } from './scrub.js';
import type { Fetcher, SyncOptions, SyncResult } from './types.js';

export interface FetcherDeps {
  options: FetchOptions;
  logger: Logger;
  /** The environment git inherits PATH, HOME, SSH_AUTH_SOCK and proxies from (given by the CLI entry). */
  env: NodeJS.ProcessEnv;
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /**
   * packed-refs size from which a sync fetches through a quarantine repository instead of
   * directly (see docs/fetch.md); 0 = always.
   */
  quarantineFromBytes?: number;
  /** Age after which a lock file in a repository we hold is considered left by a killed git. */
  staleLockMs?: number;
}

const DEFAULT_QUARANTINE_FROM = 1024 * 1024;

/** The fetch engine: the Fetcher API plus what operators and the scheduler use. */
export interface ReplicaFetcher extends Fetcher {
  /** Housekeeping of one repository (pack refs, roll up small packs), in the repository's turn; abortable. */
  maintain(repo: string, options?: SyncOptions): Promise<{ durationMs: number }>;
  /** Names of the repositories present in replica.root. */
  listRepositories(): Promise<string[]>;
}

/** Builds the engine; it starts nothing (scheduled housekeeping is started by its owner, see maintenance-schedule.ts). */
export function createFetcher(deps: FetcherDeps): ReplicaFetcher {
  return new Engine(deps);
}

class Engine implements ReplicaFetcher {
  private readonly gate: WorkGate;
  private readonly failures: FailureCounter;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private closed = false;
  /** The primary is reached over http(s): its answers' statuses and Retry-After are read. */
  private readonly overHttp: boolean;

  constructor(private readonly deps: FetcherDeps) {
    this.overHttp = /^https?:/i.test(deps.options.primaryUrl);
    const { options } = deps;
    this.gate = new WorkGate(options.concurrency);
    this.failures = new FailureCounter(options.recloneAfterFailures);
    this.env = gitEnvironment(deps.env, options.primaryUrl, options.credentials);
    this.now = deps.clock ?? Date.now;
  }

  async syncRefs(repo: string, refs: string[], options: SyncOptions = {}): Promise<SyncResult> {
    const names = checkRefNames(refs);
    return this.locked(repo, options, async (ctx) => {
      if (!existsSync(ctx.path)) return this.create(ctx, names);
      const packedRefsBytes = packedRefsSize(ctx.path);
      try {
        const outcome = await syncRefsIncremental({
          git: ctx.git,
          root: this.root,
          gitDir: ctx.path,
          url: ctx.url,
          refs: names,
          hints: options.hints,
          quarantine: this.useQuarantine(packedRefsBytes),
          packedRefsBytes,
          staleLockMs: this.deps.staleLockMs ?? 10 * 60 * 1000,
          now: this.now,
        });
        if (outcome.locksRemoved.length) ctx.log.warn({ locks: outcome.locksRemoved.length }, 'removed stale lock files');
        this.failures.succeeded(repo);
        const diff = compareRefs(outcome.before, outcome.after, names);
        return finish(ctx, diff);
      } catch (err) {
        return this.recloneOrThrow(ctx, err, names);
      }
    });
  }

  async syncRepository(repo: string, options: SyncOptions = {}): Promise<SyncResult> {
    return this.locked(repo, options, async (ctx) => {
      if (!existsSync(ctx.path)) return this.create(ctx, undefined);
      if (options.reclone) {
        ctx.log.warn('the replica repository is damaged; cloning it afresh');
        const result = await recloneReplica(ctx, this.root, undefined);
        this.failures.succeeded(repo);
        return result;
      }
      const before = await listRefs(ctx.git, ctx.path);
      try {
        await fetchEverything(ctx.git, ctx.path, ctx.url);
        this.failures.succeeded(repo);
      } catch (err) {
        return this.recloneOrThrow(ctx, err, undefined, before);
      }
      const after = await listRefs(ctx.git, ctx.path);
      const head = options.followHead === false ? undefined : await followHead(ctx.git, ctx.path, ctx.url, after);
      if (head) ctx.log.info({ head }, 'HEAD follows the primary');
      return finish(ctx, compareRefs(before, after, [...before.keys(), ...after.keys()]));
    });
  }

  async deleteRepository(repo: string, options: SyncOptions = {}): Promise<{ deleted: boolean }> {
    let deleted = false;
    await this.locked(repo, options, async (ctx) => {
      if (existsSync(ctx.path) && options.stillDelete?.() !== false) {
        checkDeletable(this.root, repo, ctx.path);
        await rm(ctx.path, { recursive: true, force: true });
        deleted = true;
        ctx.log.info('deleted the replica repository');
      }
      this.failures.succeeded(repo);
      return finish(ctx, NO_CHANGE);
    }, false);
    return { deleted };
  }

  async maintain(repo: string, options: SyncOptions = {}): Promise<{ durationMs: number }> {
    const result = await this.locked(repo, options, async (ctx) => {
      if (!existsSync(ctx.path)) throw new PermanentFetchError(`repository ${repo} is not on this replica`, 'not-found');
      await runMaintenance(ctx.git, ctx.path);
      ctx.log.info({ ms: this.now() - ctx.started }, 'maintenance done');
      return finish(ctx, NO_CHANGE);
    });
    return { durationMs: result.durationMs };
  }

  listRepositories(): Promise<string[]> {
    return listRepositories(this.root);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.gate.idle();
  }

  private get root(): string {
    return this.deps.options.root;
  }

  private create(ctx: SyncContext, names: string[] | undefined): Promise<SyncResult> {
    checkNoOtherSpelling(ctx.repo, ctx.path);
    return createReplica(ctx, this.root, names);
  }

  private useQuarantine(packedRefsBytes: number): boolean {
    const from = this.deps.quarantineFromBytes ?? DEFAULT_QUARANTINE_FROM;
    return from === 0 || packedRefsBytes >= from;
  }

  /** Validates, then runs `work` in the repository's turn with a git runner bound to this call. */
  private async locked(repo: string, options: SyncOptions, work: (ctx: SyncContext) => Promise<SyncResult>, guard = true): Promise<SyncResult> {
    if (this.closed) throw new TransientFetchError('the fetcher is closed', 'aborted');
    const path = repoPathUnder(this.root, repo, 'replica.root');
    const url = primaryUrl(this.deps.options.primaryUrl, repo);
    const log = this.deps.logger.child({ repo });
    // One turn for a name and its other spelling (with or without .git): they are one repository.
    return this.gate.run(repositoryKey(repo), async () => {
      if (options.signal?.aborted) throw new TransientFetchError(`sync of ${repo} aborted before it started`, 'aborted');
      const started = this.now();
      const git = gitRunner({
        env: this.env,
        timeoutMs: this.deps.options.gitTimeoutMs,
        signal: options.signal,
        secrets: primarySecrets(this.deps.options.credentials),
        publishedAt: options.publishedAt,
        missingRepoGraceMs: this.deps.options.missingRepoGraceMs,
        now: this.now,
        logger: log,
        traceHttp: this.overHttp,
      });
      try {
        // Deleting runs no git and follows no link: a repository the guard refuses can still go.
        if (guard && existsSync(path)) checkRepository(path, repo);
        return await work({ repo, path, url, git, log, started, now: this.now });
      } catch (err) {
        const error = asFetchError(err, repo);
        // The one log line of a failed sync (callers count or print it, they don't log it again).
        log.warn({ kind: error.kind, retriable: error.retriable, err: error.message }, 'sync failed');
        throw error;
      }
    });
  }

  /** Counts a failure that points at the replica; at the threshold, clones afresh and swaps it in. */
  private async recloneOrThrow(ctx: SyncContext, err: unknown, names: string[] | undefined, known?: Map<string, string>): Promise<SyncResult> {
    if (!this.failures.failed(ctx.repo, err)) throw err;
    ctx.log.warn({ failures: this.failures.count(ctx.repo), kind: (err as FetchError).kind }, 'incremental sync keeps failing; cloning the repository afresh');
    const result = await recloneReplica(ctx, this.root, names, known);
    this.failures.succeeded(ctx.repo);
    return result;
  }
}

/** Size of a repository's packed-refs file (0 when it has none): how many refs it roughly has. */
function packedRefsSize(gitDir: string): number {
  return statSync(join(gitDir, 'packed-refs'), { throwIfNoEntry: false })?.size ?? 0;
}

/** Anything that is not already a FetchError (a file system error, say) becomes a transient one. */
function asFetchError(err: unknown, repo: string): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const kind = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk' : 'unknown';
  return new TransientFetchError(`sync of ${repo} failed (${kind}): ${scrub(String((err as Error).message ?? err))}`, kind, { cause: err });
}
