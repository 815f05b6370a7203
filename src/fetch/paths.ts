import { existsSync, lstatSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { assertRepoName, assertRefName } from '../events/index.js';
import { envName, primaryUrlProblem } from '../config/index.js';
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
  if (!root) throw new PermanentFetchError(`${rootKey} must be set (${envName(rootKey)})`, 'invalid');
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

/** Whether `path` is a git directory: HEAD, objects/ and refs/ in it, none of them a link. */
export function isGitDir(path: string): boolean {
  const head = lstatSync(join(path, 'HEAD'), { throwIfNoEntry: false });
  const objects = lstatSync(join(path, 'objects'), { throwIfNoEntry: false });
  const refs = lstatSync(join(path, 'refs'), { throwIfNoEntry: false });
  return Boolean(head?.isFile() && objects?.isDirectory() && refs?.isDirectory());
}

/**
 * Refuses to delete anything but a repository pullrep replicated: `path` must itself be a git
 * directory, and no directory between the root and it may be one (`c.git/objects` is part of a
 * repository, `team` a directory of repositories).
 */
export function checkDeletable(root: string, repo: string, path: string): void {
  const parts = relative(resolve(root), path).split(sep);
  for (let i = 1; i < parts.length; i++) {
    if (isGitDir(join(resolve(root), ...parts.slice(0, i)))) {
      throw new PermanentFetchError(`refusing to delete ${JSON.stringify(repo)}: it is inside the repository ${JSON.stringify(parts.slice(0, i).join('/'))}`, 'invalid');
    }
  }
  if (!isGitDir(path)) throw new PermanentFetchError(`refusing to delete ${JSON.stringify(repo)}: it is not a repository on this replica`, 'invalid');
}

/**
 * One repository never gets two copies: a name and the same name with or without `.git` are one
 * repository (git servers guess the suffix, so both reach the same one on the primary). Creating a
 * repository whose other spelling is already on the replica is refused.
 */
export function checkNoOtherSpelling(repo: string, path: string): void {
  const other = otherSpelling(path);
  if (existsSync(other)) throw new PermanentFetchError(`repository ${JSON.stringify(repo)} is replicated here as ${JSON.stringify(otherSpelling(repo))}; events must name it so`, 'invalid');
}

/** A name (or path) with `.git` taken off, or put on. */
function otherSpelling(name: string): string {
  return name.endsWith('.git') ? name.slice(0, -4) : `${name}.git`;
}

/** The key under which a repository and its other spelling take their turns: one repository. */
export function repositoryKey(repo: string): string {
  return repo.endsWith('.git') ? repo.slice(0, -4) : repo;
}
