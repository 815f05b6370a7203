import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { quote, repoNameProblem } from '../events/index.js';
import { PathResolutionError, PublishInputError } from './errors.js';

export interface RepoNameInput {
  /** An explicit name (`--repo`). */
  repo?: string | undefined;
  /** GIT_DIR as git gives it to the hook (often "."), relative to `cwd`. */
  gitDir?: string | undefined;
  cwd: string;
  /** primary.root */
  root: string;
}

/**
 * The repository name of an event: `--repo`, or the hook's repository relative to primary.root.
 * A repository outside primary.root, or a name that is unsafe on a replica, is refused.
 */
export function deriveRepoName(input: RepoNameInput): string {
  if (input.repo !== undefined) return checked(input.repo);
  if (!input.root) throw new PublishInputError('primary.root is not set: set it, or name the repository with --repo');
  const dir = resolve(input.cwd, input.gitDir ?? '.');
  const realDir = real(dir, 'repository');
  const realRoot = real(resolve(input.root), 'primary.root');
  const rel = relative(realRoot, realDir);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new PublishInputError(`repository ${quote(dir)} is outside primary.root ${quote(input.root)}`);
  }
  return checked(rel.split(sep).join('/'));
}

function checked(name: string): string {
  const problem = repoNameProblem(name);
  if (problem) throw new PublishInputError(`repository name ${quote(name)} ${problem}`);
  return name;
}

function real(path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new PathResolutionError(`${what} ${quote(path)} cannot be resolved: ${code}`, what, code, {
      cause: err,
    });
  }
}
