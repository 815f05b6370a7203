import { rm } from 'node:fs/promises';
import { refNameProblem } from '../events/index.js';
import type { RefSelection } from '../refs/selection.js';
import type { GitRunner } from './git-runner.js';
import { fetchSelected } from './whole-sync.js';

/**
 * A clone of only the refs replica.refs selects, into `dir` (which must not exist yet):
 * `git clone --mirror` would fetch every ref (it ignores negative refspecs), so the repository is
 * made with `git init --bare` and filled by one fetch of the selected refspecs (fetchSelected).
 * `git init` cannot know the primary's object format; a SHA-256 primary makes the first fetch
 * fail with "mismatched algorithms", and the repository is made again in that format. HEAD then
 * points where the primary's does, as a mirror clone's would (even at a branch not replicated),
 * and the refs are packed, as a clone leaves them.
 */
export async function cloneSelected(git: GitRunner, url: string, dir: string, refs: RefSelection): Promise<void> {
  await init(git, dir);
  const { serverFormat } = await fetchSelected(git, dir, url, refs, { formatMayDiffer: true });
  if (serverFormat !== undefined) {
    await rm(dir, { recursive: true, force: true });
    await init(git, dir, serverFormat);
    await fetchSelected(git, dir, url, refs);
  }
  const { stdout } = await git.run(['ls-remote', '--symref', '--end-of-options', url, 'HEAD'], { gitDir: dir, what: 'git ls-remote' });
  const head = /^ref: (refs\/\S+)\tHEAD$/m.exec(stdout)?.[1];
  if (head !== undefined && refNameProblem(head) === undefined) {
    await git.run(['symbolic-ref', 'HEAD', head], { gitDir: dir, what: 'git symbolic-ref' });
  }
  await git.run(['pack-refs', '--all', '--prune'], { gitDir: dir, what: 'git pack-refs' });
}

function init(git: GitRunner, dir: string, objectFormat?: string): Promise<unknown> {
  const format = objectFormat ? [`--object-format=${objectFormat}`] : [];
  return git.run(['init', '--bare', '--quiet', '--template=', ...format, '--', dir], { what: 'git init' });
}
