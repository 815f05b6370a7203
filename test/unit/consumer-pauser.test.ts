import { describe, expect, it } from 'vitest';
import { PartitionPauser, type PartitionControl } from '../../src/consumer/pauser.js';
import { FakeClock } from '../helpers/fake-clock.js';

function control() {
  const paused = new Set<string>();
  const seeks: string[] = [];
  const c: PartitionControl = {
    pause: (tps) => tps.forEach((tp) => tp.partitions.forEach((p) => paused.add(`${tp.topic}/${p}`))),
    resume: (tps) => tps.forEach((tp) => tp.partitions.forEach((p) => paused.delete(`${tp.topic}/${p}`))),
    seek: ({ topic, partition, offset }) => seeks.push(`${topic}/${partition}@${offset}`),
  };
  return { c, paused, seeks };
}

describe('PartitionPauser', () => {
  it('pauses only the held partition, seeks back and resumes at the due time', () => {
    const clock = new FakeClock();
    const { c, paused, seeks } = control();
    const pauser = new PartitionPauser({ control: c, clock });
    pauser.hold('r1', 2, '17', 1500);
    expect([...paused]).toEqual(['r1/2']);
    expect(seeks).toEqual(['r1/2@17']);
    clock.advance(499);
    expect(paused.has('r1/2')).toBe(true);
    clock.advance(1);
    expect(paused.size).toBe(0);
    expect(pauser.size).toBe(0);
  });

  it('resumes `leadMs` before the due time when given a lead', () => {
    const clock = new FakeClock();
    const { c, paused } = control();
    const pauser = new PartitionPauser({ control: c, clock, leadMs: 150 });
    pauser.hold('r1', 2, '17', 2000);
    expect(pauser.leadMs).toBe(150);
    clock.advance(849);
    expect(paused.has('r1/2')).toBe(true);
    clock.advance(1);
    expect(paused.size).toBe(0);
  });

  it('replaces an earlier hold of the same partition (idempotent)', () => {
    const clock = new FakeClock();
    const { c, paused } = control();
    const pauser = new PartitionPauser({ control: c, clock });
    pauser.hold('r1', 0, '1', 2000);
    pauser.hold('r1', 0, '1', 1200);
    expect(clock.timers.size).toBe(1);
    clock.advance(200);
    expect(paused.size).toBe(0);
  });

  it('drops timers and pauses of revoked partitions, keeps the others', () => {
    const clock = new FakeClock();
    const { c, paused } = control();
    const pauser = new PartitionPauser({ control: c, clock });
    pauser.hold('r1', 0, '1', 5000);
    pauser.hold('r1', 1, '1', 5000);
    pauser.retain({ r1: [1], events: [0, 1] });
    expect(pauser.isHeld('r1', 0)).toBe(false);
    expect(pauser.isHeld('r1', 1)).toBe(true);
    expect([...paused]).toEqual(['r1/1']);
    expect(clock.timers.size).toBe(1);
  });
});
