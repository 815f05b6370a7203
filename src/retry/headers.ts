import type { RecordHeaders } from '../kafka/index.js';
import { truncateBytes } from './truncate.js';

/**
 * The headers pullrep puts on retry and failed records, and their validated reading. Headers can
 * be tampered with or garbage: every value is bounded when read back, and a value that does not
 * parse falls back to what the record itself says (a fresh attempt at its stage) — reading never
 * throws.
 */
export const HEADER = {
  attempt: 'pullrep-attempt',
  firstFailureAt: 'pullrep-first-failure-at',
  lastFailureAt: 'pullrep-last-failure-at',
  originalTopic: 'pullrep-original-topic',
  originalPartition: 'pullrep-original-partition',
  originalOffset: 'pullrep-original-offset',
  replica: 'pullrep-replica',
  errorClass: 'pullrep-error-class',
  errorMessage: 'pullrep-error-message',
  errors: 'pullrep-errors',
  dueAt: 'pullrep-due-at',
  reason: 'pullrep-reason',
  repo: 'pullrep-repo',
  eventId: 'pullrep-event-id',
  replayedFrom: 'pullrep-replayed-from',
  omitted: 'pullrep-omitted-bytes',
} as const;

/** Bounds of what is written and accepted. */
export const LIMITS = { errorMessageBytes: 1024, historyEntries: 10, historyMessageBytes: 200 } as const;

export interface ErrorEntry {
  /** ms since the epoch */
  at: number;
  stage: number;
  class: string;
  message: string;
}

export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

export interface RetryState {
  /** Failed attempts so far, 1..stages+1. */
  attempt: number;
  firstFailureAt: number;
  lastFailureAt: number;
  original: Origin;
  replica?: string | undefined;
  errorClass?: string | undefined;
  errorMessage?: string | undefined;
  errors: ErrorEntry[];
  /** An explicit due time (replay asks for "now"); only ever brings the due time earlier. */
  dueAt?: number | undefined;
}

/** Headers as consumed: any header may be missing, repeated, without a value (null) or garbage. */
export type RawHeaders = RecordHeaders;

export interface ReadContext {
  /** Stage of the topic the record was read from (0 = events). */
  stage: number;
  stages: number;
  now: number;
  record: Origin & { timestamp: number };
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const CLASS = /^[A-Za-z0-9_.-]{1,64}$/;
const OFFSET = /^\d{1,19}$/;
/** Times before this are garbage (2000-01-01). */
const EPOCH_FLOOR = 946_684_800_000;
/** Clock skew tolerated for times in the future. */
const SKEW_MS = 5 * 60 * 1000;

export function headerText(headers: RawHeaders, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  if (text === undefined) return undefined;
  return text.length > 8192 ? undefined : text;
}

function int(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

function time(text: string | undefined, now: number): number | undefined {
  return int(text, EPOCH_FLOOR, now + SKEW_MS);
}

function matching(text: string | undefined, pattern: RegExp): string | undefined {
  return text !== undefined && pattern.test(text) ? text : undefined;
}

function readHistory(text: string | undefined, ctx: ReadContext): ErrorEntry[] {
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const entries: ErrorEntry[] = [];
  for (const item of parsed.slice(-LIMITS.historyEntries)) {
    if (typeof item !== 'object' || item === null) continue;
    const e = item as Record<string, unknown>;
    const at = time(typeof e.at === 'number' ? String(e.at) : undefined, ctx.now);
    const stage = typeof e.stage === 'number' && Number.isInteger(e.stage) && e.stage >= 0 && e.stage <= ctx.stages ? e.stage : undefined;
    const cls = matching(typeof e.class === 'string' ? e.class : undefined, CLASS);
    if (at === undefined || stage === undefined || cls === undefined) continue;
    const message = typeof e.message === 'string' ? truncateBytes(e.message, LIMITS.historyMessageBytes) : '';
    entries.push({ at, stage, class: cls, message });
  }
  return entries;
}

/** Reads the ladder headers of a record; never throws. */
export function readRetryState(headers: RawHeaders, ctx: ReadContext): RetryState {
  const h = (name: string) => headerText(headers, name);
  const fallbackTime = Math.min(ctx.record.timestamp > EPOCH_FLOOR ? ctx.record.timestamp : ctx.now, ctx.now);
  const attempt = int(h(HEADER.attempt), 1, ctx.stages + 1) ?? Math.max(1, ctx.stage);
  const firstFailureAt = time(h(HEADER.firstFailureAt), ctx.now) ?? fallbackTime;
  const lastFailureAt = time(h(HEADER.lastFailureAt), ctx.now) ?? fallbackTime;
  const topic = matching(h(HEADER.originalTopic), TOPIC);
  const partition = int(h(HEADER.originalPartition), 0, 1_000_000);
  const offset = matching(h(HEADER.originalOffset), OFFSET);
  const original =
    topic !== undefined && partition !== undefined && offset !== undefined
      ? { topic, partition, offset }
      : { topic: ctx.record.topic, partition: ctx.record.partition, offset: ctx.record.offset };
  const message = h(HEADER.errorMessage);
  return {
    attempt,
    firstFailureAt,
    lastFailureAt: Math.max(lastFailureAt, firstFailureAt),
    original,
    replica: matching(h(HEADER.replica), NAME),
    errorClass: matching(h(HEADER.errorClass), CLASS),
    errorMessage: message === undefined ? undefined : truncateBytes(message, LIMITS.errorMessageBytes),
    errors: readHistory(h(HEADER.errors), ctx),
    dueAt: time(h(HEADER.dueAt), ctx.now + 365 * 24 * 3600 * 1000),
  };
}

/** The headers of a record handed to a retry stage or the failed topic. */
export function writeRetryState(state: RetryState): Record<string, string> {
  const out: Record<string, string> = {
    [HEADER.attempt]: String(state.attempt),
    [HEADER.firstFailureAt]: String(state.firstFailureAt),
    [HEADER.lastFailureAt]: String(state.lastFailureAt),
    [HEADER.originalTopic]: state.original.topic,
    [HEADER.originalPartition]: String(state.original.partition),
    [HEADER.originalOffset]: state.original.offset,
  };
  if (state.replica !== undefined) out[HEADER.replica] = state.replica;
  if (state.errorClass !== undefined) out[HEADER.errorClass] = state.errorClass;
  if (state.errorMessage !== undefined) out[HEADER.errorMessage] = truncateBytes(state.errorMessage, LIMITS.errorMessageBytes);
  const history = state.errors.slice(-LIMITS.historyEntries).map((e) => ({ ...e, message: truncateBytes(e.message, LIMITS.historyMessageBytes) }));
  out[HEADER.errors] = JSON.stringify(history);
  if (state.dueAt !== undefined) out[HEADER.dueAt] = String(state.dueAt);
  return out;
}

/** The state after one more failure at `stage`. */
export function recordFailure(
  previous: RetryState | undefined,
  failure: { stage: number; now: number; errorClass: string; errorMessage: string; replica: string; origin: Origin },
): RetryState {
  const errorClass = CLASS.test(failure.errorClass) ? failure.errorClass : 'Error';
  const entry: ErrorEntry = { at: failure.now, stage: failure.stage, class: errorClass, message: truncateBytes(failure.errorMessage, LIMITS.historyMessageBytes) };
  return {
    attempt: (previous?.attempt ?? 0) + 1,
    firstFailureAt: previous?.firstFailureAt ?? failure.now,
    lastFailureAt: failure.now,
    original: previous?.original ?? failure.origin,
    replica: failure.replica,
    errorClass,
    errorMessage: truncateBytes(failure.errorMessage, LIMITS.errorMessageBytes),
    errors: [...(previous?.errors ?? []), entry].slice(-LIMITS.historyEntries),
  };
}
