import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOfLines, type VerifyEntry } from '../../src/verify/index.js';
import { pullrep as runPullrep } from '../helpers/cli.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { git, makeBareRepo, pushCommit, randomName, readRefs, tempDir, WorkClone } from '../helpers/git.js';

const auth = { username: 'mirror', password: `s3cret-${randomName('pw')}` };
const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The checksum computed independently of pullrep: every ref under refs/ of a bare repository. */
async function expectedChecksum(repo: string): Promise<string> {
  return checksumOfLines(Object.entries(await readRefs(repo)).map(([name, oid]) => `${oid} ${name}`));
}

describe('pullrep verify', () => {
  let server: GitHttpServer;
  let primaryRoot = '';
  let replicaRoot = '';
  const pullrep = (args: string[], password = auth.password): Promise<Run> => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PULLREP_PRIMARY_URL: `${server.url}/{repo}`,
      PULLREP_PRIMARY_ROOT: primaryRoot,
      PULLREP_PRIMARY_USERNAME: auth.username,
      PULLREP_PRIMARY_PASSWORD: password,
      PULLREP_REPLICA_ROOT: replicaRoot,
      PULLREP_LOG_LEVEL: 'warn',
      PULLREP_LOG_PRETTY: 'false',
    };
    return runPullrep(args, { env });
  };
  const entries = (run: Run): Map<string, VerifyEntry> =>
    new Map(run.stdout.trim().split('\n').filter(Boolean).map((line) => {
      const e = JSON.parse(line) as VerifyEntry;
      return [e.repo, e];
    }));
  const noSecret = (run: Run): void => {
    for (const text of [run.stdout, run.stderr]) {
      expect(text).not.toContain(auth.password);
      expect(text).not.toContain(basic);
    }
  };
  const newRepo = async (): Promise<{ name: string; path: string }> => {
    const name = `g/${randomName('repo')}.git`;
    const path = await makeBareRepo(primaryRoot, name);
    await pushCommit(path, 'main');
    await pushCommit(path, 'dev');
    const work = await WorkClone.of(path);
    await work.commit('tagged');
    await work.tag('v1.0', true);
    await work.push('HEAD:refs/heads/topic', 'refs/tags/v1.0');
    return { name, path };
  };

  beforeAll(async () => {
    primaryRoot = await tempDir('pullrep-primary-');
    replicaRoot = await tempDir('pullrep-replica-');
    server = await new GitHttpServer({ root: primaryRoot, auth }).start();
  });
  afterAll(async () => server.stop());

  it('reports equal checksums after a sync, read from the primary over protocol v2', async () => {
    const a = await newRepo();
    expect((await pullrep(['sync', a.name])).code).toBe(0);
    const before = server.requests.length;
    const run = await pullrep(['verify', '--json', a.name]);
    expect(run.code).toBe(0);
    const entry = entries(run).get(a.name);
    const expected = await expectedChecksum(a.path);
    expect(entry).toEqual({ repo: a.name, primary: expected, replica: expected, equal: true, missingOnReplica: false, missingOnPrimary: false });
    expect(expected).not.toBe('0'.repeat(40));
    const asked = server.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    for (const request of asked) expect(request.gitProtocol).toBe('version=2');
    expect(asked.some((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack'))).toBe(true);
    noSecret(run);

    const table = await pullrep(['verify', a.name]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^REPOSITORY\s+STATUS\s+PRIMARY\s+REPLICA$/m);
    expect(table.stdout).toMatch(new RegExp(`^${a.name}\\s+equal\\s+${expected}\\s+${expected}$`, 'm'));
  });

  it('reports an extra ref, a moved ref and a missing repository; --repair makes them equal', async () => {
    const extra = await newRepo();
    const moved = await newRepo();
    const missing = await newRepo();
    expect((await pullrep(['sync', extra.name])).code).toBe(0);
    expect((await pullrep(['sync', moved.name])).code).toBe(0);
    const extraReplica = join(replicaRoot, extra.name);
    const movedReplica = join(replicaRoot, moved.name);
    await git(['update-ref', 'refs/heads/only-here', 'refs/heads/main'], { cwd: extraReplica });
    await git(['update-ref', 'refs/heads/main', 'refs/heads/dev'], { cwd: movedReplica });

    const names = [extra.name, moved.name, missing.name];
    const diverged = await pullrep(['verify', '--json', ...names]);
    expect(diverged.code).toBe(1);
    expect(diverged.stderr).toMatch(/^pullrep: 3 of 3 repositories differ from the primary$/m);
    const found = entries(diverged);
    expect(found.get(extra.name)).toMatchObject({ equal: false, missingOnReplica: false, primary: await expectedChecksum(extra.path), replica: await expectedChecksum(extraReplica) });
    expect(found.get(moved.name)).toMatchObject({ equal: false, missingOnReplica: false, replica: await expectedChecksum(movedReplica) });
    expect(found.get(missing.name)).toMatchObject({ equal: false, missingOnReplica: true, replica: null, primary: await expectedChecksum(missing.path) });

    const table = await pullrep(['verify', ...names]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(new RegExp(`^${extra.name}\\s+differs\\s`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${missing.name}\\s+missing on replica\\s`, 'm'));

    const repaired = await pullrep(['verify', '--json', '--repair', ...names]);
    expect(repaired.code).toBe(0);
    for (const e of entries(repaired).values()) expect(e).toMatchObject({ equal: true, repaired: true });
    for (const repo of [extra, moved, missing]) expect(await readRefs(join(replicaRoot, repo.name))).toEqual(await readRefs(repo.path));
    expect((await pullrep(['verify', ...names])).code).toBe(0);
    noSecret(repaired);
  });

  it('covers the replica with --all, and the primary too with --local-primary', async () => {
    const onlyPrimary = await newRepo();
    const all = await pullrep(['verify', '--all', '--json']);
    expect([...entries(all).keys()]).not.toContain(onlyPrimary.name);
    const local = await pullrep(['verify', '--all', '--json', '--local-primary']);
    expect(local.code).toBe(1);
    const found = entries(local);
    expect(found.get(onlyPrimary.name)).toMatchObject({ missingOnReplica: true, primary: await expectedChecksum(onlyPrimary.path) });
    expect([...found.values()].filter((e) => !e.equal).map((e) => e.repo)).toEqual([onlyPrimary.name]);
    const fixed = await pullrep(['verify', '--all', '--local-primary', '--repair']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(new RegExp(`^${onlyPrimary.name}\\s+equal \\(repaired\\)\\s`, 'm'));
  });

  it('gives all zeros for an empty repository on both sides', async () => {
    const name = `g/${randomName('empty')}.git`;
    await makeBareRepo(primaryRoot, name);
    expect((await pullrep(['sync', name])).code).toBe(0);
    for (const extra of [[], ['--local-primary']]) {
      const run = await pullrep(['verify', '--json', ...extra, name]);
      expect(run.code).toBe(0);
      expect(entries(run).get(name)).toMatchObject({ primary: '0'.repeat(40), replica: '0'.repeat(40), equal: true });
    }
  });

  it('refuses hostile repository names before git runs', async () => {
    const before = server.requests.length;
    for (const name of ['../escape.git', 'g/../../x.git', '/etc/passwd', 'ext::sh -c id', 'a\nb.git']) {
      const run = await pullrep(['verify', '--json', '--repair', name]);
      expect(run.code).toBe(1);
      const entry = entries(run).get(name);
      expect(entry?.error).toMatch(/repository name/);
      expect(entry?.primary).toBeNull();
      expect(run.stderr).toMatch(/^pullrep: 0 of 1 repository differ from the primary; 1 could not be verified$/m);
    }
    expect(server.requests.length).toBe(before);
  });

  it('says why the primary could not be read, without the credential', async () => {
    const a = await newRepo();
    const wrong = `wrong-${randomName('pw')}`;
    const run = await pullrep(['verify', a.name], wrong);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^${a.name}: git ls-remote of ${a.name} failed \\(auth\\)`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^${a.name}\\s+error\\s`, 'm'));
    for (const text of [run.stdout, run.stderr]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(Buffer.from(`${auth.username}:${wrong}`).toString('base64'));
    }
    const usage = await pullrep(['verify']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/^pullrep: name the repositories to verify, or give --all for every one \(pullrep verify --help\)$/m);
    const gone = await pullrep(['verify', '--json', 'g/never-created.git']);
    expect(gone.code).toBe(1);
    expect(entries(gone).get('g/never-created.git')).toMatchObject({ missingOnPrimary: true, missingOnReplica: true, equal: false });
  });
});
