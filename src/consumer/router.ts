import { recordBytes } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import {
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
  if (hop.to === 'retry' && target !== undefined) {
    const out = { topic: target, partition: record.partition, key: record.key, value: record.value, headers: writeRetryState(state) };
    if (recordBytes(out) <= MAX_HANDOFF_RECORD_BYTES) {
      deps.logger.info({ ...log, to: target }, 'handing event to retry stage');
      return { hop, record: out };
    }
  } else {
    const reason = hop.to === 'failed' ? hop.reason : 'exhausted';
    const out = failureRecord({ failedTopic: deps.topics.failed, record, state, reason, repo: f.repo, eventId: f.eventId });
    if (recordBytes(out) <= MAX_HANDOFF_RECORD_BYTES) {
      deps.logger.warn({ ...log, reason, error: f.failure.errorClass }, 'event failed; writing it to the failed topic');
      return { hop: { to: 'failed', reason }, record: out };
    }
  }
  // With pullrep's headers the record is larger than a topic takes: it cannot be handed on at any
  // size, so a small record stands for it on the failed topic (the reason and where it came from).
  deps.logger.warn({ ...log, bytes: record.value?.length ?? 0 }, 'event too large to hand on; writing a small failure record for it');
  const stub = failureRecord({ failedTopic: deps.topics.failed, record: { ...record, value: Buffer.alloc(0) }, state, reason: 'oversized', repo: f.repo, eventId: f.eventId });
  return { hop: { to: 'failed', reason: 'oversized' }, record: stub };
}
