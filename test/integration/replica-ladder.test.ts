import { afterEach, describe, expect, it } from 'vitest';
import { HEADER } from '../../src/retry/index.js';
import { pushCommit } from '../helpers/git.js';
import type { CommitPoint, KafkaClient, ProducedRecord } from '../../src/kafka/index.js';
import { readTopic, testClient } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, replicaFixture, TEST_RETRY, type ReplicaFixture } from './replica-fixture.js';

/** How late an attempt may be after its scheduled time (busy machines are noisy; the bench measures precision). */
const TOLERANCE_MS = 5000;

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});


describe('pullrep replica: the ladder', () => {
  it('applies events and commits their offsets', async () => {
    fx = await replicaFixture();
    await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { what: 'the events offset to be committed' });
  });

  it('walks the stages with the configured delays while the primary is down, then converges', async () => {
    fx = await replicaFixture({ overrides: { 'retry.stages': 3, 'retry.maxRetryPeriodMs': 120_000 } });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const { fetcher } = await fx.startReplica();
    // The primary is down (answers 503); the port stays ours.
    fx.server.failWith = 503;
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    const [stage1] = await readTopic(fx.kafka, fx.topics.retry[0] ?? '', { atLeast: 1 });
    const [stage2] = await readTopic(fx.kafka, fx.topics.retry[1] ?? '', { atLeast: 1, timeoutMs: 30_000 });
    // Stage 2 was attempted; bring the primary back before stage 3 is due.
    await waitFor(() => fetcher.callsFor(repo.name).length >= 2, { what: 'the stage 1 attempt' });
    fx.server.failWith = undefined;
    await fx.converged(repo);
    expect(stage1?.headers[HEADER.attempt]).toBe('1');
    expect(stage2?.headers[HEADER.attempt]).toBe('2');
    expect(stage2?.headers[HEADER.originalTopic]).toBe(fx.topics.events);
    expect(stage2?.headers[HEADER.firstFailureAt]).toBe(stage1?.headers[HEADER.firstFailureAt]);
    const calls = fetcher.callsFor(repo.name);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    const due1 = Number(stage1?.timestamp) + TEST_RETRY.initialDelayMs;
    const due2 = Number(stage2?.timestamp) + TEST_RETRY.initialDelayMs * TEST_RETRY.multiplier;
    // Each stage's attempt is the sync nearest its due time (a redelivered event may add a sync elsewhere).
    const nearest = (due: number) => calls.reduce((best, c) => (Math.abs(c.at - due) < Math.abs(best - due) ? c.at : best), Infinity);
    const attempt1 = nearest(due1);
    const attempt2 = nearest(due2);
    expect(attempt1 - due1).toBeGreaterThanOrEqual(-50);
    expect(attempt1 - due1).toBeLessThan(TOLERANCE_MS);
    expect(attempt2 - due2).toBeGreaterThanOrEqual(-50);
    expect(attempt2 - due2).toBeLessThan(TOLERANCE_MS);
  });

  it("honours a throttling primary's Retry-After by going to the first stage that waits that long, then converges", async () => {
    fx = await replicaFixture({ partitions: 1 });
    const { fetcher } = await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    // Stages wait 1 s and 2 s; the primary asks for 2 s: stage 1 is skipped.
    fx.server.failWith = 429;
    fx.server.failHeaders = { 'retry-after': '2' };
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    const [stage2] = await readTopic(fx.kafka, fx.topics.retry[1] ?? '', { atLeast: 1 });
    fx.server.failWith = undefined;
    await fx.converged(repo);
    const [first, second] = fetcher.callsFor(repo.name);
    expect(second).toBeDefined();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2000 - 50);
    expect(stage2?.headers[HEADER.errorMessage]).toContain('(throttled)');
    expect(await readTopic(fx.kafka, fx.topics.retry[0] ?? '')).toEqual([]);
  });

  it('puts an event on the failed topic with its history when the primary stays down past the ladder', async () => {
    fx = await replicaFixture();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.startReplica();
    await fx.server.stop();
    const event = fx.refsEvent(repo.name, { 'refs/heads/main': head });
    await fx.produce(event, repo.name);
    const [failed] = await readTopic(fx.kafka, fx.topics.failed, { atLeast: 1, timeoutMs: 30_000 });
    expect(failed?.headers[HEADER.reason]).toBe('exhausted');
    expect(failed?.headers[HEADER.attempt]).toBe('3');
    expect(failed?.headers[HEADER.repo]).toBe(repo.name);
    expect(failed?.headers[HEADER.eventId]).toBe(event.id);
    expect(failed?.headers[HEADER.replica]).toBe(fx.config.replica.name);
    expect(failed?.headers[HEADER.originalTopic]).toBe(fx.topics.events);
    expect(failed?.headers[HEADER.originalOffset]).toBe('0');
    expect(failed?.headers[HEADER.errorClass]).toMatch(/FetchError$/);
    const history = JSON.parse(failed?.headers[HEADER.errors] ?? '[]') as Array<{ stage: number }>;
    expect(history.map((h) => h.stage)).toEqual([0, 1, 2]);
    expect(JSON.parse(failed?.value ?? '{}')).toMatchObject({ id: event.id, repo: repo.name });
  });

  it('sends a permanent failure straight to the failed topic', async () => {
    fx = await replicaFixture();
    const { fetcher } = await fx.startReplica();
    const name = 'r/never-existed.git';
    const old = { ...fx.refsEvent(name, { 'refs/heads/main': 'a'.repeat(40) }), publishedAt: new Date(Date.now() - 24 * 3600_000).toISOString() };
    await fx.produce(old, name);
    const [failed] = await readTopic(fx.kafka, fx.topics.failed, { atLeast: 1 });
    expect(failed?.headers[HEADER.reason]).toBe('permanent');
    expect(failed?.headers[HEADER.attempt]).toBe('1');
    expect(fetcher.callsFor(name).length).toBeGreaterThan(0);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { what: 'the events offset to be committed' });
    // Nothing went through the ladder.
    const admin = f.kafka.admin();
    await admin.connect();
    try {
      const onLadder: string[] = [];
      for (const topic of f.topics.retry) {
        for (const p of await admin.fetchTopicOffsets(topic)) if (p.high !== '0') onLadder.push(`${topic}[${p.partition}]`);
      }
      expect(onLadder).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('does not let a failing repository hold up a healthy one in the same partition', async () => {
    // A first retry due long after the healthy sync, however busy the machine.
    fx = await replicaFixture({ partitions: 1, overrides: { 'retry.initialDelayMs': 10_000 } });
    const { fetcher } = await fx.startReplica();
    const good = await fx.newRepo();
    const head = await pushCommit(good.primary, 'main');
    const missing = 'r/not-yet-there.git';
    await fx.produce(fx.refsEvent(missing, { 'refs/heads/main': 'b'.repeat(40) }), missing);
    await fx.produce(fx.refsEvent(good.name, { 'refs/heads/main': head }), good.name);
    await fx.converged(good);
    const [retry] = await readTopic(fx.kafka, fx.topics.retry[0] ?? '', { atLeast: 1 });
    expect(retry?.key).toBe(missing);
    // The healthy repository was synced before the failing one's first retry was even due.
    const calls = fetcher.callsFor(good.name);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]?.at ?? Infinity).toBeLessThan(Number(retry?.timestamp) + fx.config.retry.initialDelayMs);
  });

  it('sends a poison record to the failed topic once and keeps going', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    await fx.produce(Buffer.from('{"v":1,"kind":"refs-updated","repo":"../../etc"}'), 'poison');
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    // The good event behind it is applied, so the poison record was settled first: the failed
    // topic, read to its end, holds it, under one key (a redelivery would reuse the key).
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'both events offsets to be committed' });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(failed.map((r) => r.key)).size).toBe(1);
    expect(failed[0]?.headers[HEADER.reason]).toBe('undecodable');
    expect(failed[0]?.headers[HEADER.errorClass]).toBe('EventDecodeError');
    expect(failed[0]?.headers[HEADER.errorMessage]).toContain('event.');
  });

  it('reads garbage headers on a retry topic as a fresh attempt and clamps a far due time', async () => {
    fx = await replicaFixture({ partitions: 1 });
    const { fetcher } = await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const producer = fx.kafka.producer();
    await producer.connect();
    const sentAt = Date.now();
    try {
      await producer.send({
        topic: fx.topics.retry[0] ?? '',
        messages: [
          {
            key: repo.name,
            partition: 0,
            value: Buffer.from(JSON.stringify(fx.refsEvent(repo.name, { 'refs/heads/main': head }))),
            headers: {
              [HEADER.attempt]: '999',
              [HEADER.dueAt]: String(Date.now() + 30 * 24 * 3600_000),
              [HEADER.firstFailureAt]: 'yesterday',
              [HEADER.errors]: '{"not": "a list"',
              [HEADER.originalPartition]: '-4',
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    await fx.converged(repo, 20_000);
    const [call] = fetcher.callsFor(repo.name);
    // Due after stage 1's own delay, not a month later.
    expect((call?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(TEST_RETRY.initialDelayMs - 100);
    expect((call?.at ?? 0) - sentAt).toBeLessThan(TEST_RETRY.initialDelayMs + TOLERANCE_MS);
  });

  it.each([false, true])('commits an events offset only past records whose hand-off the broker acknowledged (transactions: %s)', async (transactions) => {
    fx = await replicaFixture({ partitions: 1, overrides: { 'replica.transactions': transactions } });
    const seam = handOffSeam(fx.topics.events);
    await fx.startReplica({}, 0, seam.kafka);
    await fx.server.stop();
    const f = fx;
    const repos = ['r/a.git', 'r/b.git', 'r/c.git'];
    for (const name of repos) await f.produce(f.refsEvent(name, { 'refs/heads/main': 'c'.repeat(40) }), name);
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 3n, { what: 'the events offsets to be committed' });
    // Every commit on the events topic was checked as it happened, not sampled.
    expect(seam.commits.length).toBeGreaterThan(0);
    expect(seam.commits.at(-1)).toBe('3');
    expect(seam.violations).toEqual([]);
  });
});

/**
 * pullrep's client of the test broker, watched where the hand-off meets Kafka: records count as
 * handed off once the broker acknowledged them (their send resolved, or their transaction
 * committed), and every commit of an events offset is checked against them at the moment it is
 * made. Every event fails in the test using it, so each offset below a commit needs a hand-off.
 */
function handOffSeam(events: string) {
  const real = testClient();
  const acked = new Set<string>();
  const commits: string[] = [];
  const violations: string[] = [];
  const originOf = (r: ProducedRecord) => (r.headers?.[HEADER.originalTopic] === events ? r.headers[HEADER.originalOffset] : undefined);
  const acknowledge = (records: readonly ProducedRecord[]) => {
    for (const r of records) {
      const offset = originOf(r);
      if (offset !== undefined) acked.add(offset);
    }
  };
  const check = (point: CommitPoint) => {
    if (point.topic !== events) return;
    commits.push(point.offset);
    for (let o = 0n; o < BigInt(point.offset); o++) if (!acked.has(String(o))) violations.push(`commit ${point.offset} before offset ${o} was handed off`);
  };
  const kafka: KafkaClient = {
    ...real,
    async sink() {
      const sink = await real.sink();
      return { send: async (records) => (await sink.send(records), acknowledge(records)), disconnect: () => sink.disconnect() };
    },
    async transactionalSink(id) {
      const sink = await real.transactionalSink(id);
      return {
        disconnect: () => sink.disconnect(),
        async begin() {
          const tx = await sink.begin();
          const sent: ProducedRecord[] = [];
          const offsets: CommitPoint[] = [];
          return {
            send: async (records) => {
              await tx.send(records);
              sent.push(...records);
            },
            sendOffset: async (group, point) => {
              await tx.sendOffset(group, point);
              offsets.push(point);
            },
            abort: () => tx.abort(),
            async commit() {
              await tx.commit();
              acknowledge(sent);
              for (const point of offsets) check(point);
            },
          };
        },
      };
    },
    batchSource(options) {
      const source = real.batchSource(options);
      return { ...source, commit: async (point) => (check(point), source.commit(point)) };
    },
  };
  return { kafka, commits, violations };
}
