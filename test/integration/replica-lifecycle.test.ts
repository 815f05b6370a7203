import { afterEach, describe, expect, it } from 'vitest';
import { pushCommit, readRefs } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});


async function handedOn(f: ReplicaFixture): Promise<bigint> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    let total = 0n;
    for (const topic of [...f.topics.retry, f.topics.failed]) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += BigInt(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

describe('pullrep replica: liveness and shutdown', () => {
  it('keeps its group membership through a sync longer than the session timeout', async () => {
    fx = await replicaFixture({ partitions: 1, overrides: { 'replica.sessionTimeoutMs': 6000 } });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const { fetcher } = await fx.startReplica({}, 10_000);
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo, 40_000);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { timeoutMs: 20_000, what: 'the offset to be committed' });
    // Evicted members cannot commit: their batch would have run a second time.
    expect(fetcher.callsFor(repo.name)).toHaveLength(1);
  }, 180_000);

  it('keeps other partitions flowing while one partition runs a long sync', async () => {
    fx = await replicaFixture({ partitions: 2 });
    const slow = await fx.newRepo();
    const fast = await fx.newRepo();
    const heads = [await pushCommit(slow.primary, 'main'), await pushCommit(fast.primary, 'main')];
    const { fetcher } = await fx.startReplica({}, (repo) => (repo === slow.name ? 20_000 : 0));
    await fx.produce(fx.refsEvent(slow.name, { 'refs/heads/main': heads[0] ?? '' }), slow.name, 0);
    const f = fx;
    await waitFor(() => fetcher.callsFor(slow.name).length === 1, { what: 'the slow sync to start' });
    await fx.produce(fx.refsEvent(fast.name, { 'refs/heads/main': heads[1] ?? '' }), fast.name, 1);
    await fx.converged(fast, 30_000);
    // The fast partition did not wait for the slow one: that sync is still running.
    expect((await readRefs(slow.replica).catch((): Record<string, string> => ({})))['refs/heads/main']).toBeUndefined();
    await fx.converged(slow, 60_000);
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'both offsets to be committed' });
  }, 180_000);

  it('lets a running sync finish within the grace period, then commits', async () => {
    fx = await replicaFixture({ partitions: 1, overrides: { 'replica.shutdownGraceMs': 10_000 } });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const { service, fetcher } = await fx.startReplica({ 'replica.shutdownGraceMs': 10_000 }, 1500);
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    const f = fx;
    await waitFor(() => fetcher.callsFor(repo.name).length === 1, { what: 'the sync to start' });
    await service.close();
    expect(service.state).toBe('stopped');
    await fx.converged(repo, 1000);
    expect(await committedOffsets(f, f.topics.events)).toBe(1n);
    await service.close();
  });

  it('aborts a sync that outlives the grace period and leaves it uncommitted for the next start', async () => {
    fx = await replicaFixture({ partitions: 1 });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const slow = await fx.startReplica({ 'replica.shutdownGraceMs': 500 }, 60_000);
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    const f = fx;
    await waitFor(() => slow.fetcher.callsFor(repo.name).length === 1, { what: 'the sync to start' });
    const closing = Date.now();
    await slow.service.close();
    expect(Date.now() - closing).toBeLessThan(15_000);
    expect(await committedOffsets(f, f.topics.events)).toBe(0n);
    expect(await handedOn(f)).toBe(0n);
    await fx.startReplica();
    await fx.converged(repo);
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { what: 'the offset to be committed after restart' });
  });
});
