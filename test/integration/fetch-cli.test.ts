import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullrep as runPullrep } from '../helpers/cli.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { git, makeBareRepo, pushCommit, readRefs, tempDir } from '../helpers/git.js';


describe('pullrep sync and maintenance', () => {
  let server: GitHttpServer;
  let primaryRoot = '';
  let replicaRoot = '';
  const pullrep = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PULLREP_PRIMARY_URL: `${server.url}/{repo}`,
      PULLREP_REPLICA_ROOT: replicaRoot,
      PULLREP_LOG_LEVEL: 'warn',
      PULLREP_LOG_PRETTY: 'false',
    };
    return runPullrep(args, { env });
  };

  beforeAll(async () => {
    primaryRoot = await tempDir('pullrep-primary-');
    replicaRoot = await tempDir('pullrep-replica-');
    server = await new GitHttpServer({ root: primaryRoot }).start();
  });
  afterAll(async () => server.stop());

  it('syncs named refs, a whole repository, every repository, then does housekeeping', async () => {
    const a = await makeBareRepo(primaryRoot, 'team/a.git');
    const b = await makeBareRepo(primaryRoot, 'b.git');
    await pushCommit(a, 'main');
    await pushCommit(a, 'dev');
    await pushCommit(b, 'main');

    const one = await pullrep(['sync', 'team/a.git', 'refs/heads/main']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^team\/a\.git: 1 fetched, 0 deleted, 0 up to date, created/);

    await pushCommit(a, 'main');
    const whole = await pullrep(['sync', '--json', 'team/a.git']);
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.stdout)).toMatchObject({ repo: 'team/a.git', fetched: ['refs/heads/main'] });
    expect(await readRefs(join(replicaRoot, 'team/a.git'))).toEqual(await readRefs(a));

    // --all covers the repositories present on the replica
    await pullrep(['sync', 'b.git']);
    await pushCommit(b, 'main');
    await pushCommit(a, 'dev');
    const all = await pullrep(['sync', '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n').sort()).toEqual([expect.stringMatching(/^b\.git: 1 fetched/), expect.stringMatching(/^team\/a\.git: 1 fetched/)]);
    expect(await readRefs(join(replicaRoot, 'b.git'))).toEqual(await readRefs(b));

    const housekeeping = await pullrep(['maintenance']);
    expect(housekeeping.code).toBe(0);
    expect(housekeeping.stdout).toMatch(/team\/a\.git: maintenance done/);
    const replicaA = join(replicaRoot, 'team/a.git');
    expect((await git(['count-objects', '-v'], { cwd: replicaA })).match(/^count: (\d+)/m)?.[1]).toBe('0');
    expect(await readRefs(replicaA)).toEqual(await readRefs(a));
    await git(['fsck', '--no-progress'], { cwd: replicaA });
  });

  it('fails with one line per repository and exit status 1', async () => {
    const bad = await pullrep(['sync', '../escape.git']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\.\.\/escape\.git: repository name/);
    expect(bad.stderr).toMatch(/^pullrep: 1 of 1 repository failed to sync$/m);
    const neither = await pullrep(['sync']);
    expect(neither.code).toBe(1);
  });
});
