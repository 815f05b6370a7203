import type { Clock } from './clock.js';

/** What the pauser needs from the consumer. */
export interface PartitionControl {
  pause(topics: Array<{ topic: string; partitions: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions: number[] }>): void;
  seek(position: { topic: string; partition: number; offset: string }): void;
}

interface Hold {
  handle: unknown;
  dueAt: number;
}

/**
 * Holds a topic-partition whose next record is not due yet: pauses only that partition, puts its
 * position back on that record (so it is delivered again) and resumes it `leadMs` before the due
 * time. No handler waits; every other partition keeps flowing. Partitions that leave this member
 * forget their timers; resuming is idempotent.
 *
 * The lead covers the fetch already in flight when the partition resumes (the client adds a
 * resumed partition only to its next fetch request), so the record is back in memory by its due
 * time; whoever receives it early waits out the rest (see PartitionWork).
 */
export class PartitionPauser {
  private readonly holds = new Map<string, Hold>();

  constructor(
    private readonly deps: { control: PartitionControl; clock: Clock; leadMs?: number },
  ) {}

  hold(topic: string, partition: number, offset: string, dueAt: number): void {
    const key = keyOf(topic, partition);
    this.drop(key);
    this.deps.control.seek({ topic, partition, offset });
    this.deps.control.pause([{ topic, partitions: [partition] }]);
    const handle = this.deps.clock.setTimer(() => this.release(topic, partition), dueAt - this.leadMs - this.deps.clock.now());
    this.holds.set(key, { handle, dueAt });
  }

  /**
   * Keeps only the holds of partitions still assigned to this member. A revoked partition loses
   * its timer and its pause (the client remembers pauses across assignments), so it starts clean
   * if it comes back.
   */
  retain(assigned: Record<string, number[]>): void {
    for (const key of [...this.holds.keys()]) {
      const [topic, partition] = splitKey(key);
      if ((assigned[topic] ?? []).includes(partition)) continue;
      this.drop(key);
      this.unpause(topic, partition);
    }
  }

  /** Forgets every hold (shutdown). */
  clear(): void {
    for (const key of [...this.holds.keys()]) this.drop(key);
  }

  /** How long before its due time a held partition resumes. */
  get leadMs(): number {
    return this.deps.leadMs ?? 0;
  }

  isHeld(topic: string, partition: number): boolean {
    return this.holds.has(keyOf(topic, partition));
  }

  get size(): number {
    return this.holds.size;
  }

  private release(topic: string, partition: number): void {
    this.holds.delete(keyOf(topic, partition));
    this.unpause(topic, partition);
  }

  private unpause(topic: string, partition: number): void {
    try {
      this.deps.control.resume([{ topic, partitions: [partition] }]);
    } catch {
      // The consumer is gone or the partition left meanwhile; nothing to resume.
    }
  }

  private drop(key: string): void {
    const hold = this.holds.get(key);
    if (!hold) return;
    this.deps.clock.clearTimer(hold.handle);
    this.holds.delete(key);
  }
}

/** The key of a topic-partition in this module's maps. */
export function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function splitKey(key: string): [string, number] {
  const at = key.indexOf(':');
  return [key.slice(at + 1), Number(key.slice(0, at))];
}
