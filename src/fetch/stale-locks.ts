import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Removes `*.lock` files older than `olderThanMs` that a killed git process left behind. Only
 * called in the repository's turn, so no other sync of this process runs there; another process
 * (an operator's git, a second replica process on the same root) is not excluded, which is why
 * only locks far older than any git operation takes are removed. Looks at the places
 * git locks during fetch and ref updates: the top level (packed-refs.lock, config.lock,
 * shallow.lock, index.lock), refs/ (loose ref locks) and objects/pack (none usually).
 */
export async function removeStaleLocks(gitDir: string, olderThanMs: number, now: number): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth > 0) await visit(path, depth - 1);
      } else if (entry.isFile() && entry.name.endsWith('.lock')) {
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > olderThanMs) {
          await rm(path, { force: true });
          removed.push(path);
        }
      }
    }
  };
  await visit(gitDir, 0);
  await visit(join(gitDir, 'refs'), 64);
  return removed;
}
