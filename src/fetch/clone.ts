import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { PermanentFetchError } from './errors.js';
import { dirname, join } from 'node:path';
import { TMP_DIR } from './paths.js';
import { keepReadOnly, readOnlyCloneArgs } from './read-only.js';
import { cloneSelected } from './selective-clone.js';
import type { SyncContext } from './sync-context.js';

/** A fresh temporary directory under `<replica.root>/.pullrep-tmp/` (same filesystem, so renames are atomic). */
export async function tempPath(root: string, prefix: string): Promise<string> {
  const dir = join(root, TMP_DIR);
  await mkdir(dir, { recursive: true });
  // A link here would build clones and quarantines outside replica.root.
  if (!(await lstat(dir)).isDirectory()) throw new PermanentFetchError(`${dir} must be a directory, not a link`, 'invalid');
  return join(dir, `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
}

/**
 * Clones the primary's repository (`git clone --mirror`) into a temporary directory, then moves
 * it to `path`. When a copy is already there (a re-clone), the old copy is renamed aside first and
 * removed only once the new one is in place, so a failed clone never costs the old copy. With
 * `readOnlyHook`, the clone refuses pushes before it is moved in place (read-only.ts). With a
 * selection of refs (replica.refs), only those are fetched (selective-clone.ts).
 */
export async function cloneInto(ctx: Pick<SyncContext, 'git' | 'path' | 'url' | 'readOnlyHook' | 'refs'>, root: string, replace: boolean): Promise<void> {
  const { git, path, url, readOnlyHook, refs } = ctx;
  const fresh = await tempPath(root, 'clone');
  try {
    const readOnly = readOnlyHook === undefined ? [] : readOnlyCloneArgs();
    if (!refs.all) await cloneSelected(git, url, fresh, refs);
    else await git.run(['clone', '--mirror', '--quiet', '--template=', '--no-local', ...readOnly, '--end-of-options', url, fresh], {
      what: 'git clone',
    });
    // Before the rename: the repository is never in place without it (the clone's --config set the
    // entries already; this writes the hook, and whatever else a clone left out).
    await keepReadOnly(git, fresh, readOnlyHook);
    await mkdir(dirname(path), { recursive: true });
    if (replace) {
      const old = await tempPath(root, 'old');
      await rename(path, old);
      try {
        await rename(fresh, path);
      } catch (err) {
        await rename(old, path);
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(fresh, path);
    }
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}
