import type { RecordSink } from '../kafka/index.js';
import { HEADER, writeRetryState, type LadderTopics } from '../retry/index.js';
import type { FailureEntry } from './entry.js';
import { ReplayUnavailableError, UnknownFailureError } from './errors.js';


/** Picks outstanding entries by id; every id must be outstanding, or nothing is picked. */
export function pick(entries: FailureEntry[], ids: string[]): FailureEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length) throw new UnknownFailureError(`not outstanding: ${unknown.map((id) => id.slice(0, 64)).join(', ')} (pullrep failed list shows the outstanding ones; pullrep failed show <id> the history of any)`);
  return [...new Set(ids)].map((id) => byId.get(id)).filter((e): e is FailureEntry => e !== undefined);
}

/**
 * Puts failed events back into THIS replica's processing: each goes to its own retry stage 1
 * (same partition, due at once), and only once that produce is acknowledged is the failure
 * marked resolved with a tombstone for its key. Other replicas never see a replay.
 */
export async function replay(
  deps: { sink: RecordSink; topics: LadderTopics; replica: string; partitions: number; now: () => number },
  entries: FailureEntry[],
): Promise<void> {
  const stage1 = deps.topics.retry[0];
  if (stage1 === undefined) throw new ReplayUnavailableError('replay needs at least one retry stage (retry.stages >= 1); use resolve, or re-publish the event');
  for (const entry of entries) {
    const now = deps.now();
    const headers = writeRetryState({
      attempt: 1,
      firstFailureAt: now,
      lastFailureAt: now,
      original: entry.original,
      replica: deps.replica,
      errorClass: entry.errorClass ?? undefined,
      errorMessage: entry.errorMessage ?? undefined,
      errors: entry.errors.map((e) => ({ ...e, at: Date.parse(e.at) })),
      dueAt: now,
    });
    headers[HEADER.replayedFrom] = entry.id;
    // The event's own partition when the headers name it; otherwise the key decides.
    const known = entry.original.topic === deps.topics.events && entry.original.partition < deps.partitions;
    const partition = known ? entry.original.partition : undefined;
    await deps.sink.send([{ topic: stage1, key: entry.repo, value: entry.value, headers, ...(partition === undefined ? {} : { partition }) }]);
    await tombstone(deps.sink, deps.topics.failed, [entry]);
  }
}

/** Marks failures resolved: a tombstone for each key; nothing else on the topic changes. */
export async function tombstone(sink: RecordSink, failedTopic: string, entries: FailureEntry[]): Promise<void> {
  await sink.send(entries.map((e) => ({ topic: failedTopic, key: e.key, value: null })));
}
