import { spawn } from 'node:child_process';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepoLocks } from '../../src/fetch/repo-lock.js';
import { tempDir } from '../helpers/git.js';

const lockDir = (root: string) => join(root, '.pullrep-state', 'locks');

/** Replaces the only lock file under root with one of another holder. */
async function heldBy(root: string, holder: string, ageMs = 0): Promise<string> {
  const [name] = await readdir(lockDir(root));
  if (!name) throw new Error('no lock file');
  const path = join(lockDir(root), name);
  await writeFile(path, holder);
  const at = new Date(Date.now() - ageMs);
  await utimes(path, at, at);
  return path;
}

/** Whether acquire resolves within a few polls. */
async function takenSoon(locks: RepoLocks, key: string, polls = 10): Promise<(() => Promise<void>) | undefined> {
  const signal = AbortSignal.timeout(polls * 10);
  return locks.acquire(key, signal).catch(() => undefined);
}

describe('RepoLocks', () => {
  it('serializes one repository between two fetchers of one process, and not two repositories', async () => {
    const root = await tempDir();
    const [a, b] = [new RepoLocks(root, { pollMs: 5 }), new RepoLocks(root, { pollMs: 5 })];
    const release = await a.acquire('r/one.git');
    expect(await takenSoon(b, 'r/one.git')).toBeUndefined();
    const other = await takenSoon(b, 'r/two.git');
    expect(other).toBeTypeOf('function');
    await other?.();
    await release();
    const again = await takenSoon(b, 'r/one.git');
    expect(again).toBeTypeOf('function');
    await again?.();
    expect(await readdir(lockDir(root))).toEqual([]);
  });

  it('waits for a live process of this host, takes the lock of a dead one', async () => {
    const root = await tempDir();
    const locks = new RepoLocks(root, { pollMs: 5 });
    // The repository's lock file, made to name a process that is alive (this test's parent)...
    await locks.acquire('r/x.git');
    const path = await heldBy(root, `${hostname()}\n${process.ppid}\n`);
    expect(await takenSoon(locks, 'r/x.git')).toBeUndefined();
    // ...then by one that has exited.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on('close', resolve));
    await writeFile(path, `${hostname()}\n${pid}\n`);
    const taken = await takenSoon(locks, 'r/x.git');
    expect(taken).toBeTypeOf('function');
    await taken?.();
  });

  it('judges a lock of another host by its age', async () => {
    const root = await tempDir();
    const locks = new RepoLocks(root, { pollMs: 5, staleMs: 60_000 });
    await locks.acquire('r/y.git');
    await heldBy(root, 'elsewhere.example\n4242\n', 1000);
    expect(await takenSoon(locks, 'r/y.git')).toBeUndefined();
    await heldBy(root, 'elsewhere.example\n4242\n', 120_000);
    const taken = await takenSoon(locks, 'r/y.git');
    expect(taken).toBeTypeOf('function');
    await taken?.();
  });

  it('gives up when the sync is aborted', async () => {
    const root = await tempDir();
    const [a, b] = [new RepoLocks(root, { pollMs: 5 }), new RepoLocks(root, { pollMs: 5 })];
    await a.acquire('r/z.git');
    await expect(b.acquire('r/z.git', AbortSignal.timeout(30))).rejects.toThrow(/aborted while another process synced it/);
  });
});
