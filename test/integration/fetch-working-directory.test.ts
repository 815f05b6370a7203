import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pullrep } from '../helpers/cli.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { git, makeBareRepo, pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { fetchFixture } from './fetch-fixture.js';

describe("the caller's working directory", () => {
  it('cannot redirect the primary or proxy its credentials: a checkout whose config rewrites its URL and sets a proxy changes nothing pullrep sync lists or deletes', async () => {
    const fx = await fetchFixture();
    const decoyRoot = await tempDir('pullrep-decoy-');
    const decoy = await new GitHttpServer({ root: decoyRoot }).start();
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await pushCommit(repo.primary, 'x');
      await pushCommit(repo.primary, 'y');
      await fx.fetcher.syncRepository(repo.name);
      // The primary deletes x and y: syncing them makes pullrep list the primary's refs.
      await git(['update-ref', '-d', 'refs/heads/x'], { cwd: repo.primary });
      await git(['update-ref', '-d', 'refs/heads/y'], { cwd: repo.primary });
      // Another server with the same repository and no main, and a checkout that sends the primary's URL there.
      await makeBareRepo(decoyRoot, repo.name);
      await pushCommit(`${decoyRoot}/${repo.name}`, 'other');
      const checkout = await tempDir('pullrep-checkout-');
      await git(['init', '--quiet', checkout]);
      await git(['config', `url.${decoy.url}/.insteadOf`, `${fx.server.url}/`], { cwd: checkout });
      // And a proxy: the primary's Authorization header must never reach it.
      const proxied: string[] = [];
      const proxy = createServer((socket) => {
        socket.once('data', (d) => proxied.push(d.toString('latin1')));
        socket.end();
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      await git(['config', 'http.proxy', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`], { cwd: checkout });
      const out = await pullrep(['sync', repo.name, 'refs/heads/x', 'refs/heads/y', 'refs/heads/main'], {
        cwd: checkout,
        env: {
          HOME: process.env.HOME,
          PULLREP_REPLICA_ROOT: fx.replicaRoot,
          PULLREP_PRIMARY_URL: `${fx.server.url}/{repo}`,
          PULLREP_PRIMARY_USERNAME: 'replicator',
          PULLREP_PRIMARY_PASSWORD: 'proxy-must-not-see-this',
          PULLREP_LOG_LEVEL: 'silent',
        },
      });
      proxy.close();
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      // main stays (the decoy has none), x and y go: the replica equals the real primary.
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
      expect(decoy.requests).toEqual([]);
      expect(proxied).toEqual([]);
    } finally {
      await decoy.stop();
      await fx.close();
    }
  });
});
