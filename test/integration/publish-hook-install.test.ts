import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { hookScript, installHook as installInto } from '../../src/publish/index.js';
import { git, makeBareRepo, readRefs, WorkClone } from '../helpers/git.js';
import { testBrokers } from '../helpers/kafka.js';
import { cliPath, gitRun, installHook, makePrimary, minimalEnv, primaryWithRepo, pullrep, topicEvents } from './publish-helpers.js';

async function userHook(repo: string, type: string, body: string): Promise<void> {
  const path = join(repo, 'hooks', type);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

describe('pullrep hook install', () => {
  it('chains an existing post-receive hook, which still gets the same input, and is idempotent', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('chained.git');
    const seen = join(primary.base, 'seen.txt');
    await userHook(bare, 'post-receive', `echo "user hook ran"\nwhile read old new ref; do echo "$old $new $ref" >> '${seen}'; done`);

    const first = await pullrep(['--config', primary.configFile, 'hook', 'install', '--direct', bare]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^chained /m);
    const hooks = (await readdir(join(bare, 'hooks'))).filter((f) => !f.endsWith('.sample')).sort();
    const script = await readFile(join(bare, 'hooks', 'post-receive'), 'utf8');
    const second = await pullrep(['--config', primary.configFile, 'hook', 'install', '--direct', bare]);
    expect(second.stdout).toMatch(/^unchanged /m);
    expect(second.stdout).toMatch(/1 repository, 0 changed/);
    expect((await readdir(join(bare, 'hooks'))).filter((f) => !f.endsWith('.sample')).sort()).toEqual(hooks);
    expect(hooks).toEqual(['post-receive', 'post-receive.pullrep-chained']);
    expect(await readFile(join(bare, 'hooks', 'post-receive'), 'utf8')).toBe(script);
    expect(script).toContain(process.execPath);

    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const push = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('remote: user hook ran');
    expect(await readFile(seen, 'utf8')).toBe(`${'0'.repeat(40)} ${commit} refs/heads/main\n`);
    const events = await topicEvents(kafka, primary.topic);
    expect(events.map((e) => (e.event as RefsUpdatedEvent).refs)).toEqual([[{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }]]);
  });

  it('still publishes when the chained hook never reads its input', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('notify.git');
    await userHook(bare, 'post-receive', 'echo notified');
    await installHook(primary, bare);
    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const push = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('remote: notified');
    const events = await topicEvents(kafka, primary.topic, 1);
    expect(events.map((e) => (e.event as RefsUpdatedEvent).refs)).toEqual([[{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }]]);
  });

  it("keeps a chained reference-transaction hook's veto, and publishes only what was committed", async () => {
    const { primary, kafka, bare } = await primaryWithRepo('policy.git');
    await userHook(bare, 'reference-transaction', `[ "$1" = prepared ] || { cat >/dev/null; exit 0; }\nwhile read old new ref; do [ "$ref" = refs/heads/forbidden ] && exit 1; done\nexit 0`);
    await installHook(primary, bare, 'reference-transaction');

    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const env = minimalEnv(primary.base);
    expect((await gitRun(['push', 'origin', 'HEAD:refs/heads/forbidden'], work.dir, env)).code).not.toBe(0);
    expect((await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, env)).code).toBe(0);
    expect(await readRefs(bare)).toEqual({ 'refs/heads/main': commit });
    const events = await topicEvents(kafka, primary.topic);
    expect(events.map((e) => (e.event as RefsUpdatedEvent).refs)).toEqual([[{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }]]);
  });

  it('when pullrep or Node is gone, spools the push with one line, and the chained hook still gets its input', async () => {
    const { primary, bare } = await primaryWithRepo('moved.git');
    const seen = join(primary.base, 'seen.txt');
    await userHook(bare, 'post-receive', `echo "user hook ran"\nwhile read -r line; do echo "$line" >> '${seen}'; done\nexit 3`);
    await installHook(primary, bare);
    const spoolDir = join(primary.root, '.pullrep-spool');
    const cases = [
      { nodePath: process.execPath, cliPath: join(primary.base, 'moved-away', 'pullrep.js') },
      { nodePath: join(primary.base, 'no-node'), cliPath: join(primary.base, 'moved-away', 'pullrep.js') },
    ];
    const work = await WorkClone.of(bare);
    let expected = '';
    for (const [i, c] of cases.entries()) {
      await writeFile(join(bare, 'hooks', 'post-receive'), hookScript({ type: 'post-receive', nodePath: c.nodePath, cliPath: c.cliPath, mode: 'direct', spoolDir }));
      const old = (await readRefs(bare))['refs/heads/main'] ?? '0'.repeat(40);
      const commit = await work.commit();
      expected += `${old} ${commit} refs/heads/main\n`;
      const push = await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
      expect(push.code, push.stderr).toBe(0);
      expect(await readRefs(bare)).toEqual({ 'refs/heads/main': commit });
      expect(push.stderr.split('\n').filter(Boolean).map((l) => l.trimEnd())).toEqual([
        `remote: pullrep: cannot run pullrep: no Node (${c.nodePath}) or no pullrep (${c.cliPath}); run 'pullrep hook install' again`,
        `remote: pullrep: warning: this update waits in the spool ${spoolDir}; pullrep primary or 'pullrep spool flush' sends it`,
        'remote: user hook ran',
      ]);
      expect(await readFile(seen, 'utf8')).toBe(expected);
      // Nothing lost: the push waits in the spool.
      const list = await pullrep(['--config', primary.configFile, 'spool', 'list', '--json']);
      expect((JSON.parse(list.stdout) as Array<{ repo: string; kind: string }>).map((e) => [e.repo, e.kind])).toEqual(Array(i + 1).fill(['moved.git', 'push']));
    }
    // pullrep status on the primary names the hooks that lost their pullrep.
    const status = await pullrep(['--config', primary.configFile, 'status', '--primary']);
    expect(status.stdout).toMatch(/^hooks {10}1 repository: 1 direct$/m);
    expect(status.stdout).toContain(`1 hook calls a pullrep that is gone (${join(primary.base, 'moved-away', 'pullrep.js')}): their pushes are only spooled; run 'pullrep hook install' again`);
  });


  it('spools the push when the direct hook cannot publish (a broken configuration), and flush sends it once it is fixed', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('careless.git');
    await installHook(primary, bare);
    const good = await readFile(primary.configFile, 'utf8');
    await writeFile(primary.configFile, good.replace('"primary": {', '"primary": { "rooot": "typo",'));
    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const push = await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(push.code, push.stderr).toBe(0);
    const lines = push.stderr.split('\n').filter(Boolean).map((l) => l.trimEnd());
    expect(lines[0]).toMatch(/^remote: pullrep: .*'primary\.rooot' is not a configuration key; did you mean 'primary\.root'\?/);
    expect(lines[1]).toBe(`remote: pullrep: warning: this update waits in the spool ${join(primary.root, '.pullrep-spool')}; pullrep primary or 'pullrep spool flush' sends it`);
    await writeFile(primary.configFile, good);
    const flushed = await pullrep(['--config', primary.configFile, 'spool', 'flush']);
    expect(flushed).toMatchObject({ code: 0, stdout: '1 file sent\n' });
    const events = await topicEvents(kafka, primary.topic, 1);
    expect(events.map((e) => [e.key, (e.event as RefsUpdatedEvent).refs])).toEqual([['careless.git', [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }]]]);
  });

  it('goes on past a repository it cannot install into, says which, and exits 1', async () => {
    const primary = await makePrimary(testBrokers());
    const good = await makeBareRepo(primary.root, 'good.git');
    const blocked = await makeBareRepo(primary.root, 'blocked.git');
    await userHook(blocked, 'post-receive', 'echo mine');
    await userHook(blocked, 'post-receive.pullrep-chained', 'echo older');
    const r = await pullrep(['--config', primary.configFile, 'hook', 'install', primary.root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `installed ${join(good, 'hooks', 'post-receive')}\n` +
        `the hooks run ${cliPath} (pullrep is not on PATH): run 'pullrep hook install' again if it moves; an installed pullrep (npm install -g) avoids that\n` +
        'post-receive hook: 2 repositories, 1 changed, 1 failed\n',
    );
    const hook = join(blocked, 'hooks', 'post-receive');
    expect(r.stderr).toBe(
      `pullrep: cannot install ${hook}: ${hook} is not pullrep's and ${hook}.pullrep-chained exists already; merge them by hand\n` +
        'pullrep: the hook could not be installed in 1 of 2 repositories\n',
    );
    expect(await readFile(hook, 'utf8')).toBe('#!/bin/sh\necho mine\n');
  });

  it('leaves an existing hook in place when ours cannot be written', async () => {
    const primary = await makePrimary(testBrokers());
    const bare = await makeBareRepo(primary.root, 'full-disk.git');
    await userHook(bare, 'post-receive', 'echo mine');
    // Where ours would be written first, something that cannot be replaced by a file.
    await mkdir(join(bare, 'hooks', `post-receive.pullrep-tmp-${process.pid}`, 'busy'), { recursive: true });
    await expect(installInto(bare, { type: 'post-receive', nodePath: process.execPath, cliPath, mode: 'direct', spoolDir: join(primary.root, '.pullrep-spool') })).rejects.toThrow(/EISDIR/);
    expect(await readFile(join(bare, 'hooks', 'post-receive'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
    expect((await readdir(join(bare, 'hooks'))).filter((f) => f.includes('chained'))).toEqual([]);
  });

  it('warns when core.hooksPath makes git look for hooks elsewhere', async () => {
    const primary = await makePrimary(testBrokers());
    const elsewhere = await makeBareRepo(primary.root, 'elsewhere.git');
    const own = await makeBareRepo(primary.root, 'own.git');
    await git(['config', 'core.hooksPath', join(primary.base, 'shared-hooks')], { cwd: elsewhere });
    await git(['config', 'core.hooksPath', 'hooks'], { cwd: own });
    const r = await pullrep(['--config', primary.configFile, 'hook', 'install', primary.root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 repositories, 2 changed/);
    expect(r.stderr).toBe(
      `pullrep: warning: git runs the hooks of ${elsewhere} from ${join(primary.base, 'shared-hooks')} (core.hooksPath): ` +
        'the hook installed here never runs; copy it there or unset core.hooksPath\n',
    );
  });

  it('as a reference-transaction hook, starts pullrep only for committed transactions, local ones included', async () => {
    const { primary, bare } = await primaryWithRepo('local.git');
    const calls = join(primary.base, 'calls.txt');
    const fakeNode = join(primary.base, 'fake-node');
    await writeFile(fakeNode, `#!/bin/sh\necho "$*" >> '${calls}'\nwhile read -r line; do echo "  $line" >> '${calls}'; done\n`);
    await chmod(fakeNode, 0o755);
    await writeFile(join(bare, 'hooks', 'reference-transaction'), hookScript({ type: 'reference-transaction', nodePath: fakeNode, cliPath, mode: 'direct', spoolDir: join(primary.root, '.pullrep-spool') }));
    await chmod(join(bare, 'hooks', 'reference-transaction'), 0o755);
    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const env = minimalEnv(primary.base);
    expect((await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work.dir, env)).code).toBe(0);
    const wrongOld = await gitRun(['update-ref', 'refs/heads/main', commit, 'f'.repeat(40)], bare, env);
    expect(wrongOld.code).not.toBe(0);
    expect((await gitRun(['update-ref', '-d', 'refs/heads/main'], bare, env)).code).toBe(0);
    const Z = '0'.repeat(40);
    // Only the two committed transactions started "node"; git also reports HEAD, which publish skips.
    const lines = (await readFile(calls, 'utf8')).split('\n').filter((l) => !l.endsWith(' HEAD') && l !== '');
    expect(lines).toEqual([
      `${cliPath} publish --hook reference-transaction committed`,
      `  ${Z} ${commit} refs/heads/main`,
      `${cliPath} publish --hook reference-transaction committed`,
      `  ${Z} ${Z} refs/heads/main`,
    ]);
  });

  it('installs into every bare repository under a root, skipping dot-directories', async () => {
    const primary = await makePrimary(testBrokers());
    const repos = ['a.git', 'group/b.git', 'group/sub/c.git'];
    for (const name of repos) await makeBareRepo(primary.root, name);
    await makeBareRepo(primary.root, '.hidden/d.git');
    await mkdir(join(primary.root, 'empty-dir'), { recursive: true });
    const result = await pullrep(['--config', primary.configFile, 'hook', 'install', primary.root]);
    expect(result.code, result.stderr).toBe(0);
    const installed = result.stdout.split('\n').filter((l) => l.startsWith('installed')).map((l) => l.split(/\s+/)[1]);
    expect(installed).toEqual(repos.map((r) => join(primary.root, r, 'hooks', 'post-receive')));
    const none = await pullrep(['--config', primary.configFile, 'hook', 'install', join(primary.root, 'empty-dir')]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/^pullrep: no bare repository in .*empty-dir\n$/);
  });

  it('warns when a repository would get both hook types (every update published twice)', async () => {
    const primary = await makePrimary(testBrokers());
    const bare = await makeBareRepo(primary.root, 'both.git');
    await installHook(primary, bare, 'post-receive');
    for (const round of ['installed', 'unchanged']) {
      const r = await pullrep(['--config', primary.configFile, 'hook', 'install', bare, '--type', 'reference-transaction']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${round} `, 'm'));
      expect(r.stderr).toBe(`pullrep: warning: ${bare} also has pullrep's post-receive hook: every update is published twice; remove one\n`);
    }
  });
});
