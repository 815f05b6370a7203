import { recordBytes } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import {
  HEADER,
  MAX_HANDOFF_RECORD_BYTES,
  failureRecord,
  nextHop,
  recordFailure,
  writeRetryState,
  type Hop,
  type InRecord,
  type LadderTopics,
  type OutRecord,
  type RetryPolicy,
  type RetryState,
} from '../retry/index.js';
import type { SyncFailure } from './sync-runner.js';

/** A record whose processing failed, with why. */
export interface Failed {
  item: { record: InRecord; state: RetryState | undefined };
  failure: SyncFailure;
  undecodable?: boolean;
  repo?: string;
  eventId?: string;
}

interface RouteDeps {
  policy: RetryPolicy;
  topics: LadderTopics;
  replica: string;
  logger: Logger;
  now: number;
}

/** Where a failed event goes, and the record that carries it there. */
export interface Routed {
  hop: Hop;
  record: OutRecord;
  /** What it was routed from, to make a smaller record for it (see shrink). */
  from: { failed: Failed; state: RetryState };
}

/** The record that carries a failed event on: to the next stage, or to the failed topic. */
export function routeFailure(f: Failed, stage: number, deps: RouteDeps): Routed {
  const { record, state: previous } = f.item;
  const state = recordFailure(previous, {
    stage,
    now: deps.now,
    errorClass: f.failure.errorClass,
    errorMessage: f.failure.message,
    replica: deps.replica,
    origin: { topic: record.topic, partition: record.partition, offset: record.offset },
  });
  const hop = f.undecodable
    ? ({ to: 'failed', reason: 'undecodable' } as const)
    : nextHop({ stage, retriable: f.failure.retriable, firstFailureAt: state.firstFailureAt, now: deps.now, retryAfterMs: f.failure.retryAfterMs }, deps.policy);
  const log = { repo: f.repo, topic: record.topic, partition: record.partition, offset: record.offset, stage, attempt: state.attempt };
  const target = hop.to === 'retry' ? deps.topics.retry[hop.stage - 1] : undefined;
  let routed: Routed;
  if (hop.to === 'retry' && target !== undefined) {
    routed = { hop, record: { topic: target, partition: record.partition, key: record.key, value: record.value, headers: writeRetryState(state) }, from: { failed: f, state } };
  } else {
    const reason = hop.to === 'failed' ? hop.reason : 'exhausted';
    routed = { hop: { to: 'failed', reason }, record: failureRecord({ failedTopic: deps.topics.failed, record, state, reason, repo: f.repo, eventId: f.eventId }), from: { failed: f, state } };
  }
  if (recordBytes(routed.record) > MAX_HANDOFF_RECORD_BYTES) {
    deps.logger.warn({ ...log, bytes: record.value?.length ?? 0 }, 'event too large to hand on; writing a small failure record for it');
    return shrink(routed, deps);
  }
  if (routed.hop.to === 'retry') deps.logger.info({ ...log, to: target }, 'handing event to retry stage');
  else deps.logger.warn({ ...log, reason: routed.hop.reason, error: f.failure.errorClass }, 'event failed; writing it to the failed topic');
  return routed;
}

/** Records up to this size are small enough to stand for an event that is too large. */
const SMALL_RECORD_BYTES = 8 * 1024;

/**
 * A record that stands for one too large to hand on (larger than the topic takes, with pullrep's
 * headers): on the failed topic, without the event, with the reason it was bound for there
 * (`oversized` for one bound for a retry stage) and its original coordinates. A record already
 * small is kept: a topic that refuses it refuses any.
 */
export function shrink(routed: Routed, deps: Pick<RouteDeps, 'topics'>): Routed {
  if (recordBytes(routed.record) <= SMALL_RECORD_BYTES) return routed;
  const { failed: f, state } = routed.from;
  const reason = routed.hop.to === 'failed' ? routed.hop.reason : 'oversized';
  const record = { ...f.item.record, value: Buffer.alloc(0) };
  const stub = failureRecord({ failedTopic: deps.topics.failed, record, state, reason, repo: f.repo, eventId: f.eventId });
  stub.headers[HEADER.omitted] = String(f.item.record.value?.length ?? 0);
  return { hop: { to: 'failed', reason }, record: stub, from: routed.from };
}
