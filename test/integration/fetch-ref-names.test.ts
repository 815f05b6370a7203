import { describe, expect, it } from 'vitest';
import { git, pushCommit, readRefs } from '../helpers/git.js';
import { fetchFixture } from './fetch-fixture.js';

describe('ref names that git accepts', () => {
  it('a ref with Unicode white space is fetched and, once gone on the primary, deleted: no re-clone', async () => {
    const fx = await fetchFixture({ fetch: { recloneAfterFailures: 1 } });
    try {
      const repo = await fx.newRepo();
      const head = await pushCommit(repo.primary, 'main');
      const odd = 'refs/heads/x\u00a0y';
      const odd2 = 'refs/heads/p\u2003q';
      await git(['update-ref', odd, head], { cwd: repo.primary });
      await git(['update-ref', odd2, head], { cwd: repo.primary });
      const created = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', odd, odd2]);
      expect(created.fetched).toEqual(['refs/heads/main', odd, odd2].sort());
      await git(['update-ref', '-d', odd], { cwd: repo.primary });
      await git(['update-ref', '-d', odd2], { cwd: repo.primary });
      const removed = await fx.fetcher.syncRefs(repo.name, [odd, odd2]);
      expect(removed.deleted).toEqual([odd, odd2].sort());
      expect(removed.recloned).toBe(false);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    } finally {
      await fx.close();
    }
  });

  it('thousands of long refs in one sync: refspecs go on stdin, not into an argument list', async () => {
    const fx = await fetchFixture();
    try {
      const repo = await fx.newRepo();
      const head = await pushCommit(repo.primary, 'main');
      // 3,000 refs of about 1,000 bytes each: 3 MB, past what one argument list may hold.
      const refs = Array.from({ length: 3000 }, (_, i) => `refs/heads/${`${'l'.repeat(240)}/`.repeat(4)}${i}`);
      await git(['update-ref', '--stdin'], { cwd: repo.primary, input: refs.map((r) => `create ${r} ${head}\n`).join('') });
      const result = await fx.fetcher.syncRefs(repo.name, refs);
      expect(result.fetched).toHaveLength(3000);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary).then((all) => Object.fromEntries(Object.entries(all).filter(([r]) => refs.includes(r) || r === 'refs/heads/main'))));
    } finally {
      await fx.close();
    }
  }, 120_000);
});
