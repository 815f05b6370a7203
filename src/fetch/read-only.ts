import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configValues } from './config-text.js';
import type { GitRunner } from './git-runner.js';
import { hasHookMarker, HOOK_FILE, isReadOnlyHook, READ_ONLY_HIDE_REFS, READ_ONLY_HOOKS_PATH } from './read-only-hook.js';
import { READ_SAFELY } from './repo-guard.js';

/**
 * A replica repository's read-only setup, read with a few file system calls and no git process,
 * so every sync can afford to check it (replica.readOnly; see docs/operations.md).
 */

/**
 * hooks/pre-receive: `current` is exactly the hook pullrep would write now; `ours` is pullrep's
 * hook, unaltered, for another primary URL; `altered` carries pullrep's marker but was edited or
 * lost its executable bit; `foreign` is someone else's (pullrep never touches it); `blocked`:
 * hooks/ is not a directory, so pullrep writes nothing there.
 */
export type HookState = 'current' | 'ours' | 'altered' | 'missing' | 'foreign' | 'blocked';

export interface ReadOnlyState {
  hook: HookState;
  /** core.hooksPath is pullrep's `hooks`, so a global or system core.hooksPath cannot bypass the hook. */
  hooksPath: boolean;
  /** receive.hideRefs has pullrep's `refs`: receive-pack refuses every update, hook or not. */
  hideRefs: boolean;
}

/** Larger than any hook pullrep writes, and than any config of a replica (repo-guard.ts). */
const MAX_BYTES = 64 * 1024;

/** The repository's read-only setup; `expected` is the hook pullrep would write now, if known. */
export function readOnlyState(gitDir: string, expected?: string): ReadOnlyState {
  const config = readSmall(join(gitDir, 'config'));
  const text = config.kind === 'file' ? config.text : '';
  return {
    hook: hookState(gitDir, expected),
    hooksPath: configValues(text, 'core', 'hooksPath').at(-1) === READ_ONLY_HOOKS_PATH,
    hideRefs: configValues(text, 'receive', 'hideRefs').includes(READ_ONLY_HIDE_REFS),
  };
}

function hookState(gitDir: string, expected: string | undefined): HookState {
  const dir = lstatSync(join(gitDir, 'hooks'), { throwIfNoEntry: false });
  if (!dir) return 'missing';
  if (!dir.isDirectory()) return 'blocked';
  const hook = readSmall(join(gitDir, 'hooks', HOOK_FILE));
  if (hook.kind === 'absent') return 'missing';
  if (hook.kind === 'other' || !hasHookMarker(hook.text)) return 'foreign';
  // git ignores a hook that is not executable (with a hint), so it would refuse nothing.
  if ((hook.mode & 0o100) === 0) return 'altered';
  if (hook.text === expected) return 'current';
  return isReadOnlyHook(hook.text) ? 'ours' : 'altered';
}

/** What is wrong with each hook state that does not refuse pushes. */
const HOOK_PROBLEMS = {
  missing: `hooks/${HOOK_FILE} is missing`,
  altered: `hooks/${HOOK_FILE} was altered`,
  foreign: `hooks/${HOOK_FILE} is not pullrep's (left alone)`,
  blocked: 'hooks is not a directory',
} as const;

/** Why a repository that should be read-only is not, or undefined when it is. */
export function readOnlyProblem(state: ReadOnlyState): string | undefined {
  const problems: string[] = [];
  if (state.hook !== 'current' && state.hook !== 'ours') problems.push(HOOK_PROBLEMS[state.hook]);
  if (!state.hooksPath) problems.push(`core.hooksPath is not ${READ_ONLY_HOOKS_PATH}`);
  if (!state.hideRefs) problems.push(`receive.hideRefs does not include ${READ_ONLY_HIDE_REFS}`);
  return problems.length ? problems.join('; ') : undefined;
}

/** What a keep step changed, and what it could not change (a hook that is not pullrep's). */
export interface ReadOnlyChange {
  changed: string[];
  problem?: string;
}

/**
 * Makes the repository read-only (`hook` given) or takes pullrep's setup out of it (`hook`
 * undefined: replica.readOnly off). Idempotent; runs git only for a config entry that is not as
 * it should be. A hook pullrep did not write is never overwritten or removed.
 */
export async function keepReadOnly(git: GitRunner, gitDir: string, hook: string | undefined): Promise<ReadOnlyChange> {
  const state = readOnlyState(gitDir, hook);
  return hook === undefined ? undoReadOnly(git, gitDir, state) : makeReadOnly(git, gitDir, hook, state);
}

async function makeReadOnly(git: GitRunner, gitDir: string, hook: string, state: ReadOnlyState): Promise<ReadOnlyChange> {
  const changed: string[] = [];
  if (state.hook === 'missing' || state.hook === 'ours' || state.hook === 'altered') {
    await writeHook(gitDir, hook);
    changed.push(`hooks/${HOOK_FILE}`);
  }
  if (!state.hooksPath) {
    await git.run(['config', 'core.hooksPath', READ_ONLY_HOOKS_PATH], { gitDir, what: 'git config' });
    changed.push('core.hooksPath');
  }
  if (!state.hideRefs) {
    await git.run(['config', '--add', 'receive.hideRefs', READ_ONLY_HIDE_REFS], { gitDir, what: 'git config' });
    changed.push('receive.hideRefs');
  }
  return state.hook === 'foreign' || state.hook === 'blocked' ? { changed, problem: HOOK_PROBLEMS[state.hook] } : { changed };
}

async function undoReadOnly(git: GitRunner, gitDir: string, state: ReadOnlyState): Promise<ReadOnlyChange> {
  const changed: string[] = [];
  if (state.hook === 'current' || state.hook === 'ours' || state.hook === 'altered') {
    await rm(join(gitDir, 'hooks', HOOK_FILE), { force: true });
    changed.push(`hooks/${HOOK_FILE}`);
  }
  if (state.hooksPath) {
    await git.run(['config', '--unset', 'core.hooksPath'], { gitDir, what: 'git config' });
    changed.push('core.hooksPath');
  }
  if (state.hideRefs) {
    await git.run(['config', '--fixed-value', '--unset-all', 'receive.hideRefs', READ_ONLY_HIDE_REFS], { gitDir, what: 'git config' });
    changed.push('receive.hideRefs');
  }
  return { changed };
}

/** `git clone` options that set the config entries of a read-only replica in the new repository. */
export function readOnlyCloneArgs(): string[] {
  return ['--config', `core.hooksPath=${READ_ONLY_HOOKS_PATH}`, '--config', `receive.hideRefs=${READ_ONLY_HIDE_REFS}`];
}

/** Writes the hook beside its place and renames it there: a push never runs half a hook. */
async function writeHook(gitDir: string, hook: string): Promise<void> {
  const dir = join(gitDir, 'hooks');
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${HOOK_FILE}.pullrep-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, hook, { flag: 'wx' });
    await chmod(temp, 0o755);
    await rename(temp, join(dir, HOOK_FILE));
  } finally {
    await rm(temp, { force: true });
  }
}

type Small = { kind: 'absent' } | { kind: 'other' } | { kind: 'file'; text: string; mode: number };

/** A small regular file's text and mode; a link, FIFO, device or oversized file is `other` and is not read. */
function readSmall(file: string): Small {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat) return { kind: 'absent' };
  if (!stat.isFile() || stat.size > MAX_BYTES) return { kind: 'other' };
  let fd: number;
  try {
    fd = openSync(file, READ_SAFELY);
  } catch (err) {
    // Gone since the lstat, or swapped for a link (O_NOFOLLOW).
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'absent' } : { kind: 'other' };
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.size > MAX_BYTES) return { kind: 'other' };
    const buf = Buffer.alloc(opened.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { kind: 'file', text: buf.subarray(0, n).toString('utf8'), mode: opened.mode };
  } finally {
    closeSync(fd);
  }
}
