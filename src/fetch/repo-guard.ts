import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { configLines, entryValue } from './config-text.js';
import { PermanentFetchError } from './errors.js';
import { READ_ONLY_HOOKS_PATH } from './read-only-hook.js';

/**
 * What pullrep refuses to work in. Anyone who can write to replica.root can already do harm, but
 * pullrep must not lend them its hands: a replica repository whose layout or configuration could
 * make git run a command, write outside the root, send the primary's credentials elsewhere, or
 * hang the process is refused before any git process runs there (see docs/fetch.md, Security).
 */

/** Paths inside a repository that must be what git made them, never a link or a special file. */
const DIRECTORIES = ['objects', 'objects/pack', 'objects/info', 'refs', 'refs/heads', 'refs/tags'];
const FILES = ['HEAD', 'config', 'packed-refs', 'objects/info/alternates'];

/** The one remote a mirror clone writes, and its keys. */
const REMOTE = 'origin';
const REMOTE_KEYS = new Set(['url', 'fetch', 'mirror']);

/**
 * Sections and keys of a repository's config that pullrep never writes and git would act on
 * (core.hooksPath only as a read-only replica pins it is allowed, see isOwnHooksPath).
 */
const FORBIDDEN_SECTIONS = new Set(['url', 'http', 'include', 'includeif', 'credential']);
const FORBIDDEN_CORE_KEYS = new Set(['hookspath', 'sshcommand', 'fsmonitor', 'alternaterefscommand', 'gitproxy', 'askpass', 'editor', 'pager', 'worktree']);

/** The largest config a replica repository has (a mirror clone writes a few hundred bytes). */
const MAX_CONFIG_BYTES = 64 * 1024;

export function checkRepository(gitDir: string, repo: string): void {
  const refuse = (why: string) => {
    throw new PermanentFetchError(`refusing to work in the replica repository ${JSON.stringify(repo)}: ${why}`, 'invalid');
  };
  for (const dir of DIRECTORIES) {
    const stat = lstatSync(join(gitDir, dir), { throwIfNoEntry: false });
    if (stat && !stat.isDirectory()) refuse(`${dir} is not a directory`);
  }
  for (const file of FILES) {
    const stat = lstatSync(join(gitDir, file), { throwIfNoEntry: false });
    if (stat && !stat.isFile()) refuse(`${file} is not a regular file`);
  }
  // pullrep never makes a replica borrow objects; alternates would let git read (and run
  // core.alternateRefsCommand for) another repository.
  if (lstatSync(join(gitDir, 'objects/info/alternates'), { throwIfNoEntry: false })) refuse('it has objects/info/alternates');
  // git reads config.worktree too when extensions.worktreeConfig is set: pullrep never sets it.
  if (lstatSync(join(gitDir, 'config.worktree'), { throwIfNoEntry: false })) refuse('it has a config.worktree');
  const problem = configProblem(join(gitDir, 'config'));
  if (problem) refuse(problem);
}

/** A config entry git would act on to pullrep's harm, or undefined. */
function configProblem(file: string): string | undefined {
  let text: string;
  try {
    const size = lstatSync(file, { throwIfNoEntry: false })?.size ?? 0;
    if (size > MAX_CONFIG_BYTES) return `its config is larger than ${MAX_CONFIG_BYTES} bytes`;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  for (const line of configLines(text)) {
    // A continued line would hide what follows from this reading; pullrep never writes one.
    if (line.kind === 'continued') return 'its config continues a line with a backslash';
    if (line.kind === 'unreadable-header') return 'its config has a section header pullrep cannot read';
    const { section, subsection } = line;
    if (line.kind === 'header') {
      if (FORBIDDEN_SECTIONS.has(section)) return `its config has a [${section}] section, which pullrep never sets`;
      // git applies a remote named like the URL it fetches (uploadpack, proxy …): only origin is ours.
      if (section === 'remote' && subsection !== REMOTE) return 'its config has a remote other than origin';
      continue;
    }
    const { key, entry } = line;
    if (section === 'core' && FORBIDDEN_CORE_KEYS.has(key) && !isOwnHooksPath(key, subsection, entry)) return `its config sets core.${key}, which pullrep never sets`;
    if (section === 'remote' && !REMOTE_KEYS.has(key)) return `its config sets remote.origin.${key}, which pullrep never sets`;
    if (section === 'extensions' && key === 'worktreeconfig') return 'its config sets extensions.worktreeConfig, which pullrep never sets';
  }
  return undefined;
}

/**
 * core.hooksPath as a read-only replica pins it (read-only.ts): the repository's own hooks/.
 * pullrep's git processes override it anyway (`-c core.hooksPath=/dev/null`, git-env.ts).
 */
function isOwnHooksPath(key: string, subsection: string | undefined, entry: string): boolean {
  return key === 'hookspath' && subsection === undefined && entryValue(entry) === READ_ONLY_HOOKS_PATH;
}

/** Open flags for a file inside a repository: never through a link, never blocking on a FIFO. */
export const READ_SAFELY = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The largest loose ref file: an object id and a newline, or "ref: <name>" for a symbolic ref. */
const MAX_LOOSE_REF_BYTES = 4096;

/**
 * The text of a loose ref file, or undefined when there is none. A link, a FIFO or a device is
 * refused (a FIFO would hang the process, /dev/zero exhaust its memory), and so is a file larger
 * than any ref git writes.
 */
export function readLooseRefFile(file: string): string | undefined {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat || stat.isDirectory()) return undefined;
  if (!stat.isFile()) throw new PermanentFetchError(`a ref of the replica is not a regular file: ${JSON.stringify(file)}`, 'invalid');
  if (stat.size > MAX_LOOSE_REF_BYTES) throw new PermanentFetchError(`a ref of the replica is larger than any ref: ${JSON.stringify(file)}`, 'invalid');
  // No link followed, no wait on a FIFO swapped in since the check.
  const fd = openSync(file, READ_SAFELY);
  try {
    // Opened by name after the check: still refuse anything that is not a small regular file.
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.size > MAX_LOOSE_REF_BYTES) throw new PermanentFetchError(`a ref of the replica changed while read: ${JSON.stringify(file)}`, 'invalid');
    const buf = Buffer.alloc(Math.min(opened.size, MAX_LOOSE_REF_BYTES));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
