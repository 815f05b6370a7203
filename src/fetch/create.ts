import { cloneInto } from './clone.js';
import { compareRefs } from './refs.js';
import { snapshot } from './reclone.js';
import { finish, type SyncContext } from './sync-context.js';
import type { SyncResult } from './types.js';

/** A repository missing on the replica: clone it in a temporary directory, then move it in place. */
export async function createReplica(ctx: SyncContext, root: string, names: string[] | undefined): Promise<SyncResult> {
  await cloneInto(ctx, root, false);
  const after = await snapshot(ctx, names);
  ctx.log.info({ refs: after.size }, 'created the replica repository');
  return finish(ctx, compareRefs(new Map(), after, names ?? after.keys()), { created: true });
}
