import { describe, expect, it } from 'vitest';
import { ZERO_OID_SHA1, type RefsUpdatedEvent } from '../../src/events/index.js';
import { git, WorkClone } from '../helpers/git.js';
import { gitRun, installHook, minimalEnv, primaryWithRepo, pullrep, pullrepLines, topicEvents } from './publish-helpers.js';

/** Real pushes from a work clone to a bare repository whose installed hook publishes. */
async function setup(type: 'post-receive' | 'reference-transaction') {
  const { primary, kafka, bare } = await primaryWithRepo('team/app.git');
  await installHook(primary, bare, type);
  const work = await WorkClone.of(bare);
  const env = minimalEnv(primary.base);
  const push = async (...args: string[]) => {
    const result = await gitRun(['push', '--quiet', 'origin', ...args], work.dir, env);
    expect(result.code, result.stderr).toBe(0);
    expect(pullrepLines(result.stderr)).toEqual([]);
  };
  const rev = async (name: string) => (await git(['rev-parse', name], { cwd: work.dir })).trim();
  return { primary, kafka, work, push, rev };
}

/** Commits, a new branch, a tag, a force-push and a deletion; returns the ref updates each push must yield. */
async function pushScenario(s: Awaited<ReturnType<typeof setup>>) {
  const { work, push, rev } = s;
  const expected: Array<Array<{ ref: string; old: string; new: string }>> = [];
  const c1 = await work.commit();
  await push('HEAD:refs/heads/main');
  expected.push([{ ref: 'refs/heads/main', old: ZERO_OID_SHA1, new: c1 }]);
  await work.commit();
  const c3 = await work.commit();
  await push('HEAD:refs/heads/main');
  expected.push([{ ref: 'refs/heads/main', old: c1, new: c3 }]);
  await work.checkout('feature', true);
  const c4 = await work.commit();
  await push('HEAD:refs/heads/feature');
  expected.push([{ ref: 'refs/heads/feature', old: ZERO_OID_SHA1, new: c4 }]);
  await work.tag('v1', true);
  await push('refs/tags/v1');
  expected.push([{ ref: 'refs/tags/v1', old: ZERO_OID_SHA1, new: await rev('refs/tags/v1') }]);
  await work.checkout('main');
  await work.resetHard(c1);
  const c5 = await work.commit('rewritten');
  await push('--force', 'HEAD:refs/heads/main');
  expected.push([{ ref: 'refs/heads/main', old: c3, new: c5 }]);
  await push(':refs/heads/feature');
  expected.push([{ ref: 'refs/heads/feature', old: c4, new: ZERO_OID_SHA1 }]);
  return expected;
}

describe.each(['post-receive', 'reference-transaction'] as const)('pushes through an installed %s hook', (type) => {
  it('yield exactly one event per push, keyed by repository, with the pushed refs', async () => {
    const s = await setup(type);
    const expected = await pushScenario(s);
    const events = await topicEvents(s.kafka, s.primary.topic);
    expect(events.map((e) => e.key)).toEqual(expected.map(() => 'team/app.git'));
    expect(new Set(events.map((e) => e.partition)).size).toBe(1);
    const refsUpdated = events.map((e) => e.event as RefsUpdatedEvent);
    expect(refsUpdated.map((e) => e.refs)).toEqual(expected);
    for (const e of refsUpdated) {
      expect(e).toMatchObject({ v: 1, kind: 'refs-updated', repo: 'team/app.git', origin: 'primary-test' });
      expect(e.part).toBeUndefined();
      expect(Date.now() - Date.parse(e.publishedAt)).toBeLessThan(5 * 60_000);
    }
    expect(new Set(refsUpdated.map((e) => e.id)).size).toBe(expected.length);
  });
});

describe('a reference-transaction hook', () => {
  it('publishes nothing for prepared or aborted states, and skips HEAD', async () => {
    const s = await setup('reference-transaction');
    const line = `${ZERO_OID_SHA1} ${'a'.repeat(40)} refs/heads/x\n${ZERO_OID_SHA1} ${'a'.repeat(40)} HEAD\n`;
    const cwd = `${s.primary.root}/team/app.git`;
    for (const state of ['prepared', 'aborted']) {
      const r = await pullrep(['--config', s.primary.configFile, 'publish', '--hook', 'reference-transaction', state], { cwd, input: line });
      expect(r).toMatchObject({ code: 0, stderr: '' });
    }
    const committed = await pullrep(['--config', s.primary.configFile, 'publish', 'committed'], { cwd, input: line });
    expect(committed).toMatchObject({ code: 0, stderr: '' });
    const events = await topicEvents(s.kafka, s.primary.topic);
    expect(events.map((e) => (e.event as RefsUpdatedEvent).refs)).toEqual([[{ ref: 'refs/heads/x', old: ZERO_OID_SHA1, new: 'a'.repeat(40) }]]);
  });
});

describe('hook install --announce-wait', () => {
  it.each(['spool', 'direct'] as const)('(%s) tells the pusher in one remote: line what to wait for on a replica', async (mode) => {
    const { primary, bare } = await primaryWithRepo('team/waited.git');
    const r = await pullrep(['--config', primary.configFile, 'hook', 'install', bare, '--announce-wait', ...(mode === 'direct' ? ['--direct'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const pushed = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(pushed.code, pushed.stderr).toBe(0);
    const lines = pullrepLines(pushed.stderr).filter((l) => l.includes("pullrep wait")).map((l) => l.trimEnd());
    expect(lines).toEqual([`remote: pullrep: to wait for this push on a replica: pullrep wait team/waited.git refs/heads/main ${commit}`]);
    // Off by default: a plain install says nothing of it.
    await installHook(primary, bare, 'post-receive', mode);
    await work.commit();
    const quiet = await gitRun(['push', 'origin', 'HEAD:refs/heads/main'], work.dir, minimalEnv(primary.base));
    expect(quiet.stderr).not.toContain('pullrep wait');
  });
});
