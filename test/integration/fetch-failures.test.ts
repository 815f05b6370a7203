import { readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentFetchError, TransientFetchError } from '../../src/fetch/index.js';
import { git, pushCommit, readRefs } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { fetchFixture, rejection, type FetchFixture } from './fetch-fixture.js';

describe('fetch failures are classified', () => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture();
  });
  afterAll(async () => fx.close());

  it('primary down → transient connection error; back up → the sync succeeds', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    await pushCommit(repo.primary, 'main');
    await fx.server.stop();
    try {
      const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('connection');
    } finally {
      await fx.server.start();
    }
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
  });

  it('HTTP 503 → transient server error', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    fx.server.failWith = 503;
    try {
      const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('server');
    } finally {
      fx.server.failWith = undefined;
    }
  });

  it.each([
    [429, {}],
    [429, { 'retry-after': '7' }],
    [503, { 'retry-after': '7' }],
  ])('HTTP %s %o → transient throttled, with the Retry-After it gave', async (status, headers) => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    fx.server.failWith = status;
    fx.server.failHeaders = headers;
    try {
      const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('throttled');
      expect(error.retryAfterMs).toBe('retry-after' in headers ? 7000 : undefined);
    } finally {
      fx.server.failWith = undefined;
      fx.server.failHeaders = {};
    }
  });

  it('a repository missing on the primary is transient within the grace period, permanent after it', async () => {
    const recent = await rejection(fx.fetcher.syncRefs('g/not-there.git', ['refs/heads/main'], { publishedAt: new Date() }));
    expect(recent).toBeInstanceOf(TransientFetchError);
    expect(recent.kind).toBe('not-found');
    const old = await rejection(
      fx.fetcher.syncRefs('g/not-there.git', ['refs/heads/main'], { publishedAt: new Date(Date.now() - 3_600_000) }),
    );
    expect(old).toBeInstanceOf(PermanentFetchError);
    expect(old.kind).toBe('not-found');
    // nothing half-made is left in the replica root
    await expect(readdir(join(fx.replicaRoot, 'g', 'not-there.git'))).rejects.toThrow();
    expect(await readdir(join(fx.replicaRoot, '.pullrep-tmp'))).toEqual([]);
  });

  /** A replicated repository whose main moved on the primary, with a lock file on main in the replica. */
  const lockedReplica = async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    await pushCommit(repo.primary, 'main');
    const lock = join(repo.replica, 'refs', 'heads', 'main.lock');
    await writeFile(lock, '');
    return { repo, lock };
  };

  it('a held ref lock left by a killed git is removed once stale, then the sync succeeds', async () => {
    const { repo, lock } = await lockedReplica();
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lock, old, old);
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe((await readRefs(repo.primary))['refs/heads/main']);
  });

  it('a fresh lock held by someone else is a transient lock error and is left alone', async () => {
    const { repo, lock } = await lockedReplica();
    const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
    expect(error).toBeInstanceOf(TransientFetchError);
    expect(error.kind).toBe('lock');
    expect((await stat(lock)).isFile()).toBe(true);
    await rm(lock);
  });
});

describe('a corrupted replica', () => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture({ fetch: { recloneAfterFailures: 2 } });
  });
  afterAll(async () => fx.close());

  it('a throttling primary never counts toward a re-clone', async () => {
    const throttled = await fetchFixture({ fetch: { recloneAfterFailures: 1 } });
    try {
      const repo = await throttled.newRepo();
      await pushCommit(repo.primary, 'main');
      await throttled.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      await pushCommit(repo.primary, 'main');
      throttled.server.failWith = 429;
      for (let i = 0; i < 3; i++) {
        const error = await rejection(throttled.fetcher.syncRefs(repo.name, ['refs/heads/main']));
        // A re-clone would have run `git clone` against the same throttling server.
        expect(error.message).toMatch(/^git fetch failed \(throttled\)/);
      }
      expect(throttled.server.requests.filter((r) => r.status === 429).length).toBe(3);
    } finally {
      await throttled.close();
    }
  });

  it('recovers through a fresh clone after recloneAfterFailures failed syncs', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await pushCommit(repo.primary, 'other');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/heads/other']);
    await pushCommit(repo.primary, 'main');
    // delete the replica's object files: its refs now point at objects it does not have
    const packDir = join(repo.replica, 'objects', 'pack');
    for (const name of await readdir(packDir)) await rm(join(packDir, name));
    const first = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
    expect(first).toBeInstanceOf(TransientFetchError);
    expect(first.kind).toBe('corrupt');
    const second = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(second.recloned).toBe(true);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    await git(['fsck', '--no-progress'], { cwd: repo.replica });
    // the temporary directory holds nothing once the swap is done
    expect(await readdir(join(fx.replicaRoot, '.pullrep-tmp'))).toEqual([]);
  });
});

describe('time limits and aborts', () => {
  let silent: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // accepts connections and never answers
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const gitProcessesFor = async (): Promise<string[]> => {
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve) => execFile('ps', ['-eo', 'pid,args'], (_e, stdout) => resolve(stdout)));
    return out.split('\n').filter((l) => l.includes(`127.0.0.1:${port}/`) && l.includes('git'));
  };

  it('an AbortSignal kills the running git and rejects with kind aborted', async () => {
    const fx = await fetchFixture({ url: `http://127.0.0.1:${port}/{repo}` });
    try {
      const controller = new AbortController();
      const sync = rejection(fx.fetcher.syncRefs('g/slow.git', ['refs/heads/main'], { signal: controller.signal }));
      await waitFor(async () => (await gitProcessesFor()).length > 0, { timeoutMs: 10_000, what: 'git to start' });
      const started = Date.now();
      controller.abort();
      const error = await sync;
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('aborted');
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor(async () => (await gitProcessesFor()).length === 0, { timeoutMs: 10_000, what: 'git to exit' });
    } finally {
      await fx.close();
    }
  });

  it('a git process past replica.fetchTimeoutMs is killed: transient timeout', async () => {
    const fx = await fetchFixture({ url: `http://127.0.0.1:${port}/{repo}`, fetch: { gitTimeoutMs: 500 } });
    try {
      const error = await rejection(fx.fetcher.syncRefs('g/slow.git', ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('timeout');
      await waitFor(async () => (await gitProcessesFor()).length === 0, { timeoutMs: 10_000, what: 'git to exit' });
    } finally {
      await fx.close();
    }
  });
});
