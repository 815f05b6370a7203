import { describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent, type RefEvent } from '../../src/events/index.js';
import { Registry } from 'prom-client';
import { PermanentFetchError, TransientFetchError, type Fetcher, type SyncResult } from '../../src/fetch/index.js';
import type { CommitPoint } from '../../src/kafka/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { HandOff } from '../../src/consumer/handoff.js';
import { createReplicaMetrics } from '../../src/consumer/metrics.js';
import { BatchProcessor, type ProcessorDeps } from '../../src/consumer/processor.js';
import type { InRecord, OutRecord } from '../../src/retry/index.js';
import { HEADER, ladderTopics, type RetryPolicy } from '../../src/retry/index.js';

const NOW = 1_700_000_000_000;
const policy: RetryPolicy = { stages: 2, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 10_000, maxRetryPeriodMs: 60_000 };
const topics = ladderTopics('ev', 'r1', 2);
const OID = 'a'.repeat(40);

const result = (repo: string): SyncResult => ({ repo, fetched: [], deleted: [], upToDate: [], created: false, recloned: false, durationMs: 1 });

function fakeFetcher(failures: Record<string, Error>): Fetcher & { calls: string[] } {
  const calls: string[] = [];
  const run = async (repo: string, what: string) => {
    calls.push(`${what}:${repo}`);
    const err = failures[repo];
    if (err) throw err;
    return result(repo);
  };
  return {
    calls,
    syncRefs: (repo, refs) => run(repo, `refs(${refs.join(',')})`),
    syncRepository: (repo) => run(repo, 'repository'),
    deleteRepository: async (repo) => (await run(repo, 'delete'), { deleted: true }),
    close: async () => undefined,
  };
}

function fakeHandOff(fail = false): HandOff & { log: Array<{ records: OutRecord[]; commit: CommitPoint }> } {
  const log: Array<{ records: OutRecord[]; commit: CommitPoint }> = [];
  return {
    log,
    deliver: async (records, commit, stillOwned) => {
      if (fail) throw new Error('broker unreachable');
      if (stillOwned && !stillOwned()) return false;
      log.push({ records, commit });
      return true;
    },
    close: async () => undefined,
  };
}

function record(topic: string, offset: number, value: Buffer | null, extra: Partial<InRecord> = {}): InRecord {
  return { topic, partition: 0, offset: String(offset), key: Buffer.from('k'), value, timestamp: NOW, headers: {}, ...extra };
}
const event = (repo: string) => encodeEvent(makeEvent<RefEvent>({ kind: 'refs-updated', repo, origin: 'p', refs: [{ ref: 'refs/heads/main', old: OID, new: OID }] } as never));

function setup(fetcher: Fetcher, handOff: HandOff, extra: Partial<ProcessorDeps> = {}) {
  const processor = new BatchProcessor({
    fetcher,
    handOff,
    policy,
    topics,
    replica: 'r1',
    applyDeletes: false,
    clock: { now: () => NOW, setTimer: () => 0, clearTimer: () => undefined },
    logger: silentLogger(),
    metrics: createReplicaMetrics(new Registry(), () => 0),
    heartbeatMs: 1000,
    abort: new AbortController().signal,
    ...extra,
  });
  const resolved: string[] = [];
  const holds: Array<[string, number]> = [];
  const hooks = { heartbeat: async () => undefined, resolveOffset: (o: string) => resolved.push(o), hold: (o: string, d: number) => holds.push([o, d]) };
  return { processor, hooks, resolved, holds };
}

describe('BatchProcessor', () => {
  it('syncs each repository once and commits past the batch', async () => {
    const fetcher = fakeFetcher({});
    const handOff = fakeHandOff();
    const { processor, hooks, resolved } = setup(fetcher, handOff);
    await processor.process([record('ev', 5, event('x')), record('ev', 6, event('y')), record('ev', 7, event('x'))], hooks);
    expect(fetcher.calls.sort()).toEqual(['refs(refs/heads/main):x', 'refs(refs/heads/main):y']);
    expect(handOff.log).toEqual([{ records: [], commit: { topic: 'ev', partition: 0, offset: '8' } }]);
    expect(resolved).toEqual(['7']);
  });

  it('hands a failing repository to stage 1 with headers while a healthy one commits', async () => {
    const fetcher = fakeFetcher({ bad: new TransientFetchError('connection refused', 'connection') });
    const handOff = fakeHandOff();
    const { processor, hooks } = setup(fetcher, handOff);
    await processor.process([record('ev', 0, event('bad')), record('ev', 1, event('good'))], hooks);
    const [delivery] = handOff.log;
    expect(delivery?.commit.offset).toBe('2');
    expect(delivery?.records).toHaveLength(1);
    const out = delivery?.records[0];
    expect(out?.topic).toBe('ev.r1.retry.1');
    expect(out?.partition).toBe(0);
    expect(out?.headers[HEADER.attempt]).toBe('1');
    expect(out?.headers[HEADER.errorClass]).toBe('TransientFetchError');
    expect(out?.headers[HEADER.originalOffset]).toBe('0');
    expect(out?.headers[HEADER.replica]).toBe('r1');
  });

  it('sends permanent failures and undecodable records to the failed topic', async () => {
    const fetcher = fakeFetcher({ gone: new PermanentFetchError('invalid ref', 'invalid') });
    const handOff = fakeHandOff();
    const { processor, hooks } = setup(fetcher, handOff);
    await processor.process([record('ev', 0, event('gone')), record('ev', 1, Buffer.from('{garbage'))], hooks);
    const out = handOff.log[0]?.records ?? [];
    expect(out.map((r) => [r.topic, r.headers[HEADER.reason], r.headers[HEADER.errorClass]])).toEqual([
      ['ev.r1.failed', 'undecodable', 'EventDecodeError'],
      ['ev.r1.failed', 'permanent', 'PermanentFetchError'],
    ]);
    expect(new Set(out.map((r) => r.key)).size).toBe(2);
  });

  it('fails an event whose last stage fails', async () => {
    const fetcher = fakeFetcher({ bad: new TransientFetchError('HTTP 503', 'server') });
    const handOff = fakeHandOff();
    const { processor, hooks } = setup(fetcher, handOff);
    const headers = { [HEADER.attempt]: '2', [HEADER.firstFailureAt]: String(NOW - 5000) };
    await processor.process([record('ev.r1.retry.2', 3, event('bad'), { timestamp: NOW - 2000, headers })], hooks);
    const out = handOff.log[0]?.records[0];
    expect(out?.topic).toBe('ev.r1.failed');
    expect(out?.headers[HEADER.reason]).toBe('exhausted');
    expect(out?.headers[HEADER.attempt]).toBe('3');
    expect(out?.headers[HEADER.firstFailureAt]).toBe(String(NOW - 5000));
  });

  it('processes the due records of a retry partition and holds it at the first one not due', async () => {
    const fetcher = fakeFetcher({});
    const handOff = fakeHandOff();
    const { processor, hooks, holds, resolved } = setup(fetcher, handOff);
    await processor.process(
      [
        record('ev.r1.retry.1', 10, event('x'), { timestamp: NOW - 1500 }),
        record('ev.r1.retry.1', 11, event('y'), { timestamp: NOW - 200 }),
        record('ev.r1.retry.1', 12, event('z'), { timestamp: NOW - 2000 }),
      ],
      hooks,
    );
    expect(fetcher.calls).toEqual(['refs(refs/heads/main):x']);
    expect(resolved).toEqual(['10']);
    expect(holds).toEqual([['11', NOW - 200 + 1000]]);
  });

  it('clamps a due time carried in a header to the stage delay', async () => {
    const fetcher = fakeFetcher({});
    const { processor, hooks, holds } = setup(fetcher, fakeHandOff());
    await processor.process([record('ev.r1.retry.1', 0, event('x'), { headers: { [HEADER.dueAt]: String(NOW + 3600_000) } })], hooks);
    expect(holds).toEqual([['0', NOW + 1000]]);
  });

  it('leaves a batch to the new owner when the partition moved during the syncs', async () => {
    const fetcher = fakeFetcher({ bad: new TransientFetchError('x', 'connection') });
    const handOff = fakeHandOff();
    const { processor, hooks, resolved } = setup(fetcher, handOff);
    await processor.process([record('ev', 0, event('bad'))], { ...hooks, owned: () => false });
    expect(handOff.log).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('commits nothing when the partition moves while the hand-off is being produced', async () => {
    const fetcher = fakeFetcher({ bad: new TransientFetchError('x', 'connection') });
    const handOff = fakeHandOff();
    const { processor, hooks, resolved } = setup(fetcher, handOff);
    let asked = 0;
    // Owned when the syncs end, gone by the time the commit would be sent.
    await processor.process([record('ev', 0, event('bad'))], { ...hooks, owned: () => ++asked < 2 });
    expect(asked).toBe(2);
    expect(handOff.log).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('commits the events of repositories this replica does not select without syncing, recording or handing them on', async () => {
    const fetcher = fakeFetcher({ other: new TransientFetchError('never asked', 'connection') });
    const handOff = fakeHandOff();
    const registry = new Registry();
    const seen: string[] = [];
    const state = new Proxy({}, { get: (_t, method) => (repo: string) => seen.push(`${String(method)}:${repo}`) }) as ProcessorDeps['state'];
    const { processor, hooks, resolved } = setup(fetcher, handOff, { selects: (repo) => repo !== 'other', metrics: createReplicaMetrics(registry, () => 0), state });
    await processor.process([record('ev', 3, event('x')), record('ev', 4, event('other')), record('ev', 5, event('other'))], hooks);
    expect(fetcher.calls).toEqual(['refs(refs/heads/main):x']);
    expect(handOff.log).toEqual([{ records: [], commit: { topic: 'ev', partition: 0, offset: '6' } }]);
    expect(resolved).toEqual(['5']);
    expect(seen.filter((s) => s.endsWith(':other'))).toEqual([]);
    expect(await registry.metrics()).toContain('pullrep_events_skipped_total{reason="not-selected"} 2');
  });

  it('commits a retry record of a repository not selected at once, without waiting for its delay', async () => {
    const fetcher = fakeFetcher({});
    const handOff = fakeHandOff();
    const { processor, hooks, resolved, holds } = setup(fetcher, handOff, { selects: (repo) => repo !== 'other' });
    await processor.process(
      [
        record('ev.r1.retry.1', 20, event('other'), { timestamp: NOW }),
        record('ev.r1.retry.1', 21, event('y'), { timestamp: NOW - 200 }),
        record('ev.r1.retry.1', 22, event('other'), { timestamp: NOW }),
      ],
      hooks,
    );
    expect(fetcher.calls).toEqual([]);
    expect(handOff.log).toEqual([{ records: [], commit: { topic: 'ev.r1.retry.1', partition: 0, offset: '21' } }]);
    expect(resolved).toEqual(['20']);
    expect(holds).toEqual([['21', NOW - 200 + 1000]]);
  });

  it('commits nothing when the hand-off fails', async () => {
    const fetcher = fakeFetcher({ bad: new TransientFetchError('x', 'connection') });
    const { processor, hooks, resolved } = setup(fetcher, fakeHandOff(true));
    await expect(processor.process([record('ev', 0, event('bad'))], hooks)).rejects.toThrow('broker unreachable');
    expect(resolved).toEqual([]);
  });
});
