import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { compileOptions } from '../../src/config/index.js';
import { transactionalIdFor } from '../../src/replica/compose.js';
import { ensureTopics } from '../../src/replica/topics.js';
import { pushCommit } from '../helpers/git.js';
import { testClient, testKafka } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('pullrep replica with transactions', () => {
  it("fences a dead predecessor at start: the transaction it left open is aborted at once, not after its timeout", async () => {
    fx = await replicaFixture({ partitions: 1, overrides: { 'replica.transactions': true } });
    const admin = await testClient().admin();
    await ensureTopics(admin, compileOptions(fx.config).topics).finally(() => admin.disconnect());
    const stage1 = fx.topics.retry[0] ?? '';
    // The predecessor (same replica, same host, member slot 0) died in the middle of a hand-off to
    // stage 1: its transaction stays open for five minutes, holding back read-committed readers.
    const predecessor = testKafka().producer({
      transactionalId: transactionalIdFor(fx.config.replica.name, hostname(), 0),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 300_000,
    });
    await predecessor.connect();
    const open = await predecessor.transaction();
    await open.send({ topic: stage1, messages: [{ key: 'r/left-open.git', value: 'never committed', partition: 0 }] });

    const { fetcher } = await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    // The first attempt fails, so the event has to come back through stage 1, behind the open transaction.
    fx.server.failWith = 503;
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    const f = fx;
    // The events offset is committed in the same transaction as the hand-off to stage 1.
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { what: 'the hand-off to stage 1' });
    fx.server.failWith = undefined;
    // Well within the predecessor's 300 s: only an aborted transaction lets stage 1 move on this soon.
    await fx.converged(repo, 60_000);
    expect(fetcher.callsFor(repo.name).length).toBeGreaterThanOrEqual(2);
    await predecessor.disconnect().catch(() => undefined);
  }, 120_000);
});
