import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHttpServer } from '../helpers/git-server.js';
import { git, gitEnv, makeBareRepo, pushCommit, readRefs, tempDir } from '../helpers/git.js';

describe('the test git server', () => {
  let root: string;
  let server: GitHttpServer;

  beforeAll(async () => {
    root = await tempDir();
    server = await new GitHttpServer({ root }).start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves a fetch of one ref over smart HTTP with protocol v2', async () => {
    const primary = await makeBareRepo(root, 'org/app.git');
    const head = await pushCommit(primary, 'main');
    await pushCommit(primary, 'other');

    const replica = await makeBareRepo(await tempDir(), 'app.git');
    const before = server.requests.length;
    const { stderr } = await gitWithTrace(replica, [
      '-c',
      'protocol.version=2',
      'fetch',
      '--no-tags',
      `${server.url}/org/app.git`,
      '+refs/heads/main:refs/heads/main',
    ]);

    const refs = await readRefs(replica);
    expect(refs).toEqual({ 'refs/heads/main': head });
    const served = server.requests.slice(before);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((r) => r.gitProtocol === 'version=2')).toBe(true);
    // The client's packet trace shows the server answering in protocol v2.
    expect(stderr).toMatch(/git< version 2/);
    expect(stderr).toMatch(/fetch> command=ls-refs/);
    expect(stderr).toMatch(/fetch> ref-prefix refs\/heads\/main/);
  });

  it('can be stopped and started again on the same port', async () => {
    const primary = await makeBareRepo(root, 'outage.git');
    await pushCommit(primary, 'main');
    const port = server.port;
    await server.stop();
    await expect(git(['ls-remote', `${server.url}/outage.git`])).rejects.toThrow(/Failed to connect|Connection refused|couldn't connect/i);
    await server.start();
    expect(server.port).toBe(port);
    const out = await git(['ls-remote', `${server.url}/outage.git`]);
    expect(out).toMatch(/refs\/heads\/main/);
  });
});

async function gitWithTrace(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...gitEnv, GIT_TRACE_PACKET: '1' } }, (err, stdout, stderr) =>
      err ? reject(new Error(stderr)) : resolve({ stdout, stderr }),
    );
  });
}
