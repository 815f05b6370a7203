import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the scan compares to tell that a repository's refs cannot have changed since it was last
 * listed, without listing them: the size, inode and modification time of packed-refs (and of
 * reftable/, where a repository uses it) and the modification time of every directory under
 * refs/. Writing a loose ref renames a lock file into its directory, and packing refs renames
 * packed-refs, so every ref change moves one of these. A repository with a directory under refs/
 * that cannot be read gets no signature: it is always listed.
 *
 * A signature is only trusted when every time in it is older than the moment it was taken by more
 * than RACY_MS: a change in the same clock tick as the last one leaves the times alone, so a
 * signature taken too soon after a change could hide a second one (git's "racy" index problem).
 */
export const RACY_MS = 2000;

export interface Signature {
  text: string;
  /** The newest modification time in it (epoch ms). */
  newestMs: number;
}

export async function refsSignature(gitDir: string): Promise<Signature | undefined> {
  const parts: string[] = [];
  let newestMs = 0;
  const note = (what: string, s: { mtimeMs: number; size: number; ino: number }) => {
    parts.push(`${what}:${s.ino}:${s.size}:${s.mtimeMs}`);
    if (s.mtimeMs > newestMs) newestMs = s.mtimeMs;
  };
  for (const file of ['packed-refs', 'reftable']) {
    const s = await stat(join(gitDir, file)).catch(() => undefined);
    if (s) note(file, s);
  }
  const walk = async (dir: string, rel: string): Promise<boolean> => {
    const s = await stat(dir).catch(() => undefined);
    if (!s) return false;
    note(rel, { mtimeMs: s.mtimeMs, size: 0, ino: s.ino });
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
    if (!entries) return false;
    for (const entry of entries) {
      if (entry.isDirectory() && !(await walk(join(dir, entry.name), `${rel}/${entry.name}`))) return false;
    }
    return true;
  };
  if (!(await walk(join(gitDir, 'refs'), 'refs'))) return undefined;
  return { text: parts.join(' '), newestMs };
}

/** Whether a signature taken at `takenAt` can vouch for the refs (see RACY_MS). */
export function trusted(signature: Signature | undefined, takenAt: number): signature is Signature {
  return signature !== undefined && takenAt - signature.newestMs > RACY_MS;
}
