import { isZeroOid } from '../events/index.js';
import type { GitRunner } from './git-runner.js';

/**
 * Which of `refs` the primary has now, from ONE `git ls-remote` (protocol v2 ls-refs, same URL,
 * environment, transports and credentials as the fetch). git 2.39 turns only --heads/--tags into
 * ref-prefix arguments (a pattern is matched by its tail, so it is not sent as a prefix): the
 * listing is narrowed to refs/heads/ and/or refs/tags/ when every ref lies there, and filtered
 * here by exact name. Used to learn about several deleted refs at once instead of one failed
 * fetch per ref. Undefined when the listing was too large to read whole.
 */
export async function remoteRefsPresent(git: GitRunner, url: string, refs: readonly string[]): Promise<Set<string> | undefined> {
  const flags: string[] = [];
  const under = (prefix: string): boolean => refs.some((ref) => ref.startsWith(prefix));
  if (refs.every((ref) => ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/'))) {
    if (under('refs/heads/')) flags.push('--heads');
    if (under('refs/tags/')) flags.push('--tags');
  }
  const outcome = await git.run(['ls-remote', ...flags, '--end-of-options', url], { what: 'git ls-remote' });
  // A cut listing would make present refs look deleted: the caller goes on one fetch at a time.
  if (outcome.truncated) return undefined;
  const wanted = new Set(refs);
  const present = new Set<string>();
  for (const line of outcome.stdout.split('\n')) {
    const name = line.slice(line.indexOf('\t') + 1);
    if (wanted.has(name)) present.add(name);
  }
  return present;
}

/** Refs the event expects to be gone on the primary (an all-zero hint). */
export function expectedAbsent(refs: readonly string[], hints: Record<string, string> | undefined): string[] {
  return refs.filter((ref) => {
    const hint = hints?.[ref];
    return hint !== undefined && isZeroOid(hint);
  });
}

/** Refs the event expects to exist on the primary (a non-zero hint). */
export function expectedPresent(refs: readonly string[], hints: Record<string, string> | undefined): boolean {
  return refs.every((ref) => {
    const hint = hints?.[ref];
    return hint !== undefined && !isZeroOid(hint);
  });
}
