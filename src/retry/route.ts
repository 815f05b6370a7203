import { delayFor, type RetryPolicy } from './policy.js';

/** Why an event left the ladder for the failed topic. */
export type FailReason = 'permanent' | 'exhausted' | 'expired' | 'undecodable' | 'oversized';

export type Hop = { to: 'retry'; stage: number } | { to: 'failed'; reason: FailReason };

export interface HopInput {
  /** The stage the failing attempt ran at: 0 = the events topic. */
  stage: number;
  retriable: boolean;
  /** When the event first failed (ms since the epoch); `now` for a first failure. */
  firstFailureAt: number;
  now: number;
  /**
   * The primary's Retry-After (ms): the event goes to the first stage whose delay is at least
   * that long (the last stage when none is), so the next attempt honours it as far as the ladder
   * allows, and the records behind it on that stage are never held back by it.
   */
  retryAfterMs?: number | undefined;
}

/**
 * Where a failed event goes next. A permanent failure skips the ladder; the last stage failing
 * ends it; so does a next wait that would carry the event past retry.maxRetryPeriodMs.
 */
export function nextHop(input: HopInput, policy: RetryPolicy): Hop {
  if (!input.retriable) return { to: 'failed', reason: 'permanent' };
  let next = input.stage + 1;
  if (next > policy.stages) return { to: 'failed', reason: 'exhausted' };
  const retryAfter = input.retryAfterMs ?? 0;
  while (next < policy.stages && delayFor(next, policy) < retryAfter) next += 1;
  const elapsed = Math.max(0, input.now - input.firstFailureAt);
  if (elapsed + delayFor(next, policy) > policy.maxRetryPeriodMs) return { to: 'failed', reason: 'expired' };
  return { to: 'retry', stage: next };
}

/**
 * When a record on retry stage `stage` is due: its append time plus the stage's delay. A due time
 * carried in a header (replay asks for "now") may only bring that earlier, never later, so due
 * times on a stage partition never decrease with the append order; an append time in the future
 * (clock skew) counts as now.
 */
export function dueTime(input: { stage: number; appendTime: number; now: number; headerDueAt?: number | undefined }, policy: RetryPolicy): number {
  const base = Math.min(input.appendTime, input.now) + delayFor(input.stage, policy);
  if (input.headerDueAt !== undefined && input.headerDueAt < base) return input.headerDueAt;
  return base;
}
