import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runningProcess } from '../os/processes.js';
import { STATE_DIR } from '../state/dir.js';
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
 * A lock file names its holder: a token of its own, the host, the boot, the pid namespace and
 * the pid. The holder touches it every `staleMs / 4`. It is stale when it has not been touched
 * for `staleMs` (a holder on another host, or one whose pid was reused), or at once when its
 * holder ran on this boot of this host, in this pid namespace, and that process is gone (SIGKILL).
 * A stale lock is broken under a second lock (`.break`), and only if it still holds the token
 * judged stale; a release removes the file only while it holds the releaser's own token.
 */
export class RepoLocks {
  private readonly dir: string;
  private made: Promise<unknown> | undefined;

  constructor(
    root: string,
    private readonly options: { pollMs?: number; staleMs?: number; now?: () => number; onWait?: (key: string, holder: string) => void } = {},
  ) {
    this.dir = join(root, STATE_DIR, 'locks');
  }

  private get staleMs(): number {
    return this.options.staleMs ?? 60_000;
  }

  /** Waits for the repository's lock (or for `signal`); resolves the function that releases it. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    const path = join(this.dir, createHash('sha256').update(key).digest('hex').slice(0, 32) + '.lock');
    const pollMs = this.options.pollMs ?? 50;
    let told = false;
    for (;;) {
      if (signal?.aborted) throw new TransientFetchError(`sync of ${key} aborted while another process synced it`, 'aborted');
      const release = await this.tryTake(path);
      if (release) return release;
      const holder = await this.breakIfStale(path);
      if (holder !== undefined && !told) {
        told = true;
        this.options.onWait?.(key, holder);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async ensureDir(): Promise<void> {
    // Not remembered when it fails: the root may be mounted later, or the directory removed.
    await (this.made ??= mkdir(this.dir, { recursive: true }).catch((err: unknown) => {
      this.made = undefined;
      throw err;
    }));
  }

  /** Creates the lock file if there is none; undefined when another holds it. */
  private async tryTake(path: string): Promise<(() => Promise<void>) | undefined> {
    const token = randomUUID();
    if (!(await this.createExclusive(path, `${token}\n${HOLDER}\n`))) return undefined;
    heldHere.add(path);
    const touch = setInterval(() => {
      const at = new Date();
      utimes(path, at, at).catch(() => undefined);
    }, Math.max(10, Math.floor(this.staleMs / 4)));
    touch.unref();
    return async () => {
      clearInterval(touch);
      heldHere.delete(path);
      // Only ours: a lock broken meanwhile (a stall longer than staleMs) belongs to another now.
      if ((await readFile(path, 'utf8').catch(() => '')).startsWith(`${token}\n`)) await unlink(path).catch(() => undefined);
    };
  }

  private async createExclusive(path: string, text: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureDir();
        const file = await open(path, 'wx');
        try {
          await file.writeFile(text);
        } finally {
          await file.close();
        }
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // The directory went away: make it again, once.
        if (code === 'ENOENT' && attempt === 0) {
          this.made = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Breaks the lock when its holder is gone. Returns the holder's description while it is alive
   * (undefined when there was no lock or it was broken).
   */
  private async breakIfStale(path: string): Promise<string | undefined> {
    const judged = await this.judge(path);
    if (!judged || !judged.stale) return judged?.holder;
    const breaking = `${path}.break`;
    if (!(await this.createExclusive(breaking, `${HOLDER}\n`))) {
      // Another process is breaking it; a breaker that died leaves its file to age out.
      const info = await stat(breaking).catch(() => undefined);
      if (info && this.now() - info.mtimeMs > this.staleMs) await unlink(breaking).catch(() => undefined);
      return undefined;
    }
    try {
      const now = await readFile(path, 'utf8').catch(() => undefined);
      if (now !== undefined && now.split('\n')[0] === judged.token) await unlink(path).catch(() => undefined);
    } finally {
      await unlink(breaking).catch(() => undefined);
    }
    return undefined;
  }

  private async judge(path: string): Promise<{ token: string; holder: string; stale: boolean } | undefined> {
    const [info, text] = await Promise.all([stat(path).catch(() => undefined), readFile(path, 'utf8').catch(() => undefined)]);
    if (!info || text === undefined) return undefined;
    const [token = '', host = '', boot = '', namespace = '', pidText = ''] = text.split('\n');
    const holder = `pid ${pidText || '?'} on ${host || '?'}`;
    // A file being written has no holder yet: it is judged by its age, and it is young.
    if (this.now() - info.mtimeMs > this.staleMs) return { token, holder, stale: true };
    const here = `${host}\n${boot}\n${namespace}` === `${HOST}\n${BOOT}\n${NAMESPACE}`;
    const pid = Number(pidText);
    if (!here || !Number.isInteger(pid) || pid <= 0) return { token, holder, stale: false };
    const gone = pid === process.pid ? !heldHere.has(path) : runningProcess(pid) === undefined;
    return { token, holder, stale: gone };
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

/** The lock files this process holds (fetchers of one process may share a root). */
const heldHere = new Set<string>();

const HOST = hostname();
/** This boot of the host: a pid recorded before a reboot says nothing about the processes now. */
const BOOT = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
/** This pid namespace: containers sharing a host name and a volume see each other's pids as their own. */
const NAMESPACE = readOr(() => readlinkSync('/proc/self/ns/pid'));
const HOLDER = `${HOST}\n${BOOT}\n${NAMESPACE}\n${process.pid}`;

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}
