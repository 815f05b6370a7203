import type { Logger } from '../log/index.js';
import type { SyncRecorder } from './types.js';

/** How often a failing state write is logged. */
const LOG_EVERY_MS = 60_000;

/**
 * A recorder whose failures (a busy or full disk) are logged, never thrown: the state serves the
 * operator's views, and replication must not stop because it could not be written.
 */
export function safeRecorder(target: SyncRecorder, logger: Logger, now: () => number = Date.now): SyncRecorder {
  let loggedAt = -Infinity;
  const guard =
    <A extends unknown[]>(what: string, write: (...args: A) => void) =>
    (...args: A): void => {
      try {
        write(...args);
      } catch (err) {
        if (now() - loggedAt < LOG_EVERY_MS) return;
        loggedAt = now();
        logger.warn({ err }, `could not record ${what} in the replica's state`);
      }
    };
  return {
    eventsSeen: guard('events taken', (repo, events) => target.eventsSeen(repo, events)),
    eventsSettled: guard('events applied', (repo, ids, covered, options) => target.eventsSettled(repo, ids, covered, options)),
    syncStarted: guard('a sync start', (repo, at) => target.syncStarted(repo, at)),
    syncSucceeded: guard('a sync', (repo, done) => target.syncSucceeded(repo, done)),
    syncFailed: guard('a failed sync', (repo, failure) => target.syncFailed(repo, failure)),
    deleted: guard('a deletion', (repo) => target.deleted(repo)),
    missingOnPrimary: guard('a deletion on the primary', (repo, at) => target.missingOnPrimary(repo, at)),
  };
}
