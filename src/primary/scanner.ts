import { repoNameProblem } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { join } from 'node:path';
import { findBareRepos, isBareRepo, repoNameUnder } from '../repos/scan.js';
import type { CatalogKeeper, Listed } from './catalog-keeper.js';
import { refsSignature, trusted, type Signature } from './signature.js';

/** A scan cut short by shutdown: nothing to record. */
export class ScanStoppedError extends Error {
  override readonly name = 'ScanStoppedError';
}

export interface ScanStats {
  /** Repositories found under primary.root. */
  repositories: number;
  /** Of them, listed in full (new, changed, or pushed since the last scan). */
  listed: number;
  /** Tombstones written for repositories that are gone. */
  removed: number;
  /** Repositories that could not be listed (left as they were). */
  failed: number;
  durationMs: number;
  finishedAt: number;
}

export interface ScannerDeps {
  root: string;
  keeper: CatalogKeeper;
  /** Lists a repository's refs in full: checksum and count. */
  list: (gitDir: string) => Promise<Listed>;
  logger: Logger;
  /** Full listings at the same time (each is a git process). */
  concurrency?: number;
  now?: () => number;
}

/**
 * The scan of primary.root: finds every repository, lists the ones whose refs signature says they
 * may have changed (and the ones pushed to since: their increment is confirmed), and writes a
 * tombstone for every repository the catalog holds that is gone. Work on one repository (a
 * listing here, a push's increment in the agent) is serialized through `serial`.
 */
export class Scanner {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly refused = new Set<string>();
  private readonly quiet = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  /** Full listings at once, the scan's and the ones pushes ask for together. */
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly deps: ScannerDeps) {
    this.now = deps.now ?? Date.now;
    this.free = deps.concurrency ?? 2;
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }

  /** Runs `work` after every earlier work on the same repository. */
  serial(repo: string, work: () => Promise<void>): Promise<void> {
    const before = this.chains.get(repo) ?? Promise.resolve();
    const next = before.then(work).catch((err: unknown) => {
      this.deps.logger.warn({ repo, err: (err as Error).message }, 'catalog update failed; the next scan tries again');
    });
    this.chains.set(repo, next);
    void next.finally(() => {
      if (this.chains.get(repo) === next) this.chains.delete(repo);
    });
    return next;
  }

  /**
   * Lists `repo` once no work on it arrived for `quietMs` (pushes keep putting it off), unless a
   * listing is already waiting: settles what an ambiguous push left uncertain (catalog-keeper.ts).
   */
  listWhenQuiet(repo: string, gitDir: string, quietMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.quiet.get(repo));
    const timer = setTimeout(() => {
      this.quiet.delete(repo);
      void this.serial(repo, () => this.listRepo(repo, gitDir));
    }, quietMs);
    timer.unref();
    this.quiet.set(repo, timer);
  }

  /** Forgets the listings waiting for quiet and ends a scan under way early (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.quiet.values()) clearTimeout(timer);
    this.quiet.clear();
  }

  /**
   * Lists one repository in full and hands the result to the keeper, with the refs signature
   * taken before the listing (`before`, when the caller has just taken it).
   */
  async listRepo(repo: string, gitDir: string, before?: { signature: Signature | undefined; takenAt: number }): Promise<void> {
    if (this.stopped) return;
    await this.slot(async () => {
      const takenAt = before?.takenAt ?? this.now();
      const signature = before ? before.signature : await refsSignature(gitDir);
      const listed = await this.deps.list(gitDir);
      this.deps.keeper.applyListing(repo, listed, takenAt, this.now(), trusted(signature, takenAt) ? signature.text : undefined);
    });
  }

  async scanOnce(): Promise<ScanStats> {
    const started = this.now();
    const unreadable: string[] = [];
    const paths = await findBareRepos(this.deps.root, {
      onUnreadable: (dir, err) => {
        unreadable.push(dir);
        this.deps.logger.warn({ dir, err: err.message }, 'scan: directory under primary.root cannot be read; its repositories are left as they are');
      },
    });
    const found = new Map<string, string>();
    for (const path of paths) {
      const repo = repoNameUnder(this.deps.root, path);
      const problem = repoNameProblem(repo);
      if (problem) {
        if (!this.refused.has(repo)) this.deps.logger.error({ repo: JSON.stringify(repo).slice(0, 300), problem }, 'scan: repository name refused; it is not in the catalog');
        this.refused.add(repo);
        continue;
      }
      found.set(repo, path);
    }
    let listed = 0;
    let failed = 0;
    const queue = [...found];
    const worker = async () => {
      for (let item = queue.shift(); item && !this.stopped; item = queue.shift()) {
        const [repo, path] = item;
        await this.serial(repo, async () => {
          const takenAt = this.now();
          const signature = await refsSignature(path);
          const known = this.deps.keeper.get(repo)?.signature;
          if (known !== undefined && signature?.text === known) return;
          try {
            await this.listRepo(repo, path, { signature, takenAt });
            listed += 1;
          } catch (err) {
            failed += 1;
            this.deps.logger.warn({ repo, err: (err as Error).message }, 'scan: repository cannot be listed; left as it is');
          }
        });
        // Lets the relay's callbacks in between repositories.
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(Array.from({ length: this.deps.concurrency ?? 2 }, worker));
    if (this.stopped) throw new ScanStoppedError('the scan was stopped before it finished');
    let removed = 0;
    const under = (repo: string) => unreadable.some((dir) => join(this.deps.root, repo).startsWith(`${dir}/`));
    for (const repo of this.deps.keeper.known()) {
      // Created since the walk passed by (a push listed it meanwhile): not gone.
      if (found.has(repo) || under(repo) || isBareRepo(join(this.deps.root, repo))) continue;
      await this.serial(repo, async () => {
        this.deps.keeper.removed(repo);
      });
      removed += 1;
    }
    const finishedAt = this.now();
    return { repositories: found.size, listed, removed, failed, durationMs: finishedAt - started, finishedAt };
  }
}
