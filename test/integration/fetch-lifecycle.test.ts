import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scheduleMaintenance } from '../../src/fetch/index.js';
import { silentLogger } from '../../src/log/index.js';
import { pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

/** Scheduled housekeeping of the fixture's fetcher, as the replica's composition root starts it. */
function housekeeping(fx: FetchFixture, intervalMs: number) {
  return scheduleMaintenance({
    intervalMs,
    logger: silentLogger(),
    listRepositories: () => fx.fetcher.listRepositories(),
    maintain: (repo, o) => fx.fetcher.maintain(repo, o),
  });
}

describe('repository lifecycle', () => {
  it('deleteRepository removes the replica copy only, and says whether there was one', async () => {
    const fx = await fetchFixture();
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      expect(existsSync(repo.replica)).toBe(true);
      expect(await fx.fetcher.deleteRepository(repo.name)).toEqual({ deleted: true });
      expect(existsSync(repo.replica)).toBe(false);
      expect(existsSync(repo.primary)).toBe(true);
      expect(await fx.fetcher.deleteRepository(repo.name)).toEqual({ deleted: false });
      // a later event brings it back
      const again = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      expect(again.created).toBe(true);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    } finally {
      await fx.close();
    }
  });

  it('runs housekeeping every replica.maintenanceIntervalMs: loose refs get packed', async () => {
    const fx = await fetchFixture();
    const schedule = housekeeping(fx, 200);
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      await pushCommit(repo.primary, 'topic');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/topic']);
      // A fetch writes a loose ref; only housekeeping moves it into packed-refs. The scheduler may
      // already have run by now, so wait for the packed state rather than assert the loose one first.
      const packedRefs = join(repo.replica, 'packed-refs');
      await waitFor(
        async () =>
          !existsSync(join(repo.replica, 'refs', 'heads', 'topic')) &&
          existsSync(packedRefs) &&
          (await readFile(packedRefs, 'utf8')).includes('refs/heads/topic'),
        { timeoutMs: 20_000, what: 'the loose ref to be packed' },
      );
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    } finally {
      schedule.stop();
      await fx.close();
    }
  });

  it('stopping the schedule aborts a running housekeeping: closing does not wait for git repack', async () => {
    // A git whose repack never ends (as a huge repository's would), everything else the real git.
    const bin = await tempDir('pullrep-slow-git-');
    const realGit = (await import('node:child_process')).execFileSync('sh', ['-c', 'command -v git']).toString().trim();
    const marker = join(bin, 'repack-started');
    await writeFile(
      join(bin, 'git'),
      `#!/bin/sh\nfor a in "$@"; do [ "$a" = repack ] && { : > '${marker}'; exec sleep 300; }; done\nexec '${realGit}' "$@"\n`,
    );
    await chmod(join(bin, 'git'), 0o755);
    const fx = await fetchFixture({ deps: { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } } });
    const schedule = housekeeping(fx, 50);
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      await waitFor(() => existsSync(marker), { timeoutMs: 20_000, what: 'housekeeping to reach git repack' });
      const started = Date.now();
      schedule.stop();
      await fx.fetcher.close();
      // git's own limit is 30 s here and the fake repack sleeps 300 s; an abort ends it in ~2 s.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      schedule.stop();
      await fx.close();
    }
  }, 60_000);
});
