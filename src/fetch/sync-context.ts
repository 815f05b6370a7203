import type { Logger } from '../log/index.js';
import type { RefSelection } from '../refs/selection.js';
import type { GitRunner } from './git-runner.js';
import type { RefDiff } from './refs.js';
import type { SyncResult } from './types.js';

/** One call's view of one repository, built once its turn has come. */
export interface SyncContext {
  repo: string;
  /** The replica repository's path under replica.root. */
  path: string;
  /** The primary's URL of the repository. */
  url: string;
  git: GitRunner;
  /** Child logger carrying { repo }. */
  log: Logger;
  started: number;
  now: () => number;
  /** The pre-receive hook of a read-only replica (replica.readOnly); undefined when that is off. */
  readOnlyHook: string | undefined;
  /** The refs this replica replicates (replica.refs): a clone fetches only these. */
  refs: RefSelection;
}

/** The SyncResult of a finished call; logged at info when something changed, else at debug. */
export function finish(ctx: SyncContext, diff: RefDiff, flags: { created?: boolean; recloned?: boolean } = {}): SyncResult {
  const created = flags.created ?? false;
  const recloned = flags.recloned ?? false;
  const result: SyncResult = { repo: ctx.repo, ...diff, created, recloned, durationMs: ctx.now() - ctx.started };
  const changed = diff.fetched.length + diff.deleted.length > 0 || created || recloned;
  ctx.log[changed ? 'info' : 'debug'](
    { fetched: diff.fetched.length, deleted: diff.deleted.length, upToDate: diff.upToDate.length, created, recloned, ms: result.durationMs },
    'synced',
  );
  return result;
}
