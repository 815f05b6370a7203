import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchOptions } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { FetchError, PermanentFetchError, TransientFetchError } from './errors.js';
import { gitEnvironment, primarySecrets } from './git-env.js';
import { gitRunner } from './git-runner.js';
import { RepoLocks } from './repo-lock.js';
import { WorkGate } from './work-gate.js';
import { listRepositories } from './list-repositories.js';
import { runMaintenance } from './maintenance.js';
import { checkRepository } from './repo-guard.js';
import { checkDeletable, checkNoOtherSpelling, repositoryKey, checkRefNames, primaryUrl, repoPathUnder } from './paths.js';
import { compareRefs, listRefs, NO_CHANGE } from './refs.js';
import { fetchEverything, followHead, pruneUnselected } from './whole-sync.js';
import { refSelectionOf, type RefSelection } from '../refs/selection.js';
import { finish, type SyncContext } from './sync-context.js';
import { createReplica } from './create.js';
import { FailureCounter, recloneReplica } from './reclone.js';
import { syncRefsIncremental } from './sync-refs.js';
import { scrub } from './scrub.js';
import { keepReadOnly } from './read-only.js';
import { readOnlyHook } from './read-only-hook.js';
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
  private readonly locks: RepoLocks;
  private readonly failures: FailureCounter;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private closed = false;
  /** Repositories whose hook pullrep may not replace have been warned about (once per process). */
  private readonly readOnlyWarned = new Set<string>();
  /** With replica.readOnly off: repositories whose read-only setup was checked for removal (once per process). */
  private readonly readOnlyUndone = new Set<string>();
  /** The primary is reached over http(s): its answers' statuses and Retry-After are read. */
  private readonly overHttp: boolean;
  /** replica.refs: the refs replicated; a ref it does not select is never fetched. */
  private readonly refs: RefSelection;

  constructor(private readonly deps: FetcherDeps) {
    this.overHttp = /^https?:/i.test(deps.options.primaryUrl);
    const { options } = deps;
    this.gate = new WorkGate(options.concurrency);
    this.locks = new RepoLocks(options.root, {
      onWait: (repo, holder) => deps.logger.info({ repo, holder }, 'waiting for another process to finish its sync of the repository'),
    });
    this.failures = new FailureCounter(options.recloneAfterFailures);
    this.env = gitEnvironment(deps.env, options.primaryUrl, options.credentials);
    this.now = deps.clock ?? Date.now;
    this.refs = refSelectionOf(options.refs);
  }

  async syncRefs(repo: string, refs: string[], options: SyncOptions = {}): Promise<SyncResult> {
    const checked = checkRefNames(refs);
    // Refs replica.refs does not select are left alone: not fetched, not deleted (a whole sync prunes them).
    const names = this.refs.all ? checked : checked.filter((ref) => this.refs.selects(ref));
    const excluded = this.refs.all ? [] : checked.filter((ref) => !this.refs.selects(ref));
    if (names.length === 0 && excluded.length > 0) return this.nothingSelected(repo, excluded);
    const result = await this.locked(repo, options, async (ctx) => {
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
    return excluded.length ? { ...result, excluded } : result;
  }

  /** A sync of refs replica.refs selects none of: done at once, no git, the repository not touched. */
  private nothingSelected(repo: string, excluded: string[]): SyncResult {
    if (this.closed) throw new TransientFetchError('the fetcher is closed', 'aborted');
    repoPathUnder(this.root, repo, 'replica.root');
    this.deps.logger.debug({ repo, excluded: excluded.length }, 'nothing to sync: replica.refs selects none of the refs');
    return { repo, fetched: [], deleted: [], upToDate: [], excluded, created: false, recloned: false, durationMs: 0 };
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
      let gone: string[];
      try {
        gone = await fetchEverything(ctx.git, ctx.path, ctx.url, this.refs);
        this.failures.succeeded(repo);
      } catch (err) {
        return this.recloneOrThrow(ctx, err, undefined, before);
      }
      const listed = await listRefs(ctx.git, ctx.path);
      // With replica.refs, refs it does not select (left from an earlier configuration) go too.
      const after = this.refs.all ? listed : await pruneUnselected(ctx.git, ctx.path, listed, this.refs, gone);
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
    const failed = (err: unknown) => {
      const error = asFetchError(err, repo);
      // The one log line of a failed sync (callers count or print it, they don't log it again).
      log.warn({ kind: error.kind, retriable: error.retriable, err: error.message }, 'sync failed');
      return error;
    };
    // One turn for a name and its other spelling (with or without .git): they are one repository;
    // and one across the processes that share replica.root (src/fetch/repo-lock.ts), waited for
    // without a slot.
    const hold = () =>
      this.locks.acquire(repositoryKey(repo), options.signal).catch((err: unknown) => {
        throw failed(err);
      });
    return this.gate.run(repositoryKey(repo), () => this.inTurn({ repo, path, url, log, options, guard, failed }, work), hold);
  }

  /** The sync itself, in the repository's turn and slot, holding its lock. */
  private async inTurn(
    call: { repo: string; path: string; url: string; log: Logger; options: SyncOptions; guard: boolean; failed: (err: unknown) => Error },
    work: (ctx: SyncContext) => Promise<SyncResult>,
  ): Promise<SyncResult> {
    const { repo, path, url, log, options, guard, failed } = call;
    if (options.signal?.aborted) throw new TransientFetchError(`sync of ${repo} aborted before it started`, 'aborted');
    const started = this.now();
    const secrets = primarySecrets(this.deps.options.credentials);
    const git = gitRunner({
      env: this.env,
      timeoutMs: this.deps.options.gitTimeoutMs,
      signal: options.signal,
      secrets,
      publishedAt: options.publishedAt,
      missingRepoGraceMs: this.deps.options.missingRepoGraceMs,
      now: this.now,
      logger: log,
      traceHttp: this.overHttp,
    });
    try {
      const hook = this.deps.options.readOnly ? readOnlyHook(url, secrets) : undefined;
      const ctx: SyncContext = { repo, path, url, git, log, started, now: this.now, readOnlyHook: hook, refs: this.refs };
      // Deleting runs no git and follows no link: a repository the guard refuses can still go.
      if (guard && existsSync(path)) {
        checkRepository(path, repo);
        await this.keepReadOnly(ctx);
      }
      // A repository this call makes (again) refuses pushes before it is in place (cloneInto).
      return await work(ctx);
    } catch (err) {
      throw failed(err);
    }
  }

  /**
   * replica.readOnly on every turn: a few file reads, git only to change a config entry. It never
   * fails the call (the sync matters more; `pullrep verify` reports a repository left writable).
   */
  private async keepReadOnly(ctx: SyncContext): Promise<void> {
    // Taking the setup out is done once per repository and process; nothing puts it back meanwhile.
    if (!ctx.readOnlyHook && this.readOnlyUndone.has(ctx.repo)) return;
    try {
      const { changed, problem } = await keepReadOnly(ctx.git, ctx.path, ctx.readOnlyHook);
      if (!ctx.readOnlyHook) this.readOnlyUndone.add(ctx.repo);
      if (changed.length) ctx.log.info({ changed }, ctx.readOnlyHook ? 'the replica repository refuses pushes' : "took pullrep's read-only setup out of the replica repository");
      if (problem && !this.readOnlyWarned.has(ctx.repo)) {
        this.readOnlyWarned.add(ctx.repo);
        ctx.log.warn({ problem }, 'the replica repository is not fully read-only; pullrep leaves a hook it did not write alone');
      }
    } catch (err) {
      ctx.log.warn({ err: scrub(String((err as Error).message ?? err)) }, 'could not keep the replica repository read-only');
    }
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
