import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { PermanentFetchError, TransientFetchError } from '../../src/fetch/index.js';
import { git, pushCommit, randomName, readRefs, tempDir } from '../helpers/git.js';
import { fetchFixture, rejection, type FetchFixture } from './fetch-fixture.js';

describe('hostile input never reaches git', () => {
  let fx: FetchFixture;
  beforeAll(async () => {
    fx = await fetchFixture();
  });
  afterAll(async () => fx.close());

  const badRepos = ['../outside.git', 'a/../../b.git', '/etc/passwd', '-oProxyCommand=touch x', '.git', 'a b.git', 'x/.hidden', 'a.lock', ''];
  const badRefs = ['--upload-pack=touch x', 'refs/heads/../x', 'HEAD', 'refs/heads/a b', 'refs/heads/x:refs/heads/y', 'refs/heads/x.lock', 'heads/main', '-c'];

  it.each(badRepos)('repository name %j is rejected as invalid, permanently', async (name) => {
    const before = fx.server.requests.length;
    for (const call of [
      fx.fetcher.syncRefs(name, ['refs/heads/main']),
      fx.fetcher.syncRepository(name),
      fx.fetcher.deleteRepository(name),
    ]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(PermanentFetchError);
      expect(error.kind).toBe('invalid');
    }
    expect(fx.server.requests.length).toBe(before);
  });

  it.each(badRefs)('ref name %j is rejected as invalid before any request', async (ref) => {
    const repo = await fx.newRepo();
    await pushCommit(repo.primary, 'main');
    const before = fx.server.requests.length;
    const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main', ref]));
    expect(error).toBeInstanceOf(PermanentFetchError);
    expect(error.kind).toBe('invalid');
    expect(fx.server.requests.length).toBe(before);
  });

  it('a symbolic link under replica.root is not followed', async () => {
    const outside = await tempDir('pullrep-outside-');
    const name = randomName('linked');
    await mkdir(join(fx.replicaRoot, name));
    await symlink(outside, join(fx.replicaRoot, name, 'repo.git'));
    const before = fx.server.requests.length;
    const error = await rejection(fx.fetcher.syncRefs(`${name}/repo.git`, ['refs/heads/main']));
    expect(error).toBeInstanceOf(PermanentFetchError);
    expect(error.kind).toBe('invalid');
    expect(fx.server.requests.length).toBe(before);
  });

  it('asks for protocol v2 on every request, and several refs of a repository take one git fetch', async () => {
    const repo = await fx.newRepo();
    for (const branch of ['main', 'a', 'b']) await pushCommit(repo.primary, branch);
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    for (const branch of ['main', 'a', 'b']) await pushCommit(repo.primary, branch);
    const before = fx.server.requests.length;
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/b', 'refs/heads/main', 'refs/heads/a', 'refs/heads/a']);
    expect(result.fetched).toEqual(['refs/heads/a', 'refs/heads/b', 'refs/heads/main']);
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    const requests = fx.server.requests.slice(before);
    // one git process = one capability advertisement (GET info/refs), then its v2 commands
    expect(requests.filter((r) => r.method === 'GET').length).toBe(1);
    expect(fx.server.requests.every((r) => r.gitProtocol.includes('version=2'))).toBe(true);
  });

  it('refuses a primary.url with another transport', async () => {
    const other = await fetchFixture({ url: 'ext::sh -c touch% /tmp/x {repo}' });
    try {
      const error = await rejection(other.fetcher.syncRefs('g/a.git', ['refs/heads/main']));
      expect(error).toBeInstanceOf(PermanentFetchError);
      expect(error.kind).toBe('transport');
    } finally {
      await other.close();
    }
  });
});

describe('credentials', () => {
  const password = `pw-${randomName('secret')}`;
  const basic = Buffer.from(`replicator:${password}`).toString('base64');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', pretty: 'false', destination: sink });

  it('are sent to the primary but never appear in a log line or an error', async () => {
    const fx = await fetchFixture({ auth: { username: 'replicator', password }, logger });
    const wrong = await fetchFixture({ auth: { username: 'replicator', password }, password: `${password}-wrong`, logger });
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      expect(result.created).toBe(true);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
      await pushCommit(repo.primary, 'main');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));

      const other = await wrong.newRepo();
      await pushCommit(other.primary, 'main');
      const error = await rejection(wrong.fetcher.syncRefs(other.name, ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.kind).toBe('auth');
      for (const text of [error.message, String(error.stack), ...lines]) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(basic);
      }
      expect(lines.some((l) => l.includes('"kind":"auth"'))).toBe(true);
      expect(lines.some((l) => l.includes(`"repo":"${other.name}"`))).toBe(true);
    } finally {
      await fx.close();
      await wrong.close();
    }
  });
});

/** git on PATH records each process's arguments and the names (not values) of its environment. */
async function argvRecordingGit(): Promise<{ dir: string; read: () => Promise<Array<{ args: string[]; envKeys: string[] }>> }> {
  const realGit = await new Promise<string>((resolve, reject) =>
    execFile('sh', ['-c', 'command -v git'], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
  );
  const dir = await tempDir('pullrep-argv-');
  const log = join(dir, 'processes.log');
  const script = `#!/bin/sh
{ echo '--'; for a in "$@"; do printf 'arg %s\\n' "$a"; done; env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/env \\1/p'; } >> ${log}
exec ${realGit} "$@"
`;
  await writeFile(join(dir, 'git'), script);
  await chmod(join(dir, 'git'), 0o755);
  return {
    dir,
    async read() {
      const blocks = (await readFile(log, 'utf8')).split('--\n').filter(Boolean);
      return blocks.map((block) => {
        const lines = block.split('\n');
        return {
          args: lines.filter((l) => l.startsWith('arg ')).map((l) => l.slice(4)),
          envKeys: lines.filter((l) => l.startsWith('env ')).map((l) => l.slice(4)),
        };
      });
    },
  };
}

describe('redirects', () => {
  it("are never followed: a primary that redirects elsewhere sends nothing there, its Authorization header least of all", async () => {
    // Where the redirect points: records every request it gets.
    const seen: Array<{ url: string; authorization: string | undefined }> = [];
    const target = createHttpServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    const redirector = createHttpServer((req, res) => res.writeHead(302, { location: `http://127.0.0.1:${targetPort}${req.url ?? '/'}` }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const port = (redirector.address() as AddressInfo).port;
    const fx = await fetchFixture({ url: `http://127.0.0.1:${port}/{repo}`, auth: { username: 'replicator', password: 'redirect-must-not-see-this' } });
    try {
      const error = await rejection(fx.fetcher.syncRefs('g/a.git', ['refs/heads/main']));
      expect(error.kind).toBe('redirect');
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(seen).toEqual([]);
    } finally {
      await fx.close();
      redirector.close();
      target.close();
    }
  });
});

describe('credentials and spawned processes', () => {
  it('the password reaches git through its environment only: never an argument of any git process', async () => {
    const password = `pw-${randomName('argv')}`;
    const basic = Buffer.from(`replicator:${password}`).toString('base64');
    const recorder = await argvRecordingGit();
    const env = { ...process.env, PATH: `${recorder.dir}:${process.env.PATH ?? ''}` };
    const fx = await fetchFixture({ auth: { username: 'replicator', password }, deps: { env } });
    const wrong = await fetchFixture({ auth: { username: 'replicator', password }, password: `${password}-wrong`, deps: { env } });
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']); // clone
      await pushCommit(repo.primary, 'a');
      await pushCommit(repo.primary, 'b');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/a', 'refs/heads/b']); // fetch
      await git(['update-ref', '-d', 'refs/heads/a'], { cwd: repo.primary });
      await git(['update-ref', '-d', 'refs/heads/b'], { cwd: repo.primary });
      const zero = '0'.repeat(40);
      const deleted = await fx.fetcher.syncRefs(repo.name, ['refs/heads/a', 'refs/heads/b'], { hints: { 'refs/heads/a': zero, 'refs/heads/b': zero } });
      expect(deleted.deleted).toEqual(['refs/heads/a', 'refs/heads/b']); // ls-remote
      await fx.fetcher.syncRepository(repo.name); // fetch everything, ls-remote --symref
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
      const other = await wrong.newRepo();
      await pushCommit(other.primary, 'main');
      const error = await rejection(wrong.fetcher.syncRefs(other.name, ['refs/heads/main']));
      expect(error.kind).toBe('auth');
      expect(error.message).not.toContain(password);

      const processes = await recorder.read();
      const commands = new Set(processes.map((p) => p.args.find((a) => !a.startsWith('-') && !a.includes('='))));
      for (const command of ['clone', 'fetch', 'ls-remote', 'update-ref']) expect(commands).toContain(command);
      for (const { args, envKeys } of processes) {
        for (const arg of args) {
          expect(arg).not.toContain(password);
          expect(arg).not.toContain(basic);
          expect(arg).not.toMatch(/authorization|extraheader/i);
        }
        expect(envKeys).toEqual(expect.arrayContaining(['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']));
      }
      // and the replica keeps no credential on disk
      expect(await readFile(join(repo.replica, 'config'), 'utf8')).not.toContain(password);
    } finally {
      await fx.close();
      await wrong.close();
    }
  });
});
