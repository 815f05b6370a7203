import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { runningProcess } from '../os/processes.js';
import { SpoolError } from './errors.js';

/**
 * The exclusive lock of the one process draining a spool, so events leave in order. A lock
 * whose holder died (same host, pid gone) or that was not refreshed for `staleMs` is taken
 * over. The lock keeps order, not safety: two drainers at once can only send an event twice,
 * and events are hints, so a duplicate is harmless.
 */
export interface SpoolLockOptions {
  path: string;
  staleMs: number;
  now?: () => number;
  /** Whether a process of this host is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}

const processAlive = (pid: number): boolean => runningProcess(pid) !== undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SpoolLock {
  private held = false;
  private readonly token = `${process.pid} ${hostname()} ${randomBytes(6).toString('hex')}`;
  private readonly now: () => number;
  private readonly isAlive: (pid: number) => boolean;

  constructor(private readonly options: SpoolLockOptions) {
    this.now = options.now ?? Date.now;
    this.isAlive = options.isAlive ?? processAlive;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Takes the lock if it is free or stale; never waits. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const file = await open(this.options.path, 'wx', 0o640);
        try {
          await file.writeFile(this.token);
        } finally {
          await file.close();
        }
        this.held = true;
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SpoolError(`cannot take the drain lock ${this.options.path}: ${(err as Error).message}`, { cause: err });
        }
      }
      if (!(await this.removeIfStale())) return false;
    }
    return false;
  }

  /**
   * Waits for the lock until `deadline`, polling. `giveUp` is asked between polls: when it says
   * true (e.g. the holder already delivered our events) the wait ends without the lock.
   */
  async acquire(deadline: number, giveUp: () => Promise<boolean> = async () => false, pollMs = 15): Promise<boolean> {
    for (;;) {
      if (await this.tryAcquire()) return true;
      if ((await giveUp()) || this.now() >= deadline) return false;
      await sleep(Math.min(pollMs, Math.max(1, deadline - this.now())));
    }
  }

  /** Tells waiters the holder is still at work (a long flush). */
  async refresh(): Promise<void> {
    if (!this.held) return;
    const t = new Date(this.now());
    await utimes(this.options.path, t, t).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const content = await readFile(this.options.path, 'utf8').catch(() => '');
    if (content === this.token) await unlink(this.options.path).catch(() => undefined);
  }

  private async removeIfStale(): Promise<boolean> {
    const path = this.options.path;
    let content: string;
    let mtimeMs: number;
    try {
      content = await readFile(path, 'utf8');
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      return true; // released meanwhile: try again
    }
    const [pidText, host] = content.split(' ');
    const pid = Number(pidText);
    const deadHolder = host === hostname() && Number.isInteger(pid) && pid > 0 && !this.isAlive(pid);
    const expired = this.now() - mtimeMs > this.options.staleMs;
    // A lock being written right now is empty for an instant; only an old one counts as garbage.
    const garbage = content === '' && this.now() - mtimeMs > 1000;
    if (!deadHolder && !expired && !garbage) return false;
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again !== content) return true;
    await unlink(path).catch(() => undefined);
    return true;
  }
}
