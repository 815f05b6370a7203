import { EVERY_REF, isGlob, type RefSelection } from '../refs/selection.js';
import { missingRemoteRef, serverObjectFormat } from './classify.js';
import { FETCH_FLAGS, selectionRefspecs } from './fetch-args.js';
import type { GitRunner } from './git-runner.js';
import { updateRefs, type RefUpdate } from './update-refs.js';

/**
 * Fetches every ref of the primary that `refs` selects (replica.refs; every ref by default) and
 * prunes the refs it no longer has. Resolves to the refs an exact include names that the primary
 * does not have (pruneUnselected deletes them here).
 */
export async function fetchEverything(git: GitRunner, gitDir: string, url: string, refs: RefSelection = EVERY_REF): Promise<string[]> {
  if (refs.all) {
    await git.run(
      ['fetch', ...FETCH_FLAGS, '--prune', '--end-of-options', url, '+refs/*:refs/*'],
      { gitDir, what: 'git fetch' },
    );
    return [];
  }
  return (await fetchSelected(git, gitDir, url, refs, { flags: ['--prune'] })).gone;
}

/**
 * One `git fetch` of the selected refs: the include patterns as refspecs, the exclude patterns as
 * negative refspecs, so an excluded ref is never asked for (and, with protocol v2, an include
 * narrows what the primary lists: `ref-prefix refs/heads/`). An exact include the primary does
 * not have makes git stop ("couldn't find remote ref"): it is left out and the fetch runs again,
 * at most once per exact include. An exact include an exclude also matches is never selected.
 */
export async function fetchSelected(git: GitRunner, gitDir: string, url: string, refs: RefSelection, options: SelectedFetchOptions = {}): Promise<SelectedFetch> {
  let include = refs.include.filter((p) => isGlob(p) || refs.selects(p));
  const gone: string[] = [];
  // Every include left out: nothing is selected, so there is nothing to fetch.
  while (refs.include.length === 0 || include.length > 0) {
    const outcome = await git.attempt(
      ['fetch', ...FETCH_FLAGS, ...(options.flags ?? []), '--end-of-options', url, ...selectionRefspecs(include, refs.exclude)],
      { gitDir, what: 'git fetch' },
    );
    if (outcome.code === 0) break;
    const serverFormat = options.formatMayDiffer ? serverObjectFormat(outcome.stderr) : undefined;
    if (serverFormat !== undefined) return { gone, serverFormat };
    const missing = missingRemoteRef(outcome.stderr, include.filter((p) => !isGlob(p)));
    if (missing === undefined) throw git.fail(outcome, 'git fetch');
    gone.push(missing);
    include = include.filter((p) => p !== missing);
  }
  return { gone };
}

export interface SelectedFetchOptions {
  flags?: readonly string[];
  /** A fresh repository of `git init`: report the primary's object format when that is all that was wrong. */
  formatMayDiffer?: boolean;
}

export interface SelectedFetch {
  /** Refs an exact include names that the primary does not have. */
  gone: string[];
  /** Set when the fetch failed only because the primary's repository has this object format. */
  serverFormat?: string;
}

/**
 * After a whole-repository fetch with a selection: deletes the local refs it does not select
 * (left from before replica.refs changed; git's --prune leaves refs a negative refspec matches
 * alone) and those in `gone`, in one update-ref transaction with their old values. Returns
 * `local` without them.
 */
export async function pruneUnselected(git: GitRunner, gitDir: string, local: ReadonlyMap<string, string>, refs: RefSelection, gone: readonly string[]): Promise<Map<string, string>> {
  const kept = new Map(local);
  if (refs.all) return kept;
  const deletions: RefUpdate[] = [];
  for (const [ref, oid] of local) {
    if (refs.selects(ref) && !gone.includes(ref)) continue;
    deletions.push({ ref, newOid: undefined, oldOid: oid });
    kept.delete(ref);
  }
  const outcome = await updateRefs(git, gitDir, deletions);
  if (outcome.code !== 0) throw git.fail(outcome, 'git update-ref');
  return kept;
}

/**
 * Points the replica's HEAD where the primary's points, when that branch exists on both.
 * (A whole-repository sync lists every ref anyway; ls-remote adds one small round trip.)
 */
export async function followHead(git: GitRunner, gitDir: string, url: string, local: ReadonlyMap<string, string>): Promise<string | undefined> {
  // Run inside the replica repository (whose config pullrep controls), never in the caller's directory.
  const { stdout } = await git.run(['ls-remote', '--symref', '--end-of-options', url, 'HEAD'], { gitDir, what: 'git ls-remote' });
  const target = /^ref: (refs\/\S+)\tHEAD$/m.exec(stdout)?.[1];
  if (!target || !local.has(target)) return undefined;
  const current = (await git.attempt(['symbolic-ref', '--quiet', 'HEAD'], { gitDir, what: 'git symbolic-ref' })).stdout.trim();
  if (current === target) return undefined;
  await git.run(['symbolic-ref', 'HEAD', target], { gitDir, what: 'git symbolic-ref' });
  return target;
}
