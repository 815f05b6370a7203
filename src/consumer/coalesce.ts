import type { RefEvent } from '../events/index.js';

/** One decoded record of a batch, with what the ladder needs to hand it on. */
export interface DecodedRecord<R = unknown> {
  offset: string;
  event: RefEvent;
  /** The raw record, carried so a failure can hand it on unchanged. */
  raw: R;
}

export type SyncAction = 'refs' | 'repository' | 'delete' | 'ignore';

/** One sync standing for every record of a repository in a batch. */
export interface RepoWork<R = unknown> {
  repo: string;
  action: SyncAction;
  /** For 'refs': the union of the refs named, in first-seen order. */
  refs: string[];
  /** For 'refs': each ref's value in the latest event naming it (offset order). */
  hints: Record<string, string>;
  /** The latest publication time among the records. */
  publishedAt: Date;
  records: DecodedRecord<R>[];
}

/**
 * Groups a batch's records by repository into one sync each (records arrive in offset order).
 * A full sync or a creation asks for the whole repository; a deletion is applied only when it
 * is the latest word on the repository and `applyDeletes` is on, and is otherwise ignored.
 */
export function coalesce<R>(records: DecodedRecord<R>[], options: { applyDeletes: boolean }): RepoWork<R>[] {
  const byRepo = new Map<string, DecodedRecord<R>[]>();
  for (const record of records) {
    const list = byRepo.get(record.event.repo);
    if (list) list.push(record);
    else byRepo.set(record.event.repo, [record]);
  }
  return [...byRepo].map(([repo, list]) => plan(repo, list, options.applyDeletes));
}

function plan<R>(repo: string, records: DecodedRecord<R>[], applyDeletes: boolean): RepoWork<R> {
  const refs: string[] = [];
  const hints: Record<string, string> = {};
  let whole = false;
  let publishedAt = 0;
  for (const { event } of records) {
    publishedAt = Math.max(publishedAt, Date.parse(event.publishedAt));
    if (event.kind === 'full-sync' || event.kind === 'repo-created') whole = true;
    if (event.kind === 'refs-updated') {
      for (const update of event.refs) {
        if (!(update.ref in hints)) refs.push(update.ref);
        hints[update.ref] = update.new;
      }
    }
  }
  const last = records[records.length - 1]?.event;
  const base = { repo, refs: [] as string[], hints: {}, publishedAt: new Date(publishedAt), records };
  if (last?.kind === 'repo-deleted' && applyDeletes) return { ...base, action: 'delete' };
  // A deletion followed by more events means the repository came back: sync all of it.
  const deletedThenMore = applyDeletes && records.some((r) => r.event.kind === 'repo-deleted');
  if (whole || deletedThenMore) return { ...base, action: 'repository' };
  if (refs.length === 0) return { ...base, action: 'ignore' };
  return { ...base, action: 'refs', refs, hints };
}
