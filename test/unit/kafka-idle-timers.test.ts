import { describe, expect, it } from 'vitest';
import { patchRequestQueue } from '../../src/kafka/idle-timers.js';
import { installKafkaWorkarounds, kafkajsVersion, workaroundState, WORKAROUNDS_KAFKAJS_VERSION } from '../../src/kafka/workarounds.js';

function queueClass() {
  const calls: string[] = [];
  class Queue {
    pending: unknown[] = [];
    throttledUntil = -1;
    scheduleCheckPendingRequests(): void {
      calls.push('scheduled');
    }
  }
  return { Queue, calls };
}

function logger() {
  const lines: string[] = [];
  return { lines, debug: (...a: unknown[]) => lines.push(`debug ${JSON.stringify(a)}`), warn: (...a: unknown[]) => lines.push(`warn ${JSON.stringify(a)}`) };
}

describe('stopping kafkajs idle timers', () => {
  it('skips the timer only for an idle, unthrottled queue', () => {
    const { Queue, calls } = queueClass();
    expect(patchRequestQueue(Queue)).toBeUndefined();
    const q = new Queue();
    q.scheduleCheckPendingRequests();
    expect(calls).toEqual([]);
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    q.pending = [];
    q.throttledUntil = Date.now() + 60_000;
    q.scheduleCheckPendingRequests();
    expect(calls).toEqual(['scheduled', 'scheduled']);
  });

  it('leaves a queue with other internals to kafkajs\'s own code', () => {
    const calls: string[] = [];
    class Other {
      scheduleCheckPendingRequests(): void {
        calls.push('scheduled');
      }
    }
    expect(patchRequestQueue(Other)).toBeUndefined();
    expect(() => new Other().scheduleCheckPendingRequests()).not.toThrow();
    expect(calls).toEqual(['scheduled']);
  });

  it('changes nothing when the method is not there', () => {
    expect(patchRequestQueue(class {})).toMatch(/scheduleCheckPendingRequests/);
    expect(patchRequestQueue(undefined)).toMatch(/scheduleCheckPendingRequests/);
  });

  it('are written for the kafkajs version installed', () => {
    // A kafkajs upgrade must come with a fresh look at both workarounds (see workarounds.ts).
    expect(kafkajsVersion()).toBe(WORKAROUNDS_KAFKAJS_VERSION);
  });

  it('are installed into the real kafkajs once, as the process starts (test/setup-kafka.ts does what the CLI does)', () => {
    const log = logger();
    expect(installKafkaWorkarounds(log)).toMatchObject({ idleTimers: true, producerTopics: true, batchDecoder: true });
    // Already installed: nothing again, nothing logged.
    expect(log.lines).toEqual([]);
    expect(workaroundState()).toMatchObject({ idleTimers: true, producerTopics: true, batchDecoder: true });
  });
});
