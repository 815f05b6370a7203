import type { LadderOptions } from '../config/index.js';

/**
 * The retry policy as the ladder uses it: every duration a number of milliseconds, compiled from
 * the retry.* keys (src/config/options.ts), whose relations config.ts checks.
 */
export type RetryPolicy = LadderOptions;

/** How long stage `stage` (1-based) waits after a record was appended to it. Pure and capped. */
export function delayFor(stage: number, policy: RetryPolicy): number {
  if (!Number.isInteger(stage) || stage < 1) throw new RangeError(`stage must be an integer >= 1: got ${stage}`);
  const raw = policy.initialDelayMs * Math.pow(policy.multiplier, stage - 1);
  return Math.max(0, Math.min(Math.round(raw), policy.maxDelayMs));
}

/** The delays of every stage, in order; handy for logs and docs. */
export function ladderDelays(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.stages }, (_, i) => delayFor(i + 1, policy));
}
