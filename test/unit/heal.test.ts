import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CatalogView } from '../../src/catalog/view.js';
import { findGaps } from '../../src/heal/gaps.js';
import { KeyedQueue } from '../../src/heal/queue.js';
import { partitionOf } from '../../src/kafka/index.js';
import { silentLogger } from '../../src/log/index.js';
import { SyncStateStore } from '../../src/state/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/git.js';

describe('partitionOf', () => {
  it("gives every key the partition kafkajs's default partitioner gives it", () => {
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'group/app.git', 'r/repo-ü.git', ...Array.from({ length: 200 }, (_, i) => `team-${i}/service-${i * 7}.git`)];
    for (const partitions of [1, 2, 3, 6, 12, 64]) {
      const metadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (const key of keys) {
        expect(partitionOf(key, partitions), `${key} over ${partitions}`).toBe(partitioner({ topic: 't', partitionMetadata: metadata, message: { key, value: null } }));
      }
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionOf('a', 0)).toThrow(RangeError);
  });
});

describe('findGaps', () => {
  const offsets = new Map([['events', [{ partition: 0, low: '5', high: '9' }, { partition: 1, low: '0', high: '3' }, { partition: 2, low: '4', high: '4' }]]]);
  it('finds a committed position below the log start, with how many offsets were lost', () => {
    const committed = new Map([['events', new Map([[0, '2'], [1, '1'], [2, '4']])]]);
    expect(findGaps({ events: [0, 1, 2] }, committed, offsets, true)).toEqual([{ topic: 'events', partition: 0, committed: 2n, logStart: 5n, lost: 3n }]);
  });
  it('counts a partition without a position as a gap only for a replica already bootstrapped', () => {
    const committed = new Map([['events', new Map([[0, '-1'], [1, '-1']])]]);
    expect(findGaps({ events: [0, 1, 2] }, committed, offsets, false)).toEqual([]);
    expect(findGaps({ events: [0, 1, 2] }, committed, offsets, true).map((g) => [g.partition, g.lost])).toEqual([
      [0, null],
      [2, null],
    ]);
  });
  it('looks only at the assigned partitions', () => {
    const committed = new Map([['events', new Map([[0, '2']])]]);
    expect(findGaps({ events: [1] }, committed, offsets, true)).toEqual([]);
  });
});

describe('KeyedQueue', () => {
  it('holds a key once however often it waits (once more when added while it runs), at most `concurrency` at once, spaced by minGapMs', async () => {
    const clock = new FakeClock();
    const started: Array<[string, number]> = [];
    const finish = new Map<string, () => void>();
    const queue = new KeyedQueue<number>({
      concurrency: 2,
      minGapMs: 10,
      clock,
      run: (key) => {
        started.push([key, clock.now()]);
        return new Promise<void>((resolve) => finish.set(key, resolve));
      },
    });
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key, 1);
    expect(started).toEqual([['a', 1000]]);
    clock.advance(10);
    expect(started.map(([k]) => k)).toEqual(['a', 'b']);
    clock.advance(50);
    expect(started).toHaveLength(2); // both slots busy
    finish.get('a')?.();
    await new Promise((r) => setImmediate(r));
    // 'a' was added again while it ran: it runs once more; 'b' added while waiting did not.
    expect(started.map(([k]) => k)).toEqual(['a', 'b', 'a']);
    finish.get('b')?.();
    await new Promise((r) => setImmediate(r));
    clock.advance(10);
    expect(started.map(([k]) => k)).toEqual(['a', 'b', 'a', 'c']);
    expect(started.map(([, at]) => at)).toEqual([1000, 1010, 1060, 1070]);
    finish.get('a')?.();
    finish.get('c')?.();
    await queue.idle();
    expect(queue.size).toBe(0);
  });

  it('drops an item for a key that runs now when asked to', async () => {
    const clock = new FakeClock();
    let runs = 0;
    let release: () => void = () => undefined;
    const queue = new KeyedQueue<number>({ concurrency: 1, minGapMs: 0, clock, dropWhileRunning: () => true, run: () => ((runs += 1), new Promise<void>((r) => (release = r))) });
    queue.add('a', 1);
    queue.add('a', 2);
    release();
    await queue.idle();
    expect(runs).toBe(1);
  });
});

describe('CatalogView', () => {
  const record = (repo: string, checksum = 'a'.repeat(40)) => Buffer.from(JSON.stringify({ v: 1, repo, checksum, refs: 1, updatedAt: '2026-01-01T00:00:00Z', primary: 'p', source: 'scan' }));
  const message = (key: string | null, value: Buffer | null) => ({ offset: '0', key: key === null ? null : Buffer.from(key), value, timestamp: '0', headers: {} });

  it('keeps the last record per repository, tombstones too, and skips malformed or hostile ones', () => {
    const view = new CatalogView(silentLogger());
    view.apply(message('a.git', record('a.git')));
    view.apply(message('b.git', record('b.git')));
    view.apply(message('b.git', null));
    view.apply(message('c.git', Buffer.from('{not json')));
    view.apply(message('../etc.git', record('../etc.git')));
    view.apply(message('d.git', record('other.git')));
    view.apply(message('a.git', Buffer.from(JSON.stringify({ v: 1, repo: 'a.git' }))));
    expect(view.repositories()).toEqual(['a.git']);
    expect(view.get('a.git')?.checksum).toBe('a'.repeat(40));
    expect(view.deleted('b.git')).toBe(true);
    expect(view.skipped).toBe(4);
  });

  it('tells listeners of changes only once it was read to its end', () => {
    const view = new CatalogView(silentLogger());
    const seen: string[] = [];
    view.onChange((c) => seen.push(`${c.repo}:${c.record ? 'record' : 'tombstone'}`));
    view.apply(message('a.git', record('a.git')));
    view.markLoaded();
    view.apply(message('a.git', null));
    expect(seen).toEqual(['a.git:tombstone']);
  });
});

describe('SyncStateStore', () => {
  it('records syncs, failures and verifications per repository, and they survive reopening', async () => {
    const root = await tempDir('pullrep-state-');
    const store = SyncStateStore.open(root);
    store.syncStarted('a.git', 1);
    expect(store.get('a.git')?.state).toBe('syncing');
    store.syncFailed('a.git', { errorClass: 'TransientFetchError', message: 'unreachable', stage: 0, at: 2, next: 'retrying', nextStage: 1 });
    expect(store.get('a.git')).toMatchObject({ state: 'retrying', stage: 1, lastFailure: { errorClass: 'TransientFetchError', stage: 0, at: 2 } });
    store.syncSucceeded('a.git', { at: 3, durationMs: 12, eventId: 'e1', publishedAt: 2 });
    store.verified('b.git', { at: 4, result: 'equal', checksum: 'c'.repeat(40), state: 'synced' });
    store.planBootstrap(['a.git', 'b.git']);
    store.bootstrapDone('a.git', 5);
    store.recordGap({ at: 6, topic: 'events', partition: 1, offsets: 3, repos: 2 });
    store.close();
    const again = SyncStateStore.openReadOnly(root);
    expect(again?.get('a.git')).toMatchObject({ state: 'synced', stage: null, lastEventId: 'e1', lastEventPublishedAt: 2, lastSyncAt: 3, lastSyncMs: 12 });
    expect(again?.get('b.git')).toMatchObject({ state: 'synced', lastVerifyResult: 'equal', lastVerifiedAt: 4 });
    expect(again?.bootstrapProgress()).toEqual({ total: 2, done: 1 });
    expect(again?.gaps()).toEqual([{ at: 6, topic: 'events', partition: 1, offsets: 3, repos: 2, healedAt: null }]);
    expect(Object.fromEntries(again?.counts() ?? [])).toEqual({ synced: 2 });
    again?.close();
  });
});

describe('SyncStateStore shared by the processes of a replica', () => {
  it('takes writes from several processes at once and each sees the others', async () => {
    const root = await tempDir('pullrep-state-');
    SyncStateStore.open(root).close();
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const store = fileURLToPath(new URL('../../src/state/store.ts', import.meta.url));
    // Three processes, 300 writes each, on their own repositories and one shared one.
    const script = `
      const { SyncStateStore } = await import(${JSON.stringify(store)});
      const s = SyncStateStore.open(process.argv[1]);
      for (let i = 0; i < 300; i++) { s.syncSucceeded('p' + process.argv[2] + '-' + (i % 30) + '.git', { at: i, durationMs: 1 }); s.syncStarted('shared.git', i); }
      s.close();`;
    const runs = [1, 2, 3].map(
      (n) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('close', resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    const read = SyncStateStore.openReadOnly(root);
    expect(read?.list().length).toBe(91);
    expect(read?.get('shared.git')?.state).toBe('syncing');
    read?.close();
  });
});

describe('co-partitioned assignment', () => {
  it('gives partition p of every topic to one member, every partition to exactly one', async () => {
    const { coPartitionedAssignment } = await import('../../src/kafka/copartitioned.js');
    const topics = new Map([
      ['events', [0, 1, 2, 3, 4]],
      ['events.r.retry.1', [4, 3, 2, 1, 0]],
      ['events.r.retry.2', [0, 1, 2, 3, 4]],
    ]);
    for (const members of [['a'], ['b', 'a'], ['c', 'a', 'b'], ['a', 'b', 'c', 'd', 'e', 'f', 'g']]) {
      const result = coPartitionedAssignment(members, topics);
      const owner = new Map<number, string>();
      let count = 0;
      for (const [member, assignment] of result) {
        for (const partitions of Object.values(assignment)) {
          for (const p of partitions) {
            count += 1;
            expect(owner.get(p) ?? member, `partition ${p} with ${members.length} members`).toBe(member);
            owner.set(p, member);
          }
        }
      }
      expect(count).toBe(15);
    }
  });
});
