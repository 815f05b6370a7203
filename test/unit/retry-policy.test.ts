import { describe, expect, it } from 'vitest';
import { delayFor, dueTime, ladderDelays, ladderTopics, nextHop, stageOf, type RetryPolicy } from '../../src/retry/index.js';

const defaults: RetryPolicy = { stages: 4, initialDelayMs: 30_000, multiplier: 10, maxDelayMs: 3 * 3600_000, maxRetryPeriodMs: 6 * 3600_000 };

describe('delayFor', () => {
  it('grows exponentially from the initial delay and is capped', () => {
    expect(ladderDelays(defaults)).toEqual([30_000, 300_000, 3_000_000, 10_800_000]);
    expect(delayFor(9, defaults)).toBe(10_800_000);
  });
  it('follows short test policies exactly', () => {
    const p = { ...defaults, initialDelayMs: 300, multiplier: 2, maxDelayMs: 1000 };
    expect([1, 2, 3, 4].map((s) => delayFor(s, p))).toEqual([300, 600, 1000, 1000]);
  });
  it('rejects stages below 1', () => {
    expect(() => delayFor(0, defaults)).toThrow(RangeError);
    expect(() => delayFor(1.5, defaults)).toThrow(RangeError);
  });
});

describe('nextHop', () => {
  const now = 1_700_000_000_000;
  it('moves a transient failure one stage down', () => {
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now }, defaults)).toEqual({ to: 'retry', stage: 1 });
    expect(nextHop({ stage: 3, retriable: true, firstFailureAt: now, now }, defaults)).toEqual({ to: 'retry', stage: 4 });
  });
  it('sends permanent failures straight to the failed topic', () => {
    expect(nextHop({ stage: 0, retriable: false, firstFailureAt: now, now }, defaults)).toEqual({ to: 'failed', reason: 'permanent' });
  });
  it('ends the ladder after the last stage', () => {
    expect(nextHop({ stage: 4, retriable: true, firstFailureAt: now, now }, defaults)).toEqual({ to: 'failed', reason: 'exhausted' });
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now }, { ...defaults, stages: 0 })).toEqual({ to: 'failed', reason: 'exhausted' });
  });
  it('ends the ladder when the next wait would pass the total retry period', () => {
    const first = now - 3 * 3600_000 - 1000;
    expect(nextHop({ stage: 3, retriable: true, firstFailureAt: first, now }, defaults)).toEqual({ to: 'failed', reason: 'expired' });
    expect(nextHop({ stage: 1, retriable: true, firstFailureAt: first, now }, defaults)).toEqual({ to: 'retry', stage: 2 });
  });
});

describe('dueTime', () => {
  const now = 1_700_000_000_000;
  it('is the append time plus the stage delay', () => {
    expect(dueTime({ stage: 2, appendTime: now - 1000, now }, defaults)).toBe(now - 1000 + 300_000);
  });
  it('lets a header bring the due time earlier, never later', () => {
    expect(dueTime({ stage: 2, appendTime: now, now, headerDueAt: now }, defaults)).toBe(now);
    expect(dueTime({ stage: 2, appendTime: now, now, headerDueAt: now + 10 * 3600_000 }, defaults)).toBe(now + 300_000);
  });
  it('treats an append time in the future as now', () => {
    expect(dueTime({ stage: 1, appendTime: now + 3600_000, now }, defaults)).toBe(now + 30_000);
  });
});

describe('Retry-After and the ladder', () => {
  const now = 1_700_000_000_000;
  it('sends the event to the first stage that waits at least as long, never holding back the records behind it', () => {
    // defaults: 30 s, 5 min, 50 min, 3 h
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now, retryAfterMs: 10_000 }, defaults)).toEqual({ to: 'retry', stage: 1 });
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now, retryAfterMs: 120_000 }, defaults)).toEqual({ to: 'retry', stage: 2 });
    expect(nextHop({ stage: 1, retriable: true, firstFailureAt: now, now, retryAfterMs: 3600_000 }, defaults)).toEqual({ to: 'retry', stage: 4 });
    // Longer than any stage: the last one, as far as the ladder allows.
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now, retryAfterMs: 24 * 3600_000 }, defaults)).toEqual({ to: 'retry', stage: 4 });
  });
  it('still expires an event whose wait would outlast retry.maxRetryPeriodMs', () => {
    const policy = { ...defaults, maxRetryPeriodMs: 60 * 60_000 };
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now, retryAfterMs: 120_000 }, policy)).toEqual({ to: 'retry', stage: 2 });
    expect(nextHop({ stage: 0, retriable: true, firstFailureAt: now, now, retryAfterMs: 3 * 3600_000 }, policy)).toEqual({ to: 'failed', reason: 'expired' });
  });
});

describe('ladder topics', () => {
  it('names one replica\'s topics', () => {
    const t = ladderTopics('git.ref-updates', 'eu1', 2);
    expect(t).toEqual({ events: 'git.ref-updates', retry: ['git.ref-updates.eu1.retry.1', 'git.ref-updates.eu1.retry.2'], failed: 'git.ref-updates.eu1.failed' });
    expect(stageOf(t, 'git.ref-updates')).toBe(0);
    expect(stageOf(t, 'git.ref-updates.eu1.retry.2')).toBe(2);
    expect(stageOf(t, 'git.ref-updates.us1.retry.2')).toBeUndefined();
  });
});
