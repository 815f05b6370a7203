import { createHash } from 'node:crypto';
import { HEADER, writeRetryState, type RetryState } from './headers.js';
import type { FailReason } from './route.js';
import type { InRecord, OutRecord } from './records.js';

/**
 * The id of a failure: derived from the consumed record that failed for the last time, so a
 * record processed twice (after a crash) lands under the same key, while a replayed event that
 * fails again gets a new id.
 */
export function failureId(record: { topic: string; partition: number; offset: string }): string {
  return 'f' + createHash('sha256').update(`${record.topic}\0${record.partition}\0${record.offset}`).digest('hex').slice(0, 15);
}

export const FAILURE_ID = /^f[0-9a-f]{15}$/;

/** The record written to the failed topic: key = failure id, value = the event as consumed. */
export function failureRecord(input: {
  failedTopic: string;
  record: InRecord;
  state: RetryState;
  reason: FailReason;
  repo?: string | undefined;
  eventId?: string | undefined;
}): OutRecord {
  const headers = writeRetryState(input.state);
  headers[HEADER.reason] = input.reason;
  if (input.repo !== undefined) headers[HEADER.repo] = input.repo;
  if (input.eventId !== undefined) headers[HEADER.eventId] = input.eventId;
  // Never a null value: on the compacted failed topic that would be a tombstone, erasing the failure.
  return { topic: input.failedTopic, key: failureId(input.record), value: input.record.value ?? Buffer.alloc(0), headers };
}
