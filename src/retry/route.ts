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
  /** The primary's Retry-After (ms): the next attempt waits at least this long, at most the stage maximum. */
  retryAfterMs?: number | undefined;
}

/**
 * Where a failed event goes next. A permanent failure skips the ladder; the last stage failing
 * ends it; so does a next wait that would carry the event past retry.maxRetryPeriodMs.
 */
export function nextHop(input: HopInput, policy: RetryPolicy): Hop {
  if (!input.retriable) return { to: 'failed', reason: 'permanent' };
  const next = input.stage + 1;
  if (next > policy.stages) return { to: 'failed', reason: 'exhausted' };
  const elapsed = Math.max(0, input.now - input.firstFailureAt);
  const wait = Math.max(delayFor(next, policy), Math.min(input.retryAfterMs ?? 0, policy.maxDelayMs));
  if (elapsed + wait > policy.maxRetryPeriodMs) return { to: 'failed', reason: 'expired' };
  return { to: 'retry', stage: next };
}

/**
 * When a record on retry stage `stage` is due: its append time plus the stage's delay. A due time
 * carried in a header (replay asks for "now") may only bring that earlier, never later; the
 * primary's Retry-After (`notBefore`) may only bring it later, and never past the append time
 * plus retry.maxDelayMs. An append time in the future (clock skew) counts as now.
 */
export function dueTime(
  input: { stage: number; appendTime: number; now: number; headerDueAt?: number | undefined; notBefore?: number | undefined },
  policy: RetryPolicy,
): number {
  const appended = Math.min(input.appendTime, input.now);
  const base = appended + delayFor(input.stage, policy);
  if (input.headerDueAt !== undefined && input.headerDueAt < base) return input.headerDueAt;
  if (input.notBefore !== undefined && input.notBefore > base) return Math.min(input.notBefore, appended + policy.maxDelayMs);
  return base;
}
