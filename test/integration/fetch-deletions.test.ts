import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pushCommit, readRefs } from '../helpers/git.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

const COUNT = 200;
const ZERO = '0'.repeat(40);
const doomed = Array.from({ length: COUNT }, (_, i) => `refs/heads/old/b${String(i).padStart(3, '0')}`);

describe.each([
  ['direct fetch', { quarantineFromBytes: Number.MAX_SAFE_INTEGER }],
  ['quarantine fetch', { quarantineFromBytes: 0 }],
])('a push deleting %d branches, %s', (_label, deps) => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture({ deps });
  });
  afterAll(async () => fx.close());

  /** A replicated repository with main and COUNT more branches; then the primary deletes those and moves main. */
  const replicatedThenDeleted = async () => {
    const repo = await fx.newRepo();
    const base = await pushCommit(repo.primary, 'main');
    await git(['update-ref', '--stdin'], { cwd: repo.primary, input: doomed.map((ref) => `create ${ref} ${base}\n`).join('') });
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', ...doomed]);
    expect(Object.keys(await readRefs(repo.replica))).toHaveLength(COUNT + 1);
    await git(['update-ref', '--stdin'], { cwd: repo.primary, input: doomed.map((ref) => `delete ${ref} ${base}\n`).join('') });
    const main = await pushCommit(repo.primary, 'main');
    return { repo, main };
  };

  /** git processes that talked to the server since `from` (one capability GET each), and all requests. */
  const cost = (from: number) => {
    const requests = fx.server.requests.slice(from);
    return { processes: requests.filter((r) => r.method === 'GET').length, requests: requests.length };
  };

  it('with the event hints (all-zero for the deleted refs): one listing and one fetch', async () => {
    const { repo, main } = await replicatedThenDeleted();
    const hints = Object.fromEntries([...doomed.map((ref) => [ref, ZERO]), ['refs/heads/main', main]]);
    const from = fx.server.requests.length;
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', ...doomed], { hints });
    expect(result.deleted).toHaveLength(COUNT);
    expect(result.fetched).toEqual(['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect(cost(from).processes).toBe(2);
    expect(cost(from).requests).toBeLessThanOrEqual(5);
    expect(fx.server.requests.every((r) => r.gitProtocol.includes('version=2'))).toBe(true);
  });

  it('without hints: one failed fetch, one listing, one fetch', async () => {
    const { repo } = await replicatedThenDeleted();
    const from = fx.server.requests.length;
    const result = await fx.fetcher.syncRefs(repo.name, [...doomed, 'refs/heads/main']);
    expect(result.deleted).toHaveLength(COUNT);
    expect(result.fetched).toEqual(['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect(cost(from).processes).toBeLessThanOrEqual(3);
    expect(cost(from).requests).toBeLessThanOrEqual(7);
  });

  it('only deletions: the listing alone, no fetch', async () => {
    const { repo } = await replicatedThenDeleted();
    const from = fx.server.requests.length;
    const result = await fx.fetcher.syncRefs(repo.name, doomed, { hints: Object.fromEntries(doomed.map((ref) => [ref, ZERO])) });
    expect(result.deleted).toHaveLength(COUNT);
    expect(Object.keys(await readRefs(repo.replica))).toEqual(['refs/heads/main']);
    expect(cost(from).processes).toBe(1);
  });

  it('a ref the hints call deleted but the primary has again is fetched, not deleted', async () => {
    const { repo, main } = await replicatedThenDeleted();
    const [again, other] = doomed;
    if (!again || !other) throw new Error('no refs');
    await git(['update-ref', again, main], { cwd: repo.primary });
    const result = await fx.fetcher.syncRefs(repo.name, [again, other], { hints: { [again]: ZERO, [other]: ZERO } });
    expect(result).toMatchObject({ fetched: [again], deleted: [other] });
    expect((await readRefs(repo.replica))[again]).toBe(main);
  });
});
