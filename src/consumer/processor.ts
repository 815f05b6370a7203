import { decodeEvent, type RefEvent } from '../events/index.js';
import type { Fetcher } from '../fetch/index.js';
import type { Logger } from '../log/index.js';
import { RecordTooLargeError } from '../kafka/index.js';
import { dueTime, readRetryState, stageOf, type InRecord, type LadderTopics, type RetryPolicy, type RetryState } from '../retry/index.js';
import type { Clock } from './clock.js';
import { coalesce, type DecodedRecord, type RepoWork } from './coalesce.js';
import type { HandOff } from './handoff.js';
import type { ReplicaMetrics } from './metrics.js';
import type { SyncRecorder } from '../state/types.js';
import { routeFailure, shrink, type Failed, type Routed } from './router.js';
import { describeFailure, runSync, type SyncFailure } from './sync-runner.js';

export interface ProcessorDeps {
  fetcher: Fetcher;
  handOff: HandOff;
  policy: RetryPolicy;
  topics: LadderTopics;
  replica: string;
  applyDeletes: boolean;
  clock: Clock;
  logger: Logger;
  metrics: ReplicaMetrics;
  /** How often to heartbeat while syncs run (a tenth of the session timeout). */
  heartbeatMs: number;
  /** Aborted when the shutdown grace period is over: running git processes stop. */
  abort: AbortSignal;
  /** Where each repository's sync state is recorded (src/state); none in unit tests. */
  state?: SyncRecorder | undefined;
  /**
   * Whether this replica keeps a repository (replica.shard, replica.repos; src/repos/selection.ts).
   * Records of one it does not keep are committed without a sync, a state row or a hand-off,
   * from any stage, without a delay of their own; offsets are still committed in order, so one
   * queued behind a record that is not due yet is committed with it. Every repository when absent.
   */
  selects?: ((repo: string) => boolean) | undefined;
}

/** What the consumer offers one batch. */
export interface BatchHooks {
  heartbeat(): Promise<void>;
  /** The position moves past `offset` (it is settled). */
  resolveOffset(offset: string): void;
  /** Holds this partition until `dueAt`, going on from `offset` (the record not due yet). */
  hold(offset: string, dueAt: number): void;
  /** False once a rebalance gave the partition to another member: its new owner redoes the batch. */
  owned?(): boolean;
}

interface Item {
  record: InRecord;
  state: RetryState | undefined;
  /** The decoded event, or why it could not be decoded; decoded in settle() when not yet. */
  decoded?: { event: RefEvent } | { error: unknown };
  /** A repository this replica does not keep: committed without a sync. */
  skip?: boolean;
}

/**
 * Processes one batch of one topic-partition: waits for nothing, syncs each repository once,
 * hands failures to the next stage or the failed topic, and commits only after the hand-off
 * is acknowledged.
 */
export class BatchProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async process(records: InRecord[], hooks: BatchHooks): Promise<void> {
    const first = records[0];
    if (!first) return;
    const stage = stageOf(this.deps.topics, first.topic);
    if (stage === undefined) return;
    const now = this.deps.clock.now();
    const due: Item[] = [];
    let waiting: { offset: string; dueAt: number } | undefined;
    for (const record of records) {
      // With a selection, decoded first: a record of a repository not selected waits for nothing.
      const decoded = this.deps.selects && record.unreadable === undefined ? decode(record) : undefined;
      if (decoded && 'event' in decoded && this.deps.selects && !this.deps.selects(decoded.event.repo)) {
        due.push({ record, state: undefined, decoded, skip: true });
        continue;
      }
      const state = stage === 0 ? undefined : this.readState(record, stage, now);
      if (stage > 0) {
        const dueAt = dueTime({ stage, appendTime: record.timestamp, now, headerDueAt: state?.dueAt }, this.deps.policy);
        if (dueAt > now) {
          waiting = { offset: record.offset, dueAt };
          break;
        }
      }
      due.push({ record, state, decoded });
    }
    if (due.length > 0) await this.settle(stage, due, hooks);
    if (waiting && !this.deps.abort.aborted) hooks.hold(waiting.offset, waiting.dueAt);
  }

  private readState(record: InRecord, stage: number, now: number): RetryState {
    const ctx = { stage, stages: this.deps.policy.stages, now, record };
    return readRetryState(record.headers, ctx);
  }

  /** Syncs, hands off and commits the due records (in offset order). */
  private async settle(stage: number, items: Item[], hooks: BatchHooks): Promise<void> {
    const { logger } = this.deps;
    const failed: Failed[] = [];
    const decoded: DecodedRecord<Item>[] = [];
    for (const item of items) {
      if (item.skip) continue;
      // A batch the client could not decode arrives as one record that says why.
      if (item.record.unreadable !== undefined) {
        failed.push({ item, failure: { retriable: false, errorClass: 'RecordBatchError', kind: 'invalid', message: item.record.unreadable }, undecodable: true });
        continue;
      }
      const d = item.decoded ?? decode(item.record);
      if ('error' in d) failed.push({ item, failure: describeFailure(d.error), undecodable: true });
      else decoded.push({ offset: item.record.offset, event: d.event, raw: item });
    }
    const works = coalesce(decoded, { applyDeletes: this.deps.applyDeletes });
    for (const work of works) this.deps.state?.eventsSeen(work.repo, work.records.map(({ event }) => ({ id: event.id, publishedAt: publishedMs(event.publishedAt) })));
    const outcomes = await this.runAll(works, hooks);
    let cut: bigint | undefined;
    works.forEach((work, i) => {
      const failure = outcomes[i];
      if (!failure) return;
      if (failure.kind === 'aborted' && this.deps.abort.aborted) {
        // Shutdown stopped this sync: leave its records uncommitted so they run again.
        for (const r of work.records) cut = minBig(cut, BigInt(r.offset));
        return;
      }
      for (const r of work.records) failed.push({ item: r.raw, failure, repo: work.repo, eventId: r.event.id });
    });
    const last = items[items.length - 1];
    if (!last) return;
    const next = cut ?? BigInt(last.record.offset) + 1n;
    let routed: Routed[] = failed
      .filter((f) => BigInt(f.item.record.offset) < next)
      .map((f) => routeFailure(f, stage, { ...this.deps, now: this.deps.clock.now() }));
    const out = routed.map((r) => r.record);
    const { topic, partition } = last.record;
    if (next <= BigInt(items[0]?.record.offset ?? '0')) return;
    const owned = () => hooks.owned?.() ?? true;
    const moved = () => logger.info({ topic, partition }, 'partition moved to another member during the batch; leaving it to the new owner');
    if (!owned()) return moved();
    const commit = { topic, partition, offset: String(next) };
    let delivered: boolean;
    try {
      delivered = await this.deps.handOff.deliver(out, commit, owned);
    } catch (err) {
      if (!(err instanceof RecordTooLargeError)) throw err;
      // A topic takes less than MAX_HANDOFF_RECORD_BYTES: the records too large for it are
      // replaced by small ones standing for them, and the batch is handed on once more.
      logger.warn({ topic, partition, err: err.message }, 'a hand-off was refused as too large; handing on small records for the large ones');
      routed = routed.map((r) => shrink(r, this.deps));
      delivered = await this.deps.handOff.deliver(routed.map((r) => r.record), commit, owned);
    }
    if (!delivered) return moved();
    hooks.resolveOffset(String(next - 1n));
    this.recordFailures(routed, stage);
    // Counted once the broker acknowledged them, not when they were attempted.
    for (const r of routed) {
      if (r.hop.to === 'retry') this.deps.metrics.handedToStage.inc({ stage: String(r.hop.stage) });
      else this.deps.metrics.failedWrites.inc({ reason: r.hop.reason });
    }
    const settled = items.filter((i) => BigInt(i.record.offset) < next);
    this.deps.metrics.eventsProcessed.inc({ stage: String(stage) }, settled.length);
    const skipped = settled.filter((i) => i.skip).length;
    if (skipped) this.deps.metrics.eventsSkipped.inc({ reason: 'not-selected' }, skipped);
    logger.debug({ topic, partition, offset: String(next), stage, handedOff: out.length }, 'batch settled');
  }

  /** The state of each repository whose events were handed on: retrying (with its stage) or failed. */
  private recordFailures(routed: Routed[], stage: number): void {
    const state = this.deps.state;
    if (!state) return;
    const at = this.deps.clock.now();
    const seen = new Set<string>();
    for (const r of routed) {
      const { repo, failure, eventId } = r.from.failed;
      if (repo === undefined) continue;
      const retrying = r.hop.to === 'retry';
      // Written to the failed topic: no longer waiting in the ladder (the state says failed).
      if (!retrying && eventId !== undefined) state.eventsSettled(repo, [eventId], null);
      if (seen.has(repo)) continue;
      seen.add(repo);
      state.syncFailed(repo, { errorClass: failure.errorClass, message: failure.message, stage, at, next: retrying ? 'retrying' : 'failed', nextStage: r.hop.to === 'retry' ? r.hop.stage : null });
    }
  }

  /** Runs every repository's sync in parallel (the fetcher bounds how many run at once), heartbeating meanwhile. */
  private async runAll(works: RepoWork<Item>[], hooks: BatchHooks): Promise<Array<SyncFailure | undefined>> {
    const beat = setInterval(() => {
      hooks.heartbeat().catch((err: unknown) => this.deps.logger.debug({ err }, 'heartbeat failed'));
    }, this.deps.heartbeatMs);
    try {
      return await Promise.all(works.map((work) => this.runOne(work)));
    } finally {
      clearInterval(beat);
    }
  }

  private async runOne(work: RepoWork<Item>): Promise<SyncFailure | undefined> {
    const { metrics, logger, clock } = this.deps;
    if (this.deps.abort.aborted) return { retriable: true, errorClass: 'AbortError', kind: 'aborted', message: 'shutting down' };
    const started = clock.now();
    const state = this.deps.state;
    if (work.action !== 'ignore') state?.syncStarted(work.repo, started);
    try {
      await runSync(this.deps.fetcher, work, this.deps.abort);
      metrics.syncs.inc({ result: 'ok' });
      const now = clock.now();
      const lastKind = work.records[work.records.length - 1]?.event.kind;
      // A sync that began after an event was published applied it too; for a sync of some refs,
      // only while nothing of the repository waits in a retry stage (those may name other refs).
      state?.eventsSettled(work.repo, work.records.map(({ event }) => event.id), started, { unlessRetrying: work.action !== 'repository' });
      if (work.action === 'delete') state?.deleted(work.repo);
      else if (work.action === 'ignore' && lastKind === 'repo-deleted') state?.missingOnPrimary(work.repo, now);
      else if (work.action !== 'ignore') {
        const lastEvent = work.records[work.records.length - 1]?.event;
        const publishedAt = lastEvent ? Date.parse(lastEvent.publishedAt) : NaN;
        state?.syncSucceeded(work.repo, { at: now, durationMs: now - started, eventId: lastEvent?.id, publishedAt: Number.isFinite(publishedAt) ? publishedAt : undefined });
      }
      for (const { event } of work.records) {
        const at = Date.parse(event.publishedAt);
        if (Number.isFinite(at)) metrics.eventLatency.observe(Math.max(0, now - at) / 1000);
      }
      return undefined;
    } catch (err) {
      const failure = describeFailure(err);
      metrics.syncs.inc({ result: 'failed', kind: failure.kind });
      // The fetcher already logged the failure at warn; this adds only what the consumer knows.
      logger.debug({ repo: work.repo, action: work.action, kind: failure.kind, retriable: failure.retriable }, 'sync failed; handing its events on');
      return failure;
    } finally {
      metrics.syncDuration.observe((clock.now() - started) / 1000);
    }
  }
}

function decode(record: InRecord): { event: RefEvent } | { error: unknown } {
  try {
    return { event: decodeEvent(record.value) };
  } catch (error) {
    return { error };
  }
}

/** An event's publishedAt in ms (decodeEvent checked it is a time). */
function publishedMs(publishedAt: string): number {
  const at = Date.parse(publishedAt);
  return Number.isFinite(at) ? at : 0;
}

function minBig(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b < a ? b : a;
}
