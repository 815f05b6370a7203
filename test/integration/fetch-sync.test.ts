import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pushCommit, readRefs, WorkClone } from '../helpers/git.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

describe.each([
  ['http, direct fetch', { transport: 'http' as const, deps: { quarantineFromBytes: Number.MAX_SAFE_INTEGER } }],
  ['http, quarantine fetch', { transport: 'http' as const, deps: { quarantineFromBytes: 0 } }],
  ['file, quarantine fetch', { transport: 'file' as const, deps: { quarantineFromBytes: 0 } }],
])('syncRefs over %s', (_label, options) => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture(options);
  });
  afterAll(async () => fx.close());

  it('creates the repository on its first event, then follows create, fast-forward, force-update and delete', async () => {
    const repo = await fx.newRepo();
    const work = await WorkClone.of(repo.primary);
    const first = await work.commit();
    await work.push('HEAD:refs/heads/main');

    const created = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(created.created).toBe(true);
    expect(created.fetched).toEqual(['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect((await git(['config', '--bool', 'core.bare'], { cwd: repo.replica })).trim()).toBe('true');

    // create a branch and fast-forward main, in one sync
    await work.checkout('feature', true);
    await work.commit();
    await work.push('HEAD:refs/heads/feature');
    await work.checkout('main');
    const second = await work.commit();
    await work.push('HEAD:refs/heads/main');
    const ff = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/heads/feature']);
    expect(ff).toMatchObject({ fetched: ['refs/heads/feature', 'refs/heads/main'], deleted: [], created: false });
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));

    // force-update main back to the first commit plus a new one (not a fast-forward)
    await work.resetHard(first);
    await work.commit('rewritten');
    await work.push('--force', 'HEAD:refs/heads/main');
    const forced = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(forced.fetched).toEqual(['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect(second).not.toBe((await readRefs(repo.replica))['refs/heads/main']);

    // delete on the primary: the replica deletes it
    await work.push(':refs/heads/feature');
    const deleted = await fx.fetcher.syncRefs(repo.name, ['refs/heads/feature', 'refs/heads/main']);
    expect(deleted).toMatchObject({ fetched: [], deleted: ['refs/heads/feature'], upToDate: ['refs/heads/main'] });
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
  });

  it('replicates lightweight and annotated tags and their objects', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    const work = await WorkClone.of(repo.primary);
    await work.commit();
    await work.tag('v1');
    await work.tag('v2', true);
    await work.push('refs/tags/v1', 'refs/tags/v2');
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/tags/v1', 'refs/tags/v2']);
    expect(result.fetched).toEqual(['refs/tags/v1', 'refs/tags/v2']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect((await git(['cat-file', '-t', 'refs/tags/v2'], { cwd: repo.replica })).trim()).toBe('tag');
    await git(['fsck', '--connectivity-only', '--no-progress'], { cwd: repo.replica });
  });

  it('never rolls a ref back when an old event is replayed, and skips refs equal to the hint without a request', async () => {
    const repo = await fx.newRepo();
    const old = await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main'], { hints: { 'refs/heads/main': old } });
    const newer = await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main'], { hints: { 'refs/heads/main': newer } });
    // the old event arrives late: its hint differs from the local value, so the primary is asked
    const replayed = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main'], { hints: { 'refs/heads/main': old } });
    expect(replayed.upToDate).toEqual(['refs/heads/main']);
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe(newer);
    // a duplicate of the newest event: nothing is asked of the primary
    const before = fx.server.requests.length;
    const duplicate = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main'], { hints: { 'refs/heads/main': newer } });
    expect(duplicate.upToDate).toEqual(['refs/heads/main']);
    expect(fx.server.requests.length).toBe(before);
  });

  it('follows a branch rewound to an older commit the replica already has (nothing to download)', async () => {
    const repo = await fx.newRepo();
    const old = await pushCommit(repo.primary, 'main');
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    await git(['update-ref', 'refs/heads/main', old], { cwd: repo.primary });
    await git(['update-ref', 'refs/heads/copy', old], { cwd: repo.primary });
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/heads/copy']);
    expect(result.fetched).toEqual(['refs/heads/copy', 'refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
  });

  it('fetches only the named refs: no tag sweep, no FETCH_HEAD, no automatic gc', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    // the replica asks for housekeeping as early as possible: any automatic gc would pack it
    await git(['config', 'gc.autoPackLimit', '1'], { cwd: repo.replica });
    await git(['config', 'fetch.unpackLimit', '1'], { cwd: repo.replica });
    await git(['config', 'gc.autoDetach', 'false'], { cwd: repo.replica });
    const packs = async () => (await readdir(join(repo.replica, 'objects', 'pack'))).filter((f) => f.endsWith('.pack')).length;
    expect(await packs()).toBe(1);
    const main = await pushCommit(repo.primary, 'main');
    await git(['tag', 'follows-main', main], { cwd: repo.primary });
    await pushCommit(repo.primary, 'other');
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(result.fetched).toEqual(['refs/heads/main']);
    const refs = await readRefs(repo.replica);
    expect(refs['refs/heads/main']).toBe(main);
    expect(Object.keys(refs).sort()).toEqual(['refs/heads/main']);
    expect(existsSync(join(repo.replica, 'FETCH_HEAD'))).toBe(false);
    expect(await packs()).toBe(2);
  });

  it('syncRepository fetches everything and prunes refs the primary no longer has', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await pushCommit(repo.primary, 'gone');
    await fx.fetcher.syncRepository(repo.name);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    await git(['update-ref', '-d', 'refs/heads/gone'], { cwd: repo.primary });
    await pushCommit(repo.primary, 'new');
    const result = await fx.fetcher.syncRepository(repo.name);
    expect(result).toMatchObject({ fetched: ['refs/heads/new'], deleted: ['refs/heads/gone'], upToDate: ['refs/heads/main'] });
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    // the primary's default branch changes: a whole-repository sync follows it
    await git(['symbolic-ref', 'HEAD', 'refs/heads/new'], { cwd: repo.primary });
    await fx.fetcher.syncRepository(repo.name);
    expect((await git(['symbolic-ref', 'HEAD'], { cwd: repo.replica })).trim()).toBe('refs/heads/new');
  });
});
