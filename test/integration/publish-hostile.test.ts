import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { makeBareRepo, readRefs, WorkClone } from '../helpers/git.js';
import { gitRun, installHook, minimalEnv, primaryWithRepo, pullrep, topicEvents } from './publish-helpers.js';

const A = 'a'.repeat(40);
const Z = '0'.repeat(40);

describe('hostile input', () => {
  it('gets a clear one-line error, produces no event, and never breaks the push', async () => {
    const { primary, kafka, bare: inside } = await primaryWithRepo('ok.git');
    const cfg = ['--config', primary.configFile];

    const cases: Array<[string[], string, string | undefined, RegExp]> = [
      [['publish'], `${Z} ${A} refs/heads/a..b\n`, inside, /^pullrep: stdin line 1: ref name "refs\/heads\/a\.\.b" must not contain "\.\."\n$/],
      [['publish'], `${Z} ${A} -refs/heads/x\n`, inside, /^pullrep: stdin line 1: ref name "-refs\/heads\/x" must start with "refs\/"\n$/],
      [['publish'], `${Z} ${A} refs/heads/ok\n${Z} ${A} refs/heads/--upload-pack\ngarbage\n`, inside, /^pullrep: stdin line 3 is not "<old> <new> <ref>": "garbage"\n$/],
      [['publish'], `${Z} nothex refs/heads/x\n`, inside, /^pullrep: stdin line 1: new object id "nothex" is not 40 or 64 hex characters\n$/],
      [['publish', '--repo', '../outside'], `${Z} ${A} refs/heads/x\n`, inside, /^pullrep: repository name "\.\.\/outside" has a '\.\.' segment\n$/],
      [['publish'], `${Z} ${A} refs/heads/x\n`, primary.base, /^pullrep: repository ".*" is outside primary\.root ".*"\n$/],
    ];
    for (const [args, input, cwd, message] of cases) {
      const r = await pullrep([...cfg, ...args], { input, ...(cwd ? { cwd } : {}) });
      expect(r.code, input).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }

    // A repository outside primary.root with the hook installed: pullrep refuses, the push goes through.
    const outside = await makeBareRepo(join(primary.base, 'elsewhere'), 'stray.git');
    await installHook(primary, outside);
    const work = await WorkClone.of(outside);
    const commit = await work.commit();
    const push = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/^remote: pullrep: repository ".*stray\.git" is outside primary\.root/m);
    expect(await readRefs(outside)).toEqual({ 'refs/heads/main': commit });

    // Only the sentinel, published last, is on the topic.
    const sentinel = await pullrep([...cfg, 'publish'], { cwd: inside, input: `${Z} ${A} refs/heads/sentinel\n` });
    expect(sentinel).toMatchObject({ code: 0, stderr: '' });
    const events = await topicEvents(kafka, primary.topic);
    expect(events.map((e) => [e.key, (e.event as RefsUpdatedEvent).refs.map((r) => r.ref)])).toEqual([['ok.git', ['refs/heads/sentinel']]]);
  });

  it('refuses an unsafe repository name under primary.root, and the push still succeeds', async () => {
    const { primary, bare } = await primaryWithRepo('bad name.git');
    await installHook(primary, bare);
    const work = await WorkClone.of(bare);
    await work.commit();
    const push = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(push.code).toBe(0);
    expect(push.stderr).toMatch(/^remote: pullrep: repository name "bad name\.git" may hold only letters/m);
  });
});
