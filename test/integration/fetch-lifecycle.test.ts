import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushCommit, readRefs } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { fetchFixture } from './fetch-fixture.js';

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
    const fx = await fetchFixture({ replica: { maintenanceIntervalMs: 200 } });
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
      await fx.close();
    }
  });
});
