import { FetchError, type Fetcher, type SyncOptions } from '../fetch/index.js';
import type { RepoWork } from './coalesce.js';

/** What a failed sync tells the ladder. */
export interface SyncFailure {
  retriable: boolean;
  /** The error's class (FetchError subclass name) for the headers. */
  errorClass: string;
  /** FetchError kind, or 'unknown'. */
  kind: string;
  message: string;
  /** The primary's Retry-After, when it sent one (ms). */
  retryAfterMs?: number | undefined;
}

/** Runs the one sync a repository's records coalesced into. */
export async function runSync(fetcher: Fetcher, work: RepoWork, signal: AbortSignal): Promise<void> {
  const options: SyncOptions & { hints?: Record<string, string> } = { signal, publishedAt: work.publishedAt };
  switch (work.action) {
    case 'refs':
      options.hints = work.hints;
      await fetcher.syncRefs(work.repo, work.refs, options);
      return;
    case 'repository':
      await fetcher.syncRepository(work.repo, options);
      return;
    case 'delete':
      await fetcher.deleteRepository(work.repo, options);
      return;
    case 'ignore':
      return;
  }
}

/** Classifies by type and field, never by message text. Anything unknown is transient. */
export function describeFailure(err: unknown): SyncFailure {
  if (err instanceof FetchError) return { retriable: err.retriable, errorClass: err.name, kind: err.kind, message: err.message, retryAfterMs: err.retryAfterMs };
  const e = err as { name?: unknown; message?: unknown; retriable?: unknown } | null;
  const errorClass = typeof e?.name === 'string' && e.name ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { retriable: e?.retriable !== false, errorClass, kind: 'unknown', message };
}
