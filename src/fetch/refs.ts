import type { GitRunner } from './git-runner.js';

/** All refs of a local repository, refname → object id, read with git for-each-ref. */
export async function listRefs(git: GitRunner, gitDir: string): Promise<Map<string, string>> {
  const { stdout } = await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], { gitDir, what: 'git for-each-ref' });
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

/** Splits the refs of two listings into changed/created, removed and unchanged. */
export function compareRefs(
  before: ReadonlyMap<string, string | undefined | null>,
  after: ReadonlyMap<string, string | undefined | null>,
  names: Iterable<string>,
): { fetched: string[]; deleted: string[]; upToDate: string[] } {
  const fetched: string[] = [];
  const deleted: string[] = [];
  const upToDate: string[] = [];
  for (const ref of new Set(names)) {
    const old = before.get(ref) ?? undefined;
    const now = after.get(ref) ?? undefined;
    if (old === now) upToDate.push(ref);
    else if (now === undefined) deleted.push(ref);
    else fetched.push(ref);
  }
  return { fetched: fetched.sort(), deleted: deleted.sort(), upToDate: upToDate.sort() };
}

/** What a sync changed: refs fetched (created or moved), deleted, and already equal. */
export type RefDiff = ReturnType<typeof compareRefs>;

export const NO_CHANGE: RefDiff = { fetched: [], deleted: [], upToDate: [] };
