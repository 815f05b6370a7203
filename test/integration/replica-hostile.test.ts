import { CompressionTypes } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent, type RefEvent } from '../../src/events/index.js';
import { HEADER } from '../../src/retry/index.js';
import { existsSync } from 'node:fs';
import { git, pushCommit, readRefs } from '../helpers/git.js';
import { readOutstanding } from '../../src/failed/index.js';
import { createTopic, kcatProduce, readTopic, testClient } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const ZERO = '0'.repeat(40);

describe('pullrep replica: records that must not stall a partition', () => {
  it('a header without a value on a retry topic is read as a fresh attempt; the record is applied and the partition moves on', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const stage1 = fx.topics.retry[0] ?? '';
    const value = encodeEvent(fx.refsEvent(repo.name, { 'refs/heads/main': head }));
    await kcatProduce(stage1, { partition: 0, key: repo.name, value, headers: [HEADER.attempt, `${HEADER.errors}`, `${HEADER.dueAt}=`] });
    await fx.converged(repo);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, stage1)) === 1n, { what: 'the stage 1 offset to be committed' });
  });

  it('a header without a value on the failed topic: failed list, show and status still work', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    const id = 'f0123456789abcde';
    await kcatProduce(fx.topics.failed, { key: id, value: '{"v":1}', headers: [HEADER.reason, HEADER.attempt, HEADER.originalOffset] });
    const listed = JSON.parse(await pullrep(fx, ['failed', 'list', '--json'])) as Array<{ id: string; reason: string }>;
    expect(listed).toEqual([expect.objectContaining({ id, reason: 'unknown' })]);
    expect(await pullrep(fx, ['failed', 'show', id])).toContain(id);
    expect(await pullrep(fx, ['status'])).toContain('outstanding failures 1');
    // And it can be replayed or resolved like any other.
    await kcatProduce(fx.topics.failed, { key: 'f0123456789abcdf', value: '{"v":1}', headers: [HEADER.reason, HEADER.originalPartition] });
    expect(await pullrep(fx, ['failed', 'replay', id])).toContain('1 replayed');
    expect(await pullrep(fx, ['failed', 'resolve', 'f0123456789abcdf'])).toContain('1 resolved');
    // Both are gone from the list (the replayed value, undecodable, failed again under a new id).
    const left = (JSON.parse(await pullrep(fx, ['failed', 'list', '--json'])) as Array<{ id: string }>).map((e) => e.id);
    expect(left).not.toContain(id);
    expect(left).not.toContain('f0123456789abcdf');
  });

  it('an event the topic accepted but that is too large to hand on with headers: a small failure record, and the event behind it is applied', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    await fx.produce(Buffer.alloc(1_048_400, 'x'), 'huge');
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'both offsets to be committed' });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    expect(new Set(failed.map((r) => r.key)).size).toBe(1);
    // Bound for the failed topic anyway (it is undecodable): its reason, and what was left out.
    expect(failed[0]?.headers[HEADER.reason]).toBe('undecodable');
    expect(failed[0]?.headers[HEADER.omitted]).toBe('1048400');
    expect(failed[0]?.headers[HEADER.originalOffset]).toBe('0');
    expect(failed[0]?.value ?? '').toBe('');
  });

  it("a retry topic that takes less than the events topic: the event too large for it is settled as a small failure record, the rest flow", async () => {
    fx = await replicaFixture({ partitions: 1 });
    const stage1 = fx.topics.retry[0] ?? '';
    await createTopic(undefined, stage1, 1, { 'message.timestamp.type': 'LogAppendTime', 'max.message.bytes': '6000' });
    await fx.startReplica();
    fx.server.failWith = 503;
    const big = await fx.newRepo();
    const refs = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`refs/heads/branch-${i}`, 'b'.repeat(40)]));
    const value = encodeEvent(fx.refsEvent(big.name, refs));
    expect(value.length).toBeGreaterThan(6000);
    await fx.produce(value, big.name);
    const small = await fx.newRepo();
    const head = await pushCommit(small.primary, 'main');
    await fx.produce(fx.refsEvent(small.name, { 'refs/heads/main': head }), small.name);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'both events to be settled' });
    const [failed] = await readTopic(fx.kafka, fx.topics.failed, { atLeast: 1 });
    expect(failed?.headers[HEADER.reason]).toBe('oversized');
    expect(failed?.headers[HEADER.omitted]).toBe(String(value.length));
    expect(failed?.headers[HEADER.repo]).toBe(big.name);
    // The small one went down the ladder as usual, and converges once the primary is back.
    fx.server.failWith = undefined;
    await fx.converged(small);
  });

  it('6,000 junk records on one partition: 6,000 failure records, handed on in requests the broker accepts', async () => {
    fx = await replicaFixture({ partitions: 1 });
    const junk = Array.from({ length: 6000 }, (_, i) => ({ key: `junk-${i}`, value: `not an event ${i} ${'j'.repeat(100)}` }));
    for (let i = 0; i < junk.length; i += 1000) await fx.send({ topic: fx.topics.events, messages: junk.slice(i, i + 1000) });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.startReplica();
    await fx.converged(repo, 60_000);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 6001n, { timeoutMs: 60_000, what: 'every offset to be committed' });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    expect(new Set(failed.map((r) => r.key)).size).toBe(6000);
    expect(failed.every((r) => r.headers[HEADER.reason] === 'undecodable')).toBe(true);
  }, 120_000);

  it('an ordinary outage: 3,000 events of one repository wait while the primary is down; all enter the ladder, then converge', async () => {
    fx = await replicaFixture({ partitions: 1 });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const events = Array.from({ length: 3000 }, (_, i) =>
      encodeEvent(makeEvent<RefEvent>({ kind: 'refs-updated', repo: repo.name, origin: 'primary', refs: Array.from({ length: 5 }, (_, r) => ({ ref: `refs/heads/b${i % 50}-${r}`, old: ZERO, new: head })) } as never)),
    );
    for (let i = 0; i < events.length; i += 500) await fx.send({ topic: fx.topics.events, messages: events.slice(i, i + 500).map((value) => ({ key: repo.name, value })) });
    fx.server.failWith = 503;
    await fx.startReplica();
    const f = fx;
    // Every event is handed to stage 1 and its offset committed: nothing waits on the events topic.
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 3000n, { timeoutMs: 60_000, what: 'the events offsets to be committed' });
    const admin = fx.kafka.admin();
    await admin.connect();
    const [stage1] = await admin.fetchTopicOffsets(fx.topics.retry[0] ?? '').finally(() => admin.disconnect());
    expect(Number(stage1?.high)).toBeGreaterThanOrEqual(3000);
    fx.server.failWith = undefined;
    await fx.converged(repo, 60_000);
  }, 120_000);

  it('an event whose ref has a component too long for a file name is refused alone; the good event behind it is applied', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    const bad = { ...fx.refsEvent(repo.name, { [`refs/heads/${'c'.repeat(300)}`]: head }) };
    await fx.produce(Buffer.from(JSON.stringify(bad)), repo.name);
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'both offsets to be committed' });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.headers[HEADER.reason]).toBe('undecodable');
    expect(failed[0]?.headers[HEADER.errorMessage]).toContain('longer than 250 bytes');
  });

  it('with replica.applyDeletes, a deletion removes only a repository pullrep replicated, never a parent or a part of one', async () => {
    fx = await replicaFixture({ partitions: 1, overrides: { 'replica.applyDeletes': true } });
    await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    const parent = repo.name.split('/')[0] ?? '';
    const deletion = (name: string) => makeEvent<RefEvent>({ kind: 'repo-deleted', repo: name, origin: 'primary' } as never);
    await fx.produce(deletion(parent), parent);
    await fx.produce(deletion(`${repo.name}/objects`), `${repo.name}/objects`);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 3n, { what: 'the deletions to be settled' });
    // The repository and its objects are untouched; both deletions were refused, visibly.
    expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    await git(['fsck', '--no-progress'], { cwd: repo.replica });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    expect(failed.map((r) => r.headers[HEADER.repo]).sort()).toEqual([parent, `${repo.name}/objects`].sort());
    expect(failed.map((r) => r.headers[HEADER.errorMessage]).join(' ')).toMatch(/not a repository on this replica.*inside the repository|inside the repository.*not a repository on this replica/);
    // A real deletion still works.
    await fx.produce(deletion(repo.name), repo.name);
    await waitFor(() => !existsSync(repo.replica), { what: 'the repository to be deleted' });
  });

  it("one repository never gets two copies: an event for 'a' when the replica has 'a.git' is refused", async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo);
    const bare = repo.name.replace(/\.git$/, '');
    // The primary's server would serve 'a.git' for 'a' (it guesses the suffix).
    await fx.produce(fx.refsEvent(bare, { 'refs/heads/main': head }), bare);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 2n, { what: 'the second event to be settled' });
    expect(existsSync(repo.replica.replace(/\.git$/, ''))).toBe(false);
    const [failed] = await readTopic(fx.kafka, fx.topics.failed);
    expect(failed?.headers[HEADER.reason]).toBe('permanent');
    expect(failed?.headers[HEADER.errorMessage]).toContain('is replicated here as');
  });

  it('a gzip bomb and a record with 25,000 headers are settled once each; the event behind them is applied', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    // 100 MB of zeros in one record: about 100 KB on the wire.
    await fx.send({ topic: fx.topics.events, compression: CompressionTypes.GZIP, messages: [{ key: 'bomb', value: Buffer.alloc(100 * 1024 * 1024) }] });
    const headers = Object.fromEntries(Array.from({ length: 25_000 }, (_, i) => [`h${i}`, 'v']));
    await fx.send({ topic: fx.topics.events, messages: [{ key: 'headers', value: '{"v":1}', headers }] });
    const repo = await fx.newRepo();
    const head = await pushCommit(repo.primary, 'main');
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await fx.converged(repo, 60_000);
    const f = fx;
    await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 3n, { what: 'every offset to be committed' });
    const failed = await readTopic(fx.kafka, fx.topics.failed);
    const messages = failed.map((r) => r.headers[HEADER.errorMessage] ?? '');
    expect(messages.some((m) => m.includes('decompresses to more than'))).toBe(true);
    expect(messages.some((m) => m.startsWith('event.kind'))).toBe(true);
    expect(new Set(failed.map((r) => r.key)).size).toBe(2);
    // Memory while such records drain is measured by bench/hostile.bench.ts, in a process of its own.
  }, 120_000);

  it('failed keys are read exactly: two byte keys that decode alike are two entries, and resolving one touches only it', async () => {
    fx = await replicaFixture({ partitions: 1 });
    await fx.startReplica();
    const keys = [Buffer.from([0x66, 0xff]), Buffer.from([0x66, 0xfe]), Buffer.from('f\ufffd')];
    await fx.send({ topic: fx.topics.failed, messages: keys.map((key) => ({ key, value: '{"v":1}' })) });
    const list = async () => (JSON.parse(await pullrep(fx as ReplicaFixture, ['failed', 'list', '--json'])) as Array<{ id: string }>).map((e) => e.id).sort();
    expect(await list()).toEqual(['f\ufffd', 'hex:66fe', 'hex:66ff'].sort());
    expect(await pullrep(fx, ['failed', 'resolve', 'hex:66ff'])).toContain('1 resolved');
    expect(await list()).toEqual(['f\ufffd', 'hex:66fe'].sort());
  });

  it('failed list keeps no event in memory; show keeps only the one it shows, and shows any value', async () => {
    fx = await replicaFixture({ partitions: 1 });
    for (let i = 0; i < 20; i++) await fx.send({ topic: fx.topics.failed, messages: [{ key: `f${String(i).padStart(15, '0')}`, value: Buffer.alloc(900 * 1024, 'v') }] });
    // Deep JSON on the events topic takes the normal way to the failed topic: undecodable.
    await fx.startReplica();
    await fx.produce(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), 'deep');
    const f = fx;
    await waitFor(async () => (await readTopic(f.kafka, f.topics.failed)).length === 21, { what: 'the deep value on the failed topic' });
    const known = new Set(Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(15, '0')}`));
    const deepId = (await readTopic(fx.kafka, fx.topics.failed)).find((r) => r.key !== null && !known.has(r.key))?.key ?? '';
    const entries = await readOutstanding(testClient(), { topic: fx.topics.failed, stages: 2 });
    expect(entries).toHaveLength(21);
    expect(entries.every((e) => e.value === null)).toBe(true);
    expect(entries.filter((e) => e.valueBytes === 900 * 1024)).toHaveLength(20);
    const shown = await readOutstanding(testClient(), { topic: fx.topics.failed, stages: 2, keepValue: (e) => e.id === deepId });
    expect(shown.filter((e) => e.value !== null).map((e) => e.id)).toEqual([deepId]);
    const deep = JSON.parse(await pullrep(fx, ['failed', 'show', deepId])) as { event: { bytes: number } };
    expect(deep.event.bytes).toBe(200_000);
  });
});
