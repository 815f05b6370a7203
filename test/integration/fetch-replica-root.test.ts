import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentFetchError } from '../../src/fetch/index.js';
import { git, pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { fetchFixture, rejection, type FetchFixture } from './fetch-fixture.js';

/** A replica repository, synced once, whose refs/heads/main is then behind the primary's. */
async function replicated(fx: FetchFixture) {
  const repo = await fx.newRepo();
  await pushCommit(repo.primary, 'main');
  await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
  await pushCommit(repo.primary, 'main');
  return repo;
}

describe('pullrep lends no hand to whoever can write to replica.root', () => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture();
  });
  afterAll(async () => fx.close());

  it.each([
    ['core.hooksPath', ['core.hooksPath', '/tmp/hooks'], /core\.hookspath/],
    ['url.<x>.insteadOf', ['url.http://127.0.0.1:1/.insteadOf', 'http://'], /\[url\] section/],
    ['http.proxy', ['http.proxy', 'http://127.0.0.1:1'], /\[http\] section/],
    ['core.sshCommand', ['core.sshCommand', 'touch /tmp/pwned'], /core\.sshcommand/],
    ['include.path', ['include.path', '/tmp/other.config'], /\[include\] section/],
    ['a remote named like the URL', ['remote.http://127.0.0.1:1/g/a.git.uploadpack', 'sh -c true'], /remote other than origin/],
    ['remote.origin.proxy', ['remote.origin.proxy', 'http://127.0.0.1:1'], /remote\.origin\.proxy/],
    ['extensions.worktreeConfig', ['extensions.worktreeConfig', 'true'], /worktreeConfig/i],
  ])('a replica repository whose config sets %s is refused before git runs', async (_what, [key, value], message) => {
    const repo = await replicated(fx);
    await git(['config', key ?? '', value ?? ''], { cwd: repo.replica });
    const before = fx.server.requests.length;
    const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
    expect(error).toBeInstanceOf(PermanentFetchError);
    expect(error.message).toMatch(message);
    expect(fx.server.requests.length).toBe(before);
  });

  it('refuses a config.worktree, and a config that continues a line (the rest would be hidden from the check)', async () => {
    const a = await replicated(fx);
    await writeFile(join(a.replica, 'config.worktree'), '[http]\n\tproxy = http://127.0.0.1:1\n');
    expect((await rejection(fx.fetcher.syncRefs(a.name, ['refs/heads/main']))).message).toMatch(/config\.worktree/);
    const b = await replicated(fx);
    await writeFile(join(b.replica, 'config'), `${await readFile(join(b.replica, 'config'), 'utf8')}[core]\n\tbare = true \\\n[foo]\n\thooksPath = /tmp\n`);
    expect((await rejection(fx.fetcher.syncRefs(b.name, ['refs/heads/main']))).message).toMatch(/continues a line/);
  });

  it('still deletes a refused repository when the primary deleted it (deleting runs no git)', async () => {
    const repo = await replicated(fx);
    await git(['config', 'core.hooksPath', '/tmp/hooks'], { cwd: repo.replica });
    expect(await fx.fetcher.deleteRepository(repo.name)).toEqual({ deleted: true });
    expect(existsSync(repo.replica)).toBe(false);
  });

  it("never runs a replica repository's own hooks", async () => {
    const repo = await replicated(fx);
    const marker = join(await tempDir('pullrep-hook-'), 'ran');
    await mkdir(join(repo.replica, 'hooks'), { recursive: true });
    await writeFile(join(repo.replica, 'hooks', 'reference-transaction'), `#!/bin/sh\ntouch '${marker}'\n`);
    await chmod(join(repo.replica, 'hooks', 'reference-transaction'), 0o755);
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a repository that borrows objects (objects/info/alternates)', async () => {
    const repo = await replicated(fx);
    await mkdir(join(repo.replica, 'objects', 'info'), { recursive: true });
    await writeFile(join(repo.replica, 'objects', 'info', 'alternates'), '/tmp\n');
    expect((await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']))).message).toMatch(/alternates/);
  });

  it('refuses a symlinked refs/heads: nothing is written outside the root, maintenance deletes nothing there', async () => {
    const repo = await replicated(fx);
    const outside = await tempDir('pullrep-outside-');
    await writeFile(join(outside, 'keep'), 'x');
    await rm(join(repo.replica, 'refs', 'heads'), { recursive: true, force: true });
    await symlink(outside, join(repo.replica, 'refs', 'heads'));
    expect((await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']))).message).toMatch(/refs\/heads is not a directory/);
    await expect(fx.fetcher.maintain(repo.name)).rejects.toThrow(/refs\/heads is not a directory/);
    expect(await readdir(outside)).toEqual(['keep']);
  });

  it('refuses a symlinked .pullrep-tmp: no clone is built outside the root', async () => {
    const own = await fetchFixture();
    try {
      const outside = await tempDir('pullrep-outside-');
      await symlink(outside, join(own.replicaRoot, '.pullrep-tmp'));
      const repo = await own.newRepo();
      await pushCommit(repo.primary, 'main');
      expect((await rejection(own.fetcher.syncRefs(repo.name, ['refs/heads/main']))).message).toMatch(/must be a directory, not a link/);
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it.each([
    ['a FIFO', async (path: string) => execFileSync('mkfifo', [path])],
    ['a link to /dev/zero', async (path: string) => symlink('/dev/zero', path)],
  ])('a loose ref that is %s fails that repository at once: no hang, no memory blow-up', async (_what, make) => {
    const repo = await replicated(fx);
    const ref = join(repo.replica, 'refs', 'heads', 'main');
    await rm(ref, { force: true });
    await make(ref);
    const started = Date.now();
    const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
    expect(error.message).toMatch(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
