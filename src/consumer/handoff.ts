import type { CommitPoint, RecordSink, TransactionalSink } from '../kafka/index.js';
import type { OutRecord } from '../retry/index.js';

/**
 * Produces records and commits a consumed offset, in that order: the commit happens only once
 * every produce is acknowledged by all in-sync replicas (or both happen in one transaction).
 * `stillOwned` is asked right before the commit: when the partition has moved to another member
 * meanwhile, nothing is committed (its new owner processes the records again) and deliver
 * resolves false.
 */
export interface HandOff {
  deliver(records: OutRecord[], commit: CommitPoint, stillOwned?: () => boolean): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Produce with acks from all in-sync replicas (idempotent producer), then commit. A crash between
 * the two repeats the hand-off on restart, which is harmless: events are hints.
 */
export function produceThenCommit(deps: { sink: RecordSink; committer: { commit(point: CommitPoint): Promise<void> } }): HandOff {
  return {
    async deliver(records, commit, stillOwned = () => true) {
      await deps.sink.send(records);
      // The records are handed on either way; a new owner handing them on again is harmless.
      if (!stillOwned()) return false;
      await deps.committer.commit(commit);
      return true;
    },
    async close() {
      await deps.sink.disconnect();
    },
  };
}

/**
 * Produce and commit the consumed offset in one Kafka transaction: either both happen or neither.
 * A producer runs one transaction at a time, so deliveries are serialized.
 */
export function transactionalHandOff(deps: { sink: TransactionalSink; groupId: string }): HandOff {
  let chain: Promise<unknown> = Promise.resolve();
  const deliverOne = async (records: OutRecord[], commit: CommitPoint, stillOwned: () => boolean): Promise<boolean> => {
    const tx = await deps.sink.begin();
    try {
      await tx.send(records);
      if (!stillOwned()) {
        // Neither the records nor the offset: the new owner does the whole batch.
        await tx.abort();
        return false;
      }
      await tx.sendOffset(deps.groupId, commit);
      await tx.commit();
      return true;
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  };
  return {
    deliver(records, commit, stillOwned = () => true) {
      const run = chain.then(() => deliverOne(records, commit, stillOwned));
      chain = run.catch(() => undefined);
      return run;
    },
    async close() {
      await chain;
      await deps.sink.disconnect();
    },
  };
}
