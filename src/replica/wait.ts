import { existsSync } from 'node:fs';
import { isObjectId, quote, refNameProblem, repoNameProblem } from '../events/index.js';
import { baseConfigArgs, readLocalRefs, repoPathUnder, runGit, type Fetcher, type SyncOptions, type SyncResult } from '../fetch/index.js';

/** What a wait asks for. */
export interface WaitRequest {
  repo: string;
  ref: string;
  oid: string;
  timeoutMs: number;
  /** A descendant of `oid` is as good (a later push got there first). */
  orNewer: boolean;
}

export interface WaitOutcome {
  matched: boolean;
  /** The ref's value on this replica when the wait ended; null when it has none. */
  current: string | null;
  waitedMs: number;
}

/** A wait request is malformed: a 400, the CLI's usage error. */
export class WaitRequestError extends Error {
  override readonly name = 'WaitRequestError';
  readonly retriable = false;
}

export const MAX_WAIT_MS = 5 * 60 * 1000;

export function checkWaitRequest(r: { repo: string; ref: string; oid: string; timeoutMs: number }): void {
  const repoProblem = repoNameProblem(r.repo);
  if (repoProblem) throw new WaitRequestError(`repository name ${quote(r.repo)} ${repoProblem}`);
  const refProblem = refNameProblem(r.ref);
  if (refProblem) throw new WaitRequestError(`ref ${quote(r.ref)} ${refProblem}`);
  if (!isObjectId(r.oid)) throw new WaitRequestError(`${quote(r.oid)} is not an object id (40 or 64 hex digits)`);
  if (!Number.isSafeInteger(r.timeoutMs) || r.timeoutMs < 0 || r.timeoutMs > MAX_WAIT_MS) throw new WaitRequestError(`the timeout must be from 0 to ${MAX_WAIT_MS} ms`);
}

interface Waiter {
  request: WaitRequest;
  started: number;
  done: (outcome: WaitOutcome) => void;
  timer: NodeJS.Timeout;
}

/**
 * Readers waiting until this replica holds a ref at a value (`pullrep wait`, GET /v1/repos/…/wait).
 * A wait is answered by the sync path: every sync that succeeded tells `synced(repo)`, and only the
 * waiters of that repository look at their ref again (a file read; `merge-base` for --or-newer).
 * Nothing polls git.
 */
export class RefWaiters {
  private readonly byRepo = new Map<string, Set<Waiter>>();

  constructor(private readonly deps: { root: string; env: NodeJS.ProcessEnv; now?: () => number }) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async wait(request: WaitRequest): Promise<WaitOutcome> {
    checkWaitRequest(request);
    const started = this.now();
    const first = await this.check(request);
    if (first.matched || request.timeoutMs === 0) return { ...first, waitedMs: this.now() - started };
    return new Promise<WaitOutcome>((resolve) => {
      const set = this.byRepo.get(request.repo) ?? new Set<Waiter>();
      this.byRepo.set(request.repo, set);
      const waiter: Waiter = {
        request,
        started,
        done: (outcome) => {
          clearTimeout(waiter.timer);
          set.delete(waiter);
          if (set.size === 0 && this.byRepo.get(request.repo) === set) this.byRepo.delete(request.repo);
          resolve(outcome);
        },
        timer: setTimeout(() => {
          void this.check(request).then((now) => waiter.done({ ...now, waitedMs: this.now() - started }));
        }, request.timeoutMs),
      };
      set.add(waiter);
    });
  }

  /** A sync of `repo` succeeded: its waiters look again. */
  synced(repo: string): void {
    const set = this.byRepo.get(repo);
    if (!set) return;
    for (const waiter of [...set]) {
      void this.check(waiter.request).then((outcome) => {
        if (outcome.matched) waiter.done({ ...outcome, waitedMs: this.now() - waiter.started });
      });
    }
  }

  get size(): number {
    let n = 0;
    for (const set of this.byRepo.values()) n += set.size;
    return n;
  }

  /** Ends every wait (shutdown): each gets what the replica holds now. */
  async close(): Promise<void> {
    const all = [...this.byRepo.values()].flatMap((set) => [...set]);
    await Promise.all(all.map(async (w) => w.done({ ...(await this.check(w.request)), waitedMs: this.now() - w.started })));
  }

  private async check(r: WaitRequest): Promise<{ matched: boolean; current: string | null }> {
    const path = repoPathUnder(this.deps.root, r.repo, 'replica.root');
    if (!existsSync(path)) return { matched: false, current: null };
    let current = readLocalRefs(path, [r.ref]).get(r.ref);
    if (current === null) current = await this.revParse(path, r.ref);
    if (current === undefined || current === null) return { matched: false, current: null };
    if (current === r.oid) return { matched: true, current };
    if (!r.orNewer) return { matched: false, current };
    const outcome = await runGit([...baseConfigArgs(), `--git-dir=${path}`, 'merge-base', '--is-ancestor', r.oid, current], { env: this.deps.env, timeoutMs: 30_000 });
    return { matched: outcome.code === 0, current };
  }

  private async revParse(path: string, ref: string): Promise<string | null> {
    const outcome = await runGit([...baseConfigArgs(), `--git-dir=${path}`, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{}`], { env: this.deps.env, timeoutMs: 30_000 });
    return outcome.code === 0 ? outcome.stdout.trim() || null : null;
  }
}

/** A fetcher that tells the waiters after every sync that succeeded, whoever asked for it (events, healing). */
export function notifyingFetcher(inner: Fetcher, waiters: RefWaiters): Fetcher {
  const after = <T extends SyncResult | { deleted: boolean }>(repo: string, result: T): T => {
    waiters.synced(repo);
    return result;
  };
  return {
    syncRefs: async (repo: string, refs: string[], options?: SyncOptions) => after(repo, await inner.syncRefs(repo, refs, options)),
    syncRepository: async (repo: string, options?: SyncOptions) => after(repo, await inner.syncRepository(repo, options)),
    deleteRepository: async (repo: string, options?: SyncOptions) => after(repo, await inner.deleteRepository(repo, options)),
    close: () => inner.close(),
  };
}
