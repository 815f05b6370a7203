import type { Clock } from '../../src/consumer/clock.js';

/** A clock whose time moves only when the test advances it; due timers fire in order of time. */
export class FakeClock implements Clock {
  time = 1000;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.time;
  setTimer = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };
  clearTimer = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  advance(ms: number): void {
    this.time += ms;
    const due = [...this.timers].filter(([, t]) => t.at <= this.time).sort(([, a], [, b]) => a.at - b.at);
    for (const [id, t] of due) {
      this.timers.delete(id);
      t.fn();
    }
  }
}
