import { decodeEvent } from '../events/index.js';
import { HEADER, headerText, readRetryState, type ErrorEntry, type Origin, type RawHeaders } from '../retry/index.js';

/** One outstanding failure, as the operator sees it. */
export interface FailureEntry {
  /** The failure id as shown and typed (see idOfKey). */
  id: string;
  /** The record's key as stored, which a tombstone must repeat byte for byte. */
  key: Buffer;
  repo: string | null;
  eventId: string | null;
  kind: string | null;
  refs: string[];
  reason: string;
  attempts: number;
  firstFailureAt: string;
  lastFailureAt: string;
  errorClass: string | null;
  errorMessage: string | null;
  errors: Array<Omit<ErrorEntry, 'at'> & { at: string }>;
  original: Origin;
  /** Where the failure record is on the failed topic. */
  location: { partition: number; offset: string };
  /** The event as consumed (may be undecodable); null when the reader was not asked to keep it. */
  value: Buffer | null;
  /** Size of the event as consumed. */
  valueBytes: number;
  headers: Record<string, string>;
}

const REASONS = new Set(['permanent', 'exhausted', 'expired', 'undecodable', 'oversized']);

/** Reads a failed-topic record; every header is validated (they can be tampered with). */
export function toEntry(
  id: string,
  key: Buffer,
  record: { partition: number; offset: string; timestamp: number; value: Buffer | null; headers: RawHeaders },
  context: { topic: string; stages: number; now: number },
): FailureEntry {
  const state = readRetryState(record.headers, {
    stage: context.stages + 1,
    stages: context.stages,
    now: context.now,
    record: { topic: context.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp },
  });
  let event: ReturnType<typeof decodeEvent> | undefined;
  try {
    event = decodeEvent(record.value);
  } catch {
    event = undefined;
  }
  const reason = headerText(record.headers, HEADER.reason) ?? '';
  const headers: Record<string, string> = {};
  for (const name of Object.keys(record.headers ?? {})) {
    const text = headerText(record.headers, name);
    if (text !== undefined && name.length <= 64) headers[name] = text;
  }
  return {
    id,
    key,
    repo: event?.repo ?? null,
    eventId: event?.id ?? null,
    kind: event?.kind ?? null,
    refs: event?.kind === 'refs-updated' ? event.refs.map((r) => r.ref) : [],
    reason: REASONS.has(reason) ? reason : 'unknown',
    attempts: state.attempt,
    firstFailureAt: new Date(state.firstFailureAt).toISOString(),
    lastFailureAt: new Date(state.lastFailureAt).toISOString(),
    errorClass: state.errorClass ?? null,
    errorMessage: state.errorMessage ?? null,
    errors: state.errors.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    original: state.original,
    location: { partition: record.partition, offset: record.offset },
    value: record.value,
    valueBytes: record.value?.length ?? 0,
    headers,
  };
}
