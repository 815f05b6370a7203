import { isZeroOid } from '../events/index.js';
import type { GitOutcome } from './git-process.js';
import type { GitRunner } from './git-runner.js';

/** One ref change with the value the ref must still have for the change to apply. */
export interface RefUpdate {
  ref: string;
  /** New value; undefined deletes the ref. */
  newOid: string | undefined;
  /** Expected current value; undefined = the ref must not exist. */
  oldOid: string | undefined;
}

/**
 * Applies all updates in one `git update-ref --stdin` transaction: either every ref changes or
 * none does. Each line carries the old value, so a ref someone else moved in between is left
 * alone and the transaction fails (classified as 'lock', transient). Returns git's outcome.
 */
export async function updateRefs(git: GitRunner, gitDir: string, updates: readonly RefUpdate[]): Promise<GitOutcome> {
  if (updates.length === 0) return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false };
  const lines = updates.map(({ ref, newOid, oldOid }) => {
    // "Must not exist" is the all-zero id of the repository's hash: 40 digits (SHA-1) or 64 (SHA-256).
    const old = oldOid ?? '0'.repeat((newOid ?? '').length || 40);
    if (newOid === undefined || isZeroOid(newOid)) return `delete ${ref} ${old}`;
    return `update ${ref} ${newOid} ${old}`;
  });
  return git.attempt(['update-ref', '--no-deref', '--stdin'], { gitDir, input: lines.join('\n') + '\n', what: 'git update-ref' });
}
