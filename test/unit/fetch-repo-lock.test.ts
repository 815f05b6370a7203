import { spawn } from 'node:child_process';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RepoLocks } from '../../src/fetch/repo-lock.js';
import { tempDir } from '../helpers/git.js';

const lockDir = (root: string) => join(root, '.pullrep-state', 'locks');

/**
 * Makes the only lock file under root another holder's: its lines are token, host, boot, pid
 * namespace and pid; `change` gives new values for some of them.
 */
async function heldBy(root: string, change: { host?: string; pid?: number }, ageMs = 0): Promise<string> {
  const [name] = await readdir(lockDir(root));
  if (!name) throw new Error('no lock file');
  const path = join(lockDir(root), name);
  const [, host, boot, namespace, pid] = (await readFile(path, 'utf8')).split('\n');
  await writeFile(path, ['another-token', change.host ?? host, boot, namespace, String(change.pid ?? pid), ''].join('\n'));
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
    await heldBy(root, { pid: process.ppid });
    expect(await takenSoon(locks, 'r/x.git')).toBeUndefined();
    // ...then by one that has exited.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on('close', resolve));
    await heldBy(root, { pid });
    const taken = await takenSoon(locks, 'r/x.git');
    expect(taken).toBeTypeOf('function');
    await taken?.();
  });

  it('judges a lock of another host by its age', async () => {
    const root = await tempDir();
    const locks = new RepoLocks(root, { pollMs: 5, staleMs: 60_000 });
    await locks.acquire('r/y.git');
    await heldBy(root, { host: 'elsewhere.example', pid: 4242 }, 1000);
    expect(await takenSoon(locks, 'r/y.git')).toBeUndefined();
    await heldBy(root, { host: 'elsewhere.example', pid: 4242 }, 120_000);
    const taken = await takenSoon(locks, 'r/y.git');
    expect(taken).toBeTypeOf('function');
    await taken?.();
  });

  it('takes a lock of a live process of this host once it is untouched for staleMs (a pid reused after a crash)', async () => {
    const root = await tempDir();
    const locks = new RepoLocks(root, { pollMs: 5, staleMs: 60_000 });
    await locks.acquire('r/w.git');
    await heldBy(root, { pid: process.ppid }, 120_000);
    const taken = await takenSoon(locks, 'r/w.git');
    expect(taken).toBeTypeOf('function');
    await taken?.();
  });

  it('releases only its own lock, and makes its directory again when it was removed', async () => {
    const root = await tempDir();
    const locks = new RepoLocks(root, { pollMs: 5 });
    const release = await locks.acquire('r/v.git');
    // Broken and taken by another meanwhile: the release leaves that one alone.
    const path = await heldBy(root, { pid: process.ppid });
    await release();
    expect(await readFile(path, 'utf8')).toMatch(/^another-token\n/);
    const { rm } = await import('node:fs/promises');
    await rm(join(root, '.pullrep-state'), { recursive: true });
    const again = await takenSoon(locks, 'r/u.git');
    expect(again).toBeTypeOf('function');
    await again?.();
  });

  it('gives up when the sync is aborted', async () => {
    const root = await tempDir();
    const [a, b] = [new RepoLocks(root, { pollMs: 5 }), new RepoLocks(root, { pollMs: 5 })];
    await a.acquire('r/z.git');
    await expect(b.acquire('r/z.git', AbortSignal.timeout(30))).rejects.toThrow(/aborted while another process synced it/);
  });
});
