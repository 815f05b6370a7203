import { cloneInto } from './clone.js';
import { FetchError } from './errors.js';
import { readLocalRefs } from './local-refs.js';
import { compareRefs, listRefs } from './refs.js';
import { finish, type SyncContext } from './sync-context.js';
import type { SyncResult } from './types.js';

/**
 * Failure kinds that point at the replica's copy and count toward a re-clone. A throttling or
 * unreachable primary never does: a fresh clone would only ask the same server for more.
 */
const RECLONE_KINDS = new Set(['corrupt', 'unknown']);

/**
 * Counts consecutive failed incremental syncs per repository that point at the replica's copy;
 * says when the threshold (replica.recloneAfterFailures) is reached.
 */
export class FailureCounter {
  private readonly counts = new Map<string, number>();
  constructor(private readonly threshold: number) {}

  succeeded(repo: string): void {
    this.counts.delete(repo);
  }

  /** Records a failure; true when the repository should now be cloned afresh. */
  failed(repo: string, err: unknown): boolean {
    if (!(err instanceof FetchError) || !RECLONE_KINDS.has(err.kind)) return false;
    const count = (this.counts.get(repo) ?? 0) + 1;
    this.counts.set(repo, count);
    return count >= this.threshold;
  }

  count(repo: string): number {
    return this.counts.get(repo) ?? 0;
  }
}

/** Values of the named refs, or of every ref when none are named. */
export async function snapshot(ctx: SyncContext, names: string[] | undefined): Promise<Map<string, string | undefined | null>> {
  return names ? readLocalRefs(ctx.path, names) : listRefs(ctx.git, ctx.path);
}

/** Clones afresh and swaps the clone in; the old copy goes only once the new one is in place. */
export async function recloneReplica(ctx: SyncContext, root: string, names: string[] | undefined, known?: Map<string, string>): Promise<SyncResult> {
  const before = known ?? (await snapshot(ctx, names).catch(() => new Map<string, string>()));
  await cloneInto(ctx, root, true);
  const after = await snapshot(ctx, names);
  return finish(ctx, compareRefs(before, after, names ?? [...before.keys(), ...after.keys()]), { recloned: true });
}
