import { lstatSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { assertRepoName, assertRefName } from '../events/index.js';
import { primaryUrlProblem } from '../config/primary-url.js';
import { PermanentFetchError } from './errors.js';

/** Directory under replica.root for temporary clones and quarantines; a dot name no repository can have. */
export const TMP_DIR = '.pullrep-tmp';

/** Validates a repository name; an unsafe one is a permanent 'invalid' error. */
export function checkRepoName(repo: string): string {
  try {
    return assertRepoName(repo);
  } catch (err) {
    throw new PermanentFetchError((err as Error).message, 'invalid', { cause: err });
  }
}

export function checkRefNames(refs: readonly string[]): string[] {
  const unique = [...new Set(refs)];
  for (const ref of unique) {
    try {
      assertRefName(ref);
    } catch (err) {
      throw new PermanentFetchError((err as Error).message, 'invalid', { cause: err });
    }
  }
  return unique.sort();
}

/**
 * The path of a repository under a root (replica.root, or primary.root for a local primary):
 * inside the root, and no existing component of the path below the root may be a symbolic link
 * (which could point outside it). `rootKey` names the root in errors.
 */
export function repoPathUnder(root: string, repo: string, rootKey: string): string {
  checkRepoName(repo);
  if (!root) throw new PermanentFetchError(`${rootKey} must be set`, 'invalid');
  const base = resolve(root);
  const path = resolve(base, repo);
  const rel = relative(base, path);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) {
    throw new PermanentFetchError(`repository path escapes ${rootKey}: ${JSON.stringify(repo)}`, 'invalid');
  }
  let current = base;
  for (const part of rel.split(sep)) {
    current = join(current, part);
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (!stat) break;
    if (stat.isSymbolicLink()) {
      throw new PermanentFetchError(`repository path under ${rootKey} is a symbolic link: ${JSON.stringify(repo)}`, 'invalid');
    }
  }
  return path;
}

/** The fetch URL: primary.url with {repo} replaced by the validated name, and nothing else. */
export function primaryUrl(template: string, repo: string): string {
  checkRepoName(repo);
  const problem = primaryUrlProblem(template);
  if (problem) throw new PermanentFetchError(problem.message, problem.kind);
  return template.split('{repo}').join(repo);
}
