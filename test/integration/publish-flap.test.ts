import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { testKafka } from '../helpers/kafka.js';
import { makeBareRepo, WorkClone } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { ownBroker, type OwnBroker } from '../helpers/broker.js';
import { gitRun, makePrimary, minimalEnv, pullrep, topicEvents } from './publish-helpers.js';

/** A broker of this test's own, on its own port, that the test stops and starts. */
let own: OwnBroker | undefined;
let port = 0;
const broker = (command: 'start' | 'stop') => (command === 'start' ? own?.start() : own?.stop());

beforeAll(async () => {
  own = await ownBroker();
  port = own.port;
}, 300_000);

afterAll(async () => {
  await own?.purge();
}, 60_000);

describe('concurrent pushes while the broker flaps', () => {
  it('deliver every push at least once, in order per repository', async () => {
    const primary = await makePrimary([`127.0.0.1:${port}`], { timeoutMs: 1000 });
    const repos = ['r1.git', 'r2.git', 'r3.git'];
    const works = new Map<string, WorkClone>();
    for (const name of repos) {
      const bare = await makeBareRepo(primary.root, name);
      works.set(name, await WorkClone.of(bare));
    }
    expect((await pullrep(['--config', primary.configFile, 'hook', 'install', '--direct', primary.root])).code).toBe(0);
    const env = minimalEnv(primary.base);
    const pushed = new Map<string, string[]>(repos.map((r) => [r, []]));
    let flapping = true;
    let spooledPushes = 0;

    const pushLoop = async (repo: string) => {
      const work = works.get(repo);
      if (!work) throw new Error(repo);
      const done = pushed.get(repo) ?? [];
      while (flapping || done.length < 8) {
        const commit = await work.commit();
        const r = await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work.dir, env);
        expect(r.code, r.stderr).toBe(0);
        if (/pullrep: warning: .* spooled/.test(r.stderr)) spooledPushes += 1;
        done.push(commit);
      }
    };
    const pushedAtLeast = (n: number) => () => [...pushed.values()].every((c) => c.length >= n);
    const flap = async () => {
      await waitFor(pushedAtLeast(2), { timeoutMs: 60_000, what: 'pushes before the outage' });
      await broker('stop');
      const before = Math.min(...[...pushed.values()].map((c) => c.length));
      await waitFor(pushedAtLeast(before + 2), { timeoutMs: 60_000, what: 'pushes during the outage' });
      await broker('start');
      const after = Math.min(...[...pushed.values()].map((c) => c.length));
      await waitFor(pushedAtLeast(after + 2), { timeoutMs: 60_000, what: 'pushes after the outage' });
      flapping = false;
    };
    await Promise.all([flap(), ...repos.map(pushLoop)]);

    await waitFor(async () => (await pullrep(['--config', primary.configFile, 'spool', 'flush'])).code === 0, {
      timeoutMs: 60_000,
      what: 'a successful spool flush',
    });
    expect(spooledPushes).toBeGreaterThan(0);
    const list = await pullrep(['--config', primary.configFile, 'spool', 'list']);
    expect(list.stdout).toBe('spool is empty\n');

    const kafka = testKafka([`127.0.0.1:${port}`]);
    const events = await topicEvents(kafka, primary.topic);
    for (const repo of repos) {
      const mine = events.filter((e) => e.key === repo).map((e) => e.event as RefsUpdatedEvent);
      const commits = pushed.get(repo) ?? [];
      for (const commit of commits) {
        const ids = new Set(mine.filter((e) => e.refs.some((r) => r.new === commit)).map((e) => e.id));
        expect(ids.size, `${repo} ${commit}`).toBeGreaterThanOrEqual(1);
      }
      // First arrival of each push, in push order.
      const firstSeen: string[] = [];
      for (const e of mine) for (const r of e.refs) if (!firstSeen.includes(r.new)) firstSeen.push(r.new);
      expect(firstSeen).toEqual(commits);
    }
  }, 240_000);
});
