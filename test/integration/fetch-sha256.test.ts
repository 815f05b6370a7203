import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, readRefs } from '../helpers/git.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

/** A primary repository with 64-digit object ids (git init --object-format=sha256). */
async function sha256Repo(fx: FetchFixture): Promise<{ name: string; primary: string; replica: string }> {
  const repo = await fx.newRepo();
  await rm(repo.primary, { recursive: true });
  await git(['init', '--bare', '--quiet', '--object-format=sha256', '--initial-branch=main', repo.primary]);
  return repo;
}

let counter = 0;
/** A new commit on `ref` of a bare repository, written with plumbing; returns its id. */
async function commitOn(repo: string, ref: string): Promise<string> {
  counter += 1;
  const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: repo, input: `change ${counter}\n` })).trim();
  const tree = (await git(['mktree'], { cwd: repo, input: `100644 blob ${blob}\tf${counter}.txt\n` })).trim();
  const parent = (await git(['for-each-ref', '--format=%(objectname)', ref], { cwd: repo })).trim();
  const commit = (await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `c${counter}`], { cwd: repo })).trim();
  await git(['update-ref', ref, commit], { cwd: repo });
  return commit;
}

describe.each([
  ['direct fetch', { quarantineFromBytes: Number.MAX_SAFE_INTEGER }],
  ['quarantine fetch', { quarantineFromBytes: 0 }],
])('SHA-256 repositories, %s', (_label, deps) => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture({ deps });
  });
  afterAll(async () => fx.close());

  it('are created, updated, given new branches and have branches deleted', async () => {
    const repo = await sha256Repo(fx);
    await commitOn(repo.primary, 'refs/heads/main');
    const created = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(created.created).toBe(true);
    expect((await git(['rev-parse', '--show-object-format'], { cwd: repo.replica })).trim()).toBe('sha256');

    const head = await commitOn(repo.primary, 'refs/heads/main');
    expect(head).toMatch(/^[0-9a-f]{64}$/);
    await commitOn(repo.primary, 'refs/heads/topic');
    await git(['tag', '-a', '-m', 'v1', 'v1', head], { cwd: repo.primary });
    const updated = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/heads/topic', 'refs/tags/v1']);
    expect(updated.fetched).toEqual(['refs/heads/main', 'refs/heads/topic', 'refs/tags/v1']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));

    await git(['update-ref', '-d', 'refs/heads/topic'], { cwd: repo.primary });
    const deleted = await fx.fetcher.syncRefs(repo.name, ['refs/heads/topic'], { hints: { 'refs/heads/topic': '0'.repeat(64) } });
    expect(deleted.deleted).toEqual(['refs/heads/topic']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    await git(['fsck', '--connectivity-only', '--no-progress'], { cwd: repo.replica });
  });
});
