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

    fx.server.failWith = undefined;
    const dry = await pullrep(fx, ['failed', 'replay', '--all', '--dry-run']);
    expect(dry).toContain(`would replay ${entry?.id}`);
    expect(await list(fx)).toHaveLength(1);

    await pullrep(fx, ['failed', 'replay', entry?.id ?? '']);
    await fx.converged(repo);
    expect(await list(fx)).toEqual([]);
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
    type Status = { outstandingFailures: number; partitions: Array<{ topic: string; lag: string; committed: string | null }> };
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
    expect(events.map((p) => p.lag)).toEqual(['0', '0']);
    expect(events.reduce((sum, p) => sum + Number(p.committed ?? 0), 0)).toBe(2);
  });
});
