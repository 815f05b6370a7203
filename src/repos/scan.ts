import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { MAX_REPO_SEGMENTS } from '../events/index.js';

/** A directory is a bare repository when it has HEAD, objects/ and refs/. */
export function isBareRepo(dir: string): boolean {
  try {
    return existsSync(join(dir, 'HEAD')) && statSync(join(dir, 'objects')).isDirectory() && statSync(join(dir, 'refs')).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Every bare repository under `root` (or `root` itself when it is one), as absolute paths in
 * sorted order: the one walk of a directory of repositories, on the primary and on a replica.
 * Directories whose name starts with '.' (the spool, the fetch engine's temporary clones) are
 * skipped; a repository's own directories are not searched; symbolic links are not followed;
 * nothing deeper than a repository name may be (MAX_REPO_SEGMENTS) is searched.
 * With `skipUnreadable`, a directory that cannot be read counts as empty instead of failing; with
 * `onUnreadable`, one below root does and is reported (root itself unreadable still fails).
 */
export async function findBareRepos(
  root: string,
  options: { skipUnreadable?: boolean; onUnreadable?: (dir: string, err: Error) => void } = {},
): Promise<string[]> {
  if (isBareRepo(root)) return [root];
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
      // The root itself unreadable is never "no repositories".
      if (dir !== root && options.onUnreadable) {
        options.onUnreadable(dir, err as Error);
        return [];
      }
      if (options.skipUnreadable) return [];
      throw err;
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (isBareRepo(path)) found.push(path);
      else if (depth + 1 < MAX_REPO_SEGMENTS) await walk(path, depth + 1);
    }
  };
  await walk(root, 0);
  return found;
}

/** The repository name of a path under root ("group/project.git"). */
export function repoNameUnder(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
