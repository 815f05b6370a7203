import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetcher, type ReplicaFetcher } from '../../src/fetch/index.js';
import { readOnlyHook, readOnlyMessage } from '../../src/fetch/read-only-hook.js';
import type { VerifyEntry } from '../../src/verify/index.js';
import { silentLogger } from '../../src/log/index.js';
import { pullrep, run, type RunResult } from '../helpers/cli.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { git, gitEnv, makeBareRepo, pushCommit, randomName, readRefs, tempDir, WorkClone } from '../helpers/git.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

/**
 * Pushes one new commit on top of the replica's main, and a new branch `refs/heads/pushed-…`, to
 * `url` (the replica's path by default) from a clone of it. Never throws: the exit code and
 * stderr tell.
 */
async function pushTo(replica: string, url = replica, env: NodeJS.ProcessEnv = gitEnv): Promise<RunResult> {
  const work = await WorkClone.of(replica);
  await git(['fetch', '--quiet', 'origin', 'main'], { cwd: work.dir });
  await git(['checkout', '--quiet', '-B', 'main', 'FETCH_HEAD'], { cwd: work.dir });
  await work.commit('pushed to the replica');
  return run('git', ['push', url, 'HEAD:refs/heads/main', `HEAD:refs/heads/${randomName('pushed')}`], { cwd: work.dir, env });
}

/** Objects of a repository, loose and packed: a refused push must add none. */
async function objectCount(repo: string): Promise<string> {
  const out = await git(['count-objects', '-v'], { cwd: repo });
  return out.split('\n').filter((line) => /^(count|in-pack):/.test(line)).join(' ');
}

/** The config entries a read-only replica has (empty when none). */
async function readOnlyEntries(repo: string): Promise<string> {
  return git(['config', '--get-regexp', '^(core\\.hookspath|receive\\.hiderefs)$'], { cwd: repo }).catch(() => '');
}

const refused = (push: RunResult, url: string) => {
  expect(push.code).not.toBe(0);
  expect(push.stderr).toContain(`remote: ${readOnlyMessage(url)}`);
  expect(push.stderr).toMatch(/\[remote rejected\] HEAD -> main/);
};

describe('a read-only replica (replica.readOnly, the default) refuses pushes', () => {
  const auth = { username: 'mirror', password: `s3cret-${randomName('pw')}` };
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture({ auth });
  });
  afterAll(async () => fx.close());

  it('once a sync created it: the pusher is told where to push, and no ref or object changes', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    expect((await fx.fetcher.syncRefs(repo.name, ['refs/heads/main'])).created).toBe(true);
    const refs = await readRefs(repo.replica);
    const objects = await objectCount(repo.replica);
    const primaryUrl = `${fx.server.url}/${repo.name}`;

    refused(await pushTo(repo.replica), primaryUrl);
    refused(await pushTo(repo.replica, `file://${repo.replica}`), primaryUrl);
    expect(await readRefs(repo.replica)).toEqual(refs);
    expect(await objectCount(repo.replica)).toBe(objects);
    expect(await readRefs(repo.primary)).toEqual(refs);

    // Readers still see every ref; the primary's credentials are in no file pullrep wrote.
    expect(await git(['ls-remote', '--heads', repo.replica])).toContain('refs/heads/main');
    const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    for (const file of [join(repo.replica, 'config'), ...(await readdir(join(repo.replica, 'hooks'))).map((f) => join(repo.replica, 'hooks', f))]) {
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(auth.password);
      expect(text).not.toContain(basic);
    }
  });

  it('over smart HTTP too (git http-backend serving the replica, pushes enabled)', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    const refs = await readRefs(repo.replica);
    const served = await new GitHttpServer({ root: fx.replicaRoot, allowPush: true }).start();
    try {
      refused(await pushTo(repo.replica, `${served.url}/${repo.name}`), `${fx.server.url}/${repo.name}`);
    } finally {
      await served.stop();
    }
    expect(await readRefs(repo.replica)).toEqual(refs);
  });

  it('whatever core.hooksPath the account sets, and even when the hook cannot run; the next sync mends the hook', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    const refs = await readRefs(repo.replica);
    const primaryUrl = `${fx.server.url}/${repo.name}`;

    const elsewhere = await tempDir('pullrep-hooks-');
    const globalConfig = join(elsewhere, 'gitconfig');
    await writeFile(globalConfig, `[core]\n\thooksPath = ${elsewhere}\n`);
    refused(await pushTo(repo.replica, repo.replica, { ...gitEnv, GIT_CONFIG_GLOBAL: globalConfig }), primaryUrl);

    // A hook git cannot run (noexec mount, lost mode): receive.hideRefs still refuses every update.
    await chmod(join(repo.replica, 'hooks', 'pre-receive'), 0o644);
    const unhooked = await pushTo(repo.replica);
    expect(unhooked.code).not.toBe(0);
    expect(unhooked.stderr).toMatch(/\[remote rejected\] HEAD -> main \(deny updating a hidden ref\)/);
    expect(await readRefs(repo.replica)).toEqual(refs);

    await pushCommit(repo.primary, 'main');
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    refused(await pushTo(repo.replica), primaryUrl);
  });

  it('after a whole-repository sync created it, and after a re-clone swapped a fresh copy in', async () => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    await pushCommit(repo.primary, 'dev');
    expect((await fx.fetcher.syncRepository(repo.name)).created).toBe(true);
    const primaryUrl = `${fx.server.url}/${repo.name}`;
    refused(await pushTo(repo.replica), primaryUrl);

    await pushCommit(repo.primary, 'main');
    expect((await fx.fetcher.syncRepository(repo.name, { reclone: true })).recloned).toBe(true);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    refused(await pushTo(repo.replica), primaryUrl);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect(await readdir(join(fx.replicaRoot, '.pullrep-tmp'))).toEqual([]);
  });

  it('runs as a hook that only prints its message and exits 1, whatever the URL holds', async () => {
    const dir = await tempDir('pullrep-hook-');
    const marker = join(dir, 'ran');
    const url = `file:///srv/it's/$(touch ${marker})/\`touch ${marker}\`;touch ${marker}.git`;
    await writeFile(join(dir, 'pre-receive'), readOnlyHook(url, []));
    const result = await run('sh', [join(dir, 'pre-receive')], { env: { PATH: process.env.PATH } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${readOnlyMessage(url)}\n`);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('replica.readOnly off, and back on', () => {
  let primaryRoot = '';
  let replicaRoot = '';
  const fetchers: ReplicaFetcher[] = [];
  const fetcher = (readOnly: boolean): ReplicaFetcher => {
    const made = createFetcher({
      options: {
        root: replicaRoot,
        primaryUrl: `file://${primaryRoot}/{repo}`,
        credentials: { username: '', password: '', sshKeyFile: '' },
        concurrency: 2,
        gitTimeoutMs: 30_000,
        recloneAfterFailures: 3,
        readOnly,
        missingRepoGraceMs: 60_000,
        maintenanceIntervalMs: 0,
      },
      env: process.env,
      logger: silentLogger(),
    });
    fetchers.push(made);
    return made;
  };
  const newRepo = async () => {
    const name = `g/${randomName('repo')}.git`;
    const primary = await makeBareRepo(primaryRoot, name);
    await pushCommit(primary, 'main');
    return { name, primary, replica: join(replicaRoot, name), url: `file://${primaryRoot}/${name}` };
  };
  beforeAll(async () => {
    primaryRoot = await tempDir('pullrep-primary-');
    replicaRoot = await tempDir('pullrep-replica-');
  });
  afterAll(async () => {
    for (const f of fetchers) await f.close();
  });

  it('accepts a push when off; a repository made before gets the setup on its next sync, and loses it again when turned off', async () => {
    const off = fetcher(false);
    const on = fetcher(true);
    const repo = await newRepo();
    expect((await off.syncRefs(repo.name, ['refs/heads/main'])).created).toBe(true);
    expect(existsSync(join(repo.replica, 'hooks', 'pre-receive'))).toBe(false);
    expect(await readOnlyEntries(repo.replica)).toBe('');
    const accepted = await pushTo(repo.replica);
    expect(accepted.code).toBe(0);
    expect(Object.keys(await readRefs(repo.replica)).filter((ref) => ref.startsWith('refs/heads/pushed-'))).toHaveLength(1);

    await on.syncRefs(repo.name, ['refs/heads/main']);
    const refs = await readRefs(repo.replica);
    refused(await pushTo(repo.replica), repo.url);
    expect(await readRefs(repo.replica)).toEqual(refs);

    await off.syncRefs(repo.name, ['refs/heads/main']);
    expect(existsSync(join(repo.replica, 'hooks', 'pre-receive'))).toBe(false);
    expect(await readOnlyEntries(repo.replica)).toBe('');
    expect((await pushTo(repo.replica)).code).toBe(0);
    expect(Object.keys(await readRefs(repo.replica)).filter((ref) => ref.startsWith('refs/heads/pushed-'))).toHaveLength(2);
  });

  it("never overwrites or removes a pre-receive hook pullrep did not write (receive.hideRefs still refuses)", async () => {
    const off = fetcher(false);
    const on = fetcher(true);
    const repo = await newRepo();
    await off.syncRefs(repo.name, ['refs/heads/main']);
    const own = '#!/bin/sh\necho "the operator\'s own hook" >&2\nexit 0\n';
    await mkdir(join(repo.replica, 'hooks'), { recursive: true });
    await writeFile(join(repo.replica, 'hooks', 'pre-receive'), own);
    await chmod(join(repo.replica, 'hooks', 'pre-receive'), 0o755);

    await on.syncRefs(repo.name, ['refs/heads/main']);
    expect(await readFile(join(repo.replica, 'hooks', 'pre-receive'), 'utf8')).toBe(own);
    const push = await pushTo(repo.replica);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("remote: the operator's own hook");
    expect(push.stderr).toMatch(/deny updating a hidden ref/);

    await off.syncRefs(repo.name, ['refs/heads/main']);
    expect(await readFile(join(repo.replica, 'hooks', 'pre-receive'), 'utf8')).toBe(own);
    expect(await readOnlyEntries(repo.replica)).toBe('');
  });
});

describe('pullrep verify checks that replica repositories are read-only', () => {
  let primaryRoot = '';
  let replicaRoot = '';
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    pullrep(args, {
      env: {
        HOME: process.env.HOME,
        PULLREP_PRIMARY_URL: `file://${primaryRoot}/{repo}`,
        PULLREP_REPLICA_ROOT: replicaRoot,
        PULLREP_LOG_LEVEL: 'warn',
        PULLREP_LOG_PRETTY: 'false',
        ...extra,
      },
    });
  const entry = (result: RunResult): VerifyEntry => JSON.parse(result.stdout.trim().split('\n')[0] ?? '') as VerifyEntry;
  const synced = async () => {
    const name = `g/${randomName('repo')}.git`;
    const primary = await makeBareRepo(primaryRoot, name);
    await pushCommit(primary, 'main');
    expect((await cli(['sync', name])).code).toBe(0);
    return { name, primary, replica: join(replicaRoot, name), url: `file://${primaryRoot}/${name}` };
  };
  beforeAll(async () => {
    primaryRoot = await tempDir('pullrep-primary-');
    replicaRoot = await tempDir('pullrep-replica-');
  });

  it('flags a repository whose hook was removed; --repair restores it', async () => {
    const repo = await synced();
    const sound = await cli(['verify', '--json', repo.name]);
    expect(sound.code).toBe(0);
    expect(entry(sound).notReadOnly).toBeUndefined();

    await rm(join(repo.replica, 'hooks', 'pre-receive'));
    const json = await cli(['verify', '--json', repo.name]);
    expect(json.code).toBe(1);
    expect(entry(json)).toMatchObject({ repo: repo.name, equal: true, notReadOnly: 'hooks/pre-receive is missing' });
    expect(json.stderr).toContain(`${repo.name}: not read-only: hooks/pre-receive is missing\n`);
    expect(json.stderr).toMatch(/^pullrep: 1 of 1 repository is not read-only \(replica\.readOnly\)$/m);
    const table = await cli(['verify', repo.name]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(new RegExp(`^${repo.name}\\s+equal, not read-only\\s`, 'm'));

    const repaired = await cli(['verify', '--json', '--repair', repo.name]);
    expect(repaired.code).toBe(0);
    expect(entry(repaired)).toMatchObject({ equal: true, repaired: true });
    expect(entry(repaired).notReadOnly).toBeUndefined();
    refused(await pushTo(repo.replica), repo.url);
  });

  it('flags an altered hook and a lost config entry, and says so beside a difference', async () => {
    const repo = await synced();
    const hook = join(repo.replica, 'hooks', 'pre-receive');
    await writeFile(hook, (await readFile(hook, 'utf8')).replace('exit 1', 'exit 0'));
    await git(['config', '--unset', 'receive.hideRefs'], { cwd: repo.replica });
    await pushCommit(repo.primary, 'main');
    const run = await cli(['verify', '--json', repo.name]);
    expect(run.code).toBe(1);
    expect(entry(run)).toMatchObject({ equal: false, notReadOnly: 'hooks/pre-receive was altered; receive.hideRefs does not include refs' });
    expect(run.stderr).toMatch(/^pullrep: 1 of 1 repository differs from the primary; 1 not read-only$/m);

    // Off, verify does not ask; the next --repair makes it equal (and, on, read-only again).
    expect((await cli(['verify', '--json', repo.name], { PULLREP_REPLICA_READ_ONLY: 'false' })).stderr).not.toMatch(/not read-only/);
    const repaired = await cli(['verify', '--json', '--repair', repo.name]);
    expect(repaired.code).toBe(0);
    refused(await pushTo(repo.replica), repo.url);
  });
});
