import { afterEach, describe, expect, it } from 'vitest';
import { HEADER } from '../../src/retry/index.js';
import { pushCommit } from '../helpers/git.js';
import { readTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

interface Listed {
  id: string;
  repository: string | null;
  refs: string[];
  attempts: number;
  reason: string;
  lastError: { class: string; message: string } | null;
}

async function list(f: ReplicaFixture, extra: string[] = []): Promise<Listed[]> {
  return JSON.parse(await pullrep(f, ['failed', 'list', '--json', ...extra])) as Listed[];
}

describe('pullrep failed', () => {
  it('lists a failure, replays it once the primary is back, and no longer lists it', async () => {
    fx = await replicaFixture({ overrides: { 'retry.stages': 1 } });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.startReplica();
    // The primary is down (answers 503); the port stays ours.
    fx.server.failWith = 503;
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await readTopic(fx.kafka, fx.topics.failed, { atLeast: 1, timeoutMs: 30_000 });

    const listed = await list(fx);
    expect(listed).toHaveLength(1);
    const [entry] = listed;
    expect(entry).toMatchObject({ repository: repo.name, refs: ['refs/heads/main'], attempts: 2, reason: 'exhausted' });
    expect(entry?.lastError?.class).toMatch(/FetchError$/);
    const shown = JSON.parse(await pullrep(fx, ['failed', 'show', entry?.id ?? ''])) as { event: { repo: string }; errors: unknown[]; headers: Record<string, string> };
    expect(shown.event.repo).toBe(repo.name);
    expect(shown.errors).toHaveLength(2);
    expect(shown.headers[HEADER.reason]).toBe('exhausted');
    // The view for people: the cause once, the history as a table with each message once.
    const view = await pullrep(fx, ['failed', 'show', '--table', entry?.id ?? '']);
    expect(view).toMatch(new RegExp(`^failure {5}${entry?.id}$`, 'm'));
    expect(view).toMatch(new RegExp(`^repository  ${repo.name.replace(/\./g, '\\.')}$`, 'm'));
    expect(view).toMatch(/^reason {6}exhausted: the retry ladder ran out$/m);
    expect(view).toMatch(/^cause {7}The requested URL returned error: 503/m);
    expect(view).toMatch(/^attempts {4}2$/m);
    expect(view).toMatch(/^errors \(2 attempts\):$/m);
    const history = view.split('\n').filter((l) => /^\s+\d+ {2}20\d\d-/.test(l));
    expect(history).toHaveLength(1); // the same message twice: one row
    expect(history[0]).toMatch(/^\s+2 {2}\S+ \S+ {2}\S+ \S+ {2}0,1 {5}\S*FetchError: /);
    expect(view.length).toBeLessThan(2000);
    // The list shows the cause, not a prefix of the message.
    const table = await pullrep(fx, ['failed', 'list', '--table']);
    expect(table).toMatch(/ The requested URL returned error: 503/);
    expect(table).not.toMatch(/git fetch of/);

    fx.server.failWith = undefined;
    const dry = await pullrep(fx, ['failed', 'replay', '--all', '--dry-run']);
    expect(dry).toContain(`would replay ${entry?.id}`);
    expect(await list(fx)).toHaveLength(1);

    const replayed = JSON.parse(await pullrep(fx, ['failed', 'replay', '--json', entry?.id ?? ''])) as unknown;
    expect(replayed).toEqual({ dryRun: false, replayed: 1, failures: [{ id: entry?.id, repository: repo.name }] });
    await fx.converged(repo);
    expect(await list(fx)).toEqual([]);
    // Replayed: no longer outstanding, and its history still shows.
    const after = await pullrep(fx, ['failed', 'show', '--table', entry?.id ?? '']);
    expect(after).toMatch(new RegExp(`^failure {5}${entry?.id}  \\(replayed or resolved 20\\d\\d-\\S+ \\S+ UTC; no longer outstanding\\)$`, 'm'));
    expect(after).toMatch(/^errors \(2 attempts\):$/m);
    const afterJson = JSON.parse(await pullrep(fx, ['failed', 'show', entry?.id ?? ''])) as { outstanding: boolean; closedAt: string };
    expect(afterJson.outstanding).toBe(false);
    expect(Number.isNaN(Date.parse(afterJson.closedAt))).toBe(false);
    await expect(pullrep(fx, ['failed', 'show', 'f0000000000000000'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/^pullrep: no failure "f0000000000000000" on \S+; pullrep failed list shows the outstanding ones\n$/),
    });
  });

  it('lists nothing for a replica that has no failed topic yet', async () => {
    fx = await replicaFixture();
    expect(await list(fx)).toEqual([]);
  });

  it('resolves one failure without touching another, and refuses unknown ids', async () => {
    fx = await replicaFixture({ overrides: { 'retry.stages': 0 } });
    await fx.startReplica();
    const old = new Date(Date.now() - 24 * 3600_000).toISOString();
    for (const name of ['r/gone-a.git', 'r/gone-b.git']) {
      await fx.produce({ ...fx.refsEvent(name, { 'refs/heads/main': 'd'.repeat(40) }), publishedAt: old }, name);
    }
    const f = fx;
    await waitFor(async () => (await list(f)).length === 2, { what: 'two failures to be listed' });
    const listed = await list(fx);
    const a = listed.find((e) => e.repository === 'r/gone-a.git');
    const b = listed.find((e) => e.repository === 'r/gone-b.git');
    await pullrep(fx, ['failed', 'resolve', a?.id ?? '']);
    expect((await list(fx)).map((e) => e.id)).toEqual([b?.id]);
    expect((await list(fx, ['--repo', 'r/gone-a.git']))).toEqual([]);
    await expect(pullrep(fx, ['failed', 'resolve', 'f0000000000000000'])).rejects.toMatchObject({ stderr: expect.stringContaining('not outstanding') });
    expect(await list(fx)).toHaveLength(1);
    // The offsets are committed after the hand-off to the failed topic, so possibly after the listing.
    type Status = { outstandingFailures: number; partitions: Array<{ topic: string; lag: number; committed: number | null }> };
    const committed = (s: Status) => s.partitions.filter((p) => p.topic === f.topics.events).reduce((sum, p) => sum + Number(p.committed ?? 0), 0);
    const status = await waitFor(
      async () => {
        const s = JSON.parse(await pullrep(f, ['status', '--json'])) as Status;
        return committed(s) === 2 && s;
      },
      { what: 'both events offsets to be committed' },
    );
    expect(status.outstandingFailures).toBe(1);
    const events = status.partitions.filter((p) => p.topic === f.topics.events);
    expect(events).toHaveLength(2);
    expect(events.map((p) => p.lag)).toEqual([0, 0]);
    expect(events.reduce((sum, p) => sum + Number(p.committed ?? 0), 0)).toBe(2);
  });
});
