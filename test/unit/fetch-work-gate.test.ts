import { describe, expect, it } from 'vitest';
import { WorkGate } from '../../src/fetch/work-gate.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkGate', () => {
  it('serializes one key and bounds all keys', async () => {
    const gate = new WorkGate(2);
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const task = (key: string, id: string) =>
      gate.run(key, async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(`start ${id}`);
        const d = deferred();
        gates.set(id, d);
        await d.promise;
        order.push(`end ${id}`);
        running -= 1;
        return id;
      });
    const all = Promise.all([task('a', 'a1'), task('a', 'a2'), task('b', 'b1'), task('c', 'c1')]);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['start a1', 'start b1']);
    gates.get('a1')?.resolve();
    await new Promise((r) => setImmediate(r));
    expect(order).toContain('start c1');
    expect(order).not.toContain('start a2');
    gates.get('b1')?.resolve();
    await new Promise((r) => setImmediate(r));
    expect(order).toContain('start a2');
    gates.get('c1')?.resolve();
    gates.get('a2')?.resolve();
    expect(await all).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(peak).toBe(2);
    await gate.idle();
    // Every slot is free again: two more tasks start at once.
    const free: string[] = [];
    await Promise.all([gate.run('x', async () => void free.push('x')), gate.run('y', async () => void free.push('y'))]);
    expect(free.sort()).toEqual(['x', 'y']);
  });

  it('a failing task releases its turn and slot', async () => {
    const gate = new WorkGate(1);
    await expect(gate.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run('a', async () => 'next')).toBe('next');
  });
});
