import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TransientFetchError } from './errors.js';

/**
 * One sync of a repository at a time across every process that shares a replica.root (the
 * processes of one replica, `pullrep sync` beside them): a lock file per repository under
 * `<replica.root>/.pullrep-state/locks`, taken in the repository's turn before any git runs.
 *
 * The partition assignor gives one repository's partitions to one member, but a member that
 * loses a partition in a rebalance may still be finishing a sync of it in the background while
 * the new owner starts: the new owner waits here for that sync to end.
 *
 * A lock is someone else's while its holder lives: on this host, its process exists; on another
 * (shared storage), its holder touches it every `staleMs / 4` and it is stale once untouched for
 * `staleMs`. A stale lock (a process killed with SIGKILL) is removed and taken.
 */
/** The lock files this process holds (fetchers of one process may share a root). */
const heldHere = new Set<string>();

export class RepoLocks {
  private readonly dir: string;
  private made: Promise<unknown> | undefined;
  private readonly host = hostname();

  constructor(
    root: string,
    private readonly options: { pollMs?: number; staleMs?: number; now?: () => number } = {},
  ) {
    this.dir = join(root, '.pullrep-state', 'locks');
  }

  /** Waits for the repository's lock (or for `signal`); resolves the function that releases it. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    await (this.made ??= mkdir(this.dir, { recursive: true }));
    const path = join(this.dir, createHash('sha256').update(key).digest('hex').slice(0, 32) + '.lock');
    const pollMs = this.options.pollMs ?? 50;
    for (;;) {
      if (signal?.aborted) throw new TransientFetchError(`sync of ${key} aborted while another process synced it`, 'aborted');
      const release = await this.tryTake(path);
      if (release) return release;
      await this.removeIfStale(path);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async tryTake(path: string): Promise<(() => Promise<void>) | undefined> {
    let file;
    try {
      file = await open(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    try {
      await file.writeFile(`${this.host}\n${process.pid}\n`);
    } finally {
      await file.close();
    }
    heldHere.add(path);
    const staleMs = this.options.staleMs ?? 60_000;
    const touch = setInterval(() => {
      const at = new Date();
      utimes(path, at, at).catch(() => undefined);
    }, Math.max(10, Math.floor(staleMs / 4)));
    touch.unref();
    return async () => {
      clearInterval(touch);
      heldHere.delete(path);
      await unlink(path).catch(() => undefined);
    };
  }

  /** Removes the lock when its holder is gone; the same file only (its inode), not a lock taken since. */
  private async removeIfStale(path: string): Promise<void> {
    const [info, text] = await Promise.all([stat(path).catch(() => undefined), readFile(path, 'utf8').catch(() => undefined)]);
    if (!info || text === undefined) return;
    const [host, pidText] = text.split('\n');
    const pid = Number(pidText);
    const now = this.options.now?.() ?? Date.now();
    const stale =
      host === this.host && Number.isInteger(pid) && pid > 0
        ? pid === process.pid
          ? !heldHere.has(path)
          : !alive(pid)
        : now - info.mtimeMs > (this.options.staleMs ?? 60_000);
    // (A lock being written has no holder yet: it is judged by its age, and it is young.)
    if (!stale) return;
    const again = await stat(path).catch(() => undefined);
    if (again?.ino === info.ino) await unlink(path).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
