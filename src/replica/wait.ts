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
  /** Looks at the ref again; `last` ends the wait whatever it finds; `cheap` only when the ref file changed. */
  look(last: boolean, cheap?: boolean): void;
}

/**
 * How often a waiter also reads its ref by itself: a sync made by another process of the same
 * replica (they share replica.root) does not wake this one. A file read, no git process.
 */
const FALLBACK_LOOK_MS = 1000;

/**
 * Readers waiting until this replica holds a ref at a value (`pullrep wait`, GET /v1/repos/…/wait).
 * A wait is answered by the sync path: every sync that succeeds in this process calls
 * `synced(repo)`, and only the waiters of that repository look at their ref again (a file read;
 * `merge-base` for --or-newer). A waiter is registered before its first look, so a sync that
 * lands meanwhile is not missed.
 */
export class RefWaiters {
  private readonly byRepo = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(private readonly deps: { root: string; env: NodeJS.ProcessEnv; now?: () => number; fallbackLookMs?: number }) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Resolves when the ref holds the oid, when the timeout passes, or when `signal` aborts (the client went away). */
  wait(request: WaitRequest, signal?: AbortSignal): Promise<WaitOutcome> {
    try {
      checkWaitRequest(request);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const started = this.now();
    // Shutting down: answered at once with what the replica holds now.
    if (this.closed) request = { ...request, timeoutMs: 0 };
    return new Promise<WaitOutcome>((resolve, reject) => {
      const set = this.byRepo.get(request.repo) ?? new Set<Waiter>();
      this.byRepo.set(request.repo, set);
      let finished = false;
      let looking = false;
      let again = false;
      let seen: string | null | undefined;
      const end = (): void => {
        finished = true;
        clearTimeout(timer);
        clearInterval(fallback);
        signal?.removeEventListener('abort', onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.byRepo.get(request.repo) === set) this.byRepo.delete(request.repo);
      };
      const look = (last: boolean, cheap = false): void => {
        if (finished) return;
        // The fallback's look: only when the ref file holds something new (no git process).
        if (cheap && !last) {
          const now = this.refFile(request);
          if (now === seen) return;
        }
        // One look at a time; a wake-up meanwhile looks once more after it.
        if (looking && !last) {
          again = true;
          return;
        }
        looking = true;
        this.check(request).then(
          (outcome) => {
            looking = false;
            seen = this.refFile(request);
            if (finished) return;
            if (outcome.matched || last) {
              end();
              resolve({ ...outcome, waitedMs: this.now() - started });
            } else if (again) {
              again = false;
              look(false);
            }
          },
          (err: unknown) => {
            looking = false;
            if (finished) return;
            end();
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      };
      const waiter: Waiter = { request, look };
      const onAbort = () => {
        if (finished) return;
        end();
        resolve({ matched: false, current: null, waitedMs: this.now() - started });
      };
      set.add(waiter);
      const timer = setTimeout(() => look(true), request.timeoutMs);
      const fallback = setInterval(() => look(false, true), this.deps.fallbackLookMs ?? FALLBACK_LOOK_MS);
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted) return onAbort();
      look(request.timeoutMs === 0);
    });
  }

  /** A sync of `repo` succeeded: its waiters look again. */
  synced(repo: string): void {
    for (const waiter of [...(this.byRepo.get(repo) ?? [])]) waiter.look(false);
  }

  get size(): number {
    let n = 0;
    for (const set of this.byRepo.values()) n += set.size;
    return n;
  }

  /** Ends every wait (shutdown): each gets what the replica holds now. */
  close(): Promise<void> {
    this.closed = true;
    for (const set of [...this.byRepo.values()]) for (const waiter of [...set]) waiter.look(true);
    return Promise.resolve();
  }

  /** The ref's value as its file (or packed-refs) holds it, null for a symbolic ref, undefined when absent. Throws when unreadable. */
  private readRef(r: WaitRequest): { path: string; value: string | null | undefined } {
    const path = repoPathUnder(this.deps.root, r.repo, 'replica.root');
    return { path, value: existsSync(path) ? readLocalRefs(path, [r.ref]).get(r.ref) : undefined };
  }

  /** readRef for the fallback's cheap look: what cannot be read counts as absent. */
  private refFile(r: WaitRequest): string | null | undefined {
    try {
      return this.readRef(r).value;
    } catch {
      return undefined;
    }
  }

  private async check(r: WaitRequest): Promise<{ matched: boolean; current: string | null }> {
    const { path, value } = this.readRef(r);
    let current = value;
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
