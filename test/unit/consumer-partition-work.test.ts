import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/index.js';
import { PartitionPauser, type PartitionControl } from '../../src/consumer/pauser.js';
import { PartitionWork, type BatchInput } from '../../src/consumer/partition-work.js';
import type { BatchHooks } from '../../src/consumer/processor.js';
import type { InRecord } from '../../src/retry/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

function control() {
  const log: string[] = [];
  const paused = new Set<string>();
  const c: PartitionControl = {
    pause: (tps) => tps.forEach((tp) => tp.partitions.forEach((p) => (paused.add(`${tp.topic}/${p}`), log.push(`pause ${tp.topic}/${p}`)))),
    resume: (tps) => tps.forEach((tp) => tp.partitions.forEach((p) => (paused.delete(`${tp.topic}/${p}`), log.push(`resume ${tp.topic}/${p}`)))),
    seek: ({ topic, partition, offset }) => log.push(`seek ${topic}/${partition}@${offset}`),
  };
  return { c, log, paused };
}

const clock = { now: () => 1000, setTimer: () => 0, clearTimer: () => undefined };

function batch(topic: string, partition: number, offsets: number[]): BatchInput {
  return {
    batch: { topic, partition, messages: offsets.map((o) => ({ offset: String(o), key: null, value: null, timestamp: '0', headers: {} })) },
    heartbeat: async () => undefined,
  };
}

/** A processor whose batches finish when the test says so. */
function gatedProcessor(behaviour: (records: InRecord[], hooks: BatchHooks) => void = (r, h) => h.resolveOffset(r[r.length - 1]?.offset ?? '0')) {
  const gates: Array<() => void> = [];
  return {
    gates,
    process: (records: InRecord[], hooks: BatchHooks) =>
      new Promise<void>((resolve) => {
        gates.push(() => {
          behaviour(records, hooks);
          resolve();
        });
      }),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function setup(limit = 4, behaviour?: Parameters<typeof gatedProcessor>[0]) {
  const { c, log, paused } = control();
  const processor = gatedProcessor(behaviour);
  const pauser = new PartitionPauser({ control: c, clock });
  const work = new PartitionWork({ consumer: c, processor, pauser, clock, logger: silentLogger(), limit });
  work.assign({ ev: [0, 1] });
  log.length = 0;
  return { work, processor, log, paused };
}

describe('PartitionWork', () => {
  it('returns at once with the partition paused, then moves it past the batch and resumes it', async () => {
    const { work, processor, log, paused } = setup();
    await work.onBatch(batch('ev', 0, [5, 6]));
    expect(paused.has('ev/0')).toBe(true);
    expect(work.active).toBe(1);
    processor.gates[0]?.();
    await settle();
    expect(log).toEqual(['pause ev/0', 'seek ev/0@7', 'resume ev/0']);
    expect(work.active).toBe(0);
  });

  it('leaves a held partition paused', async () => {
    const { work, processor, paused } = setup(4, (_r, h) => h.hold('5', 5000));
    await work.onBatch(batch('ev', 0, [5]));
    processor.gates[0]?.();
    await settle();
    expect(paused.has('ev/0')).toBe(true);
  });

  it('does not hand off or move a partition that was revoked meanwhile', async () => {
    let owned: boolean | undefined;
    const { work, processor, log } = setup(4, (r, h) => {
      owned = h.owned?.();
      h.resolveOffset(r[0]?.offset ?? '0');
    });
    await work.onBatch(batch('ev', 1, [3]));
    work.assign({ ev: [0] });
    processor.gates[0]?.();
    await settle();
    expect(owned).toBe(false);
    expect(log.filter((l) => l.startsWith('seek'))).toEqual([]);
    expect(log).toContain('resume ev/1');
  });

  it('runs at most `limit` batches and makes the client wait beyond that', async () => {
    const { work, processor } = setup(1);
    await work.onBatch(batch('ev', 0, [1]));
    let second = false;
    const pending = work.onBatch(batch('ev', 1, [1])).then(() => (second = true));
    await settle();
    expect(second).toBe(false);
    processor.gates[0]?.();
    await pending;
    expect(work.active).toBe(1);
  });

  it('drains: takes no more batches and waits for the running ones', async () => {
    const { work, processor } = setup();
    await work.onBatch(batch('ev', 0, [1]));
    let drained = false;
    const draining = work.drain().then(() => (drained = true));
    await work.onBatch(batch('ev', 1, [1]));
    expect(work.active).toBe(1);
    await settle();
    expect(drained).toBe(false);
    processor.gates[0]?.();
    await draining;
    expect(drained).toBe(true);
  });

  it('pauses again a running partition that the client delivers anyway (it forgets pauses when it restarts)', async () => {
    const { work, processor, paused, log } = setup();
    await work.onBatch(batch('ev', 0, [1]));
    paused.delete('ev/0');
    await work.onBatch(batch('ev', 0, [1]));
    expect(paused.has('ev/0')).toBe(true);
    expect(processor.gates).toHaveLength(1);
    processor.gates[0]?.();
    await settle();
    expect(paused.has('ev/0')).toBe(false);
    expect(log.at(-1)).toBe('resume ev/0');
  });

  it('takes no batch that was waiting for a slot when the drain began', async () => {
    const { work, processor, log } = setup(1);
    await work.onBatch(batch('ev', 0, [1]));
    const waiting = work.onBatch(batch('ev', 1, [1]));
    const draining = work.drain();
    processor.gates[0]?.();
    await waiting;
    await draining;
    expect(processor.gates).toHaveLength(1);
    expect(log).not.toContain('pause ev/1');
    expect(work.active).toBe(0);
  });

  it('resumes nothing on a rebalance during shutdown', async () => {
    const { work, processor, log } = setup();
    await work.onBatch(batch('ev', 0, [1]));
    const draining = work.drain();
    work.assign({ ev: [0, 1, 2] });
    processor.gates[0]?.();
    await draining;
    expect(log.filter((l) => l.startsWith('resume'))).toEqual([]);
  });

  it('runs one batch of a partition at a time, even when two waited for a slot', async () => {
    const { work, processor } = setup(2);
    await work.onBatch(batch('ev', 0, [1]));
    await work.onBatch(batch('ev', 2, [1]));
    const first = work.onBatch(batch('ev', 1, [1]));
    const second = work.onBatch(batch('ev', 1, [1]));
    // Both slots free up at once.
    processor.gates[0]?.();
    processor.gates[1]?.();
    await Promise.all([first, second]);
    expect(processor.gates).toHaveLength(3);
    expect(work.active).toBe(1);
    processor.gates[2]?.();
    await work.drain();
  });
});

/** Settles the records that are due on the clock and holds the first that is not, as the processor does. */
function dueProcessor(clock: FakeClock, dueAt: Record<string, number>) {
  const calls: Array<{ at: number; offsets: string[] }> = [];
  const process = async (records: InRecord[], hooks: BatchHooks) => {
    calls.push({ at: clock.now(), offsets: records.map((r) => r.offset) });
    const waiting = records.find((r) => (dueAt[r.offset] ?? 0) > clock.now());
    const done = records.filter((r) => BigInt(r.offset) < BigInt(waiting?.offset ?? '99999999'));
    const last = done[done.length - 1];
    if (last) hooks.resolveOffset(last.offset);
    if (waiting) hooks.hold(waiting.offset, dueAt[waiting.offset] ?? 0);
  };
  return { calls, process };
}

function setupWithLead(dueAt: Record<string, number>) {
  const clock = new FakeClock();
  const { c, log, paused } = control();
  const processor = dueProcessor(clock, dueAt);
  const pauser = new PartitionPauser({ control: c, clock, leadMs: 150 });
  const work = new PartitionWork({ consumer: c, processor, pauser, clock, logger: silentLogger(), limit: 4 });
  work.assign({ ev: [0, 1] });
  log.length = 0;
  return { clock, work, processor, pauser, log, paused };
}

describe('PartitionWork with a resume lead', () => {
  it('keeps records fetched ahead of their due time and processes them at that time, without pausing again', async () => {
    const { clock, work, processor, pauser, log, paused } = setupWithLead({ '6': 1100, '7': 1100 });
    await work.onBatch(batch('ev', 0, [5, 6, 7]));
    await settle();
    expect(processor.calls).toEqual([{ at: 1000, offsets: ['5', '6', '7'] }]);
    expect(pauser.isHeld('ev', 0)).toBe(false);
    clock.advance(99);
    await settle();
    expect(processor.calls).toHaveLength(1);
    expect(paused.has('ev/0')).toBe(true);
    clock.advance(1);
    await settle();
    expect(processor.calls[1]).toEqual({ at: 1100, offsets: ['6', '7'] });
    expect(log).toEqual(['pause ev/0', 'seek ev/0@8', 'resume ev/0']);
    expect(work.active).toBe(0);
  });

  it('hands a due time beyond the lead to the pauser, which resumes the partition that much earlier', async () => {
    const { clock, work, pauser, log, paused } = setupWithLead({ '5': 5000 });
    await work.onBatch(batch('ev', 0, [5]));
    await settle();
    expect(pauser.isHeld('ev', 0)).toBe(true);
    expect(log).toEqual(['pause ev/0', 'seek ev/0@5', 'pause ev/0']);
    expect(work.active).toBe(0);
    clock.advance(5000 - 150 - 1000 - 1);
    expect(paused.has('ev/0')).toBe(true);
    clock.advance(1);
    expect(paused.has('ev/0')).toBe(false);
  });

  it('leaves the waiting records to the new owner when the partition is revoked meanwhile', async () => {
    const { clock, work, processor, log } = setupWithLead({ '5': 1100 });
    await work.onBatch(batch('ev', 0, [5]));
    await settle();
    work.assign({ ev: [1] });
    clock.advance(100);
    await settle();
    expect(processor.calls).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('seek'))).toEqual([]);
    expect(log.at(-1)).toBe('resume ev/0');
  });

  it('processes no waiting records once shutdown began', async () => {
    const { clock, work, processor, log } = setupWithLead({ '5': 1100 });
    await work.onBatch(batch('ev', 0, [5]));
    await settle();
    const draining = work.drain();
    clock.advance(100);
    await draining;
    expect(processor.calls).toHaveLength(1);
    expect(log).toEqual(['pause ev/0']);
  });
});
