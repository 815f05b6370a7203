import { resolve } from 'node:path';
import type { RefEvent } from '../events/index.js';
import { InvalidSpoolFileError, PathResolutionError, SpoolError } from './errors.js';
import { refsUpdatedEvents } from './events.js';
import { deriveRepoName } from './repo-name.js';
import { parseRefLines, HOOK_TYPES, type HookType } from './stdin-parser.js';

/**
 * A push as the spooling hook writes it (docs/primary.md, "The spool"): a few header lines, then
 * git's `<old> <new> <ref>` lines as the hook got them on stdin.
 *
 *     pullrep-push 1
 *     hook post-receive
 *     cwd /srv/git/team/app.git
 *     git-dir .
 *     <old> <new> <ref>
 *     ...
 *
 * The hook stays a few lines of sh: it neither names the repository nor checks anything. The
 * agent does both here, with the same rules as `pullrep publish`.
 */
export const PUSH_SUFFIX = '.push';
const MAGIC = 'pullrep-push 1';

/** What turning a push into events needs: the publishing side of the configuration. */
export interface PushContext {
  /** primary.root: repository names are relative to it. */
  root: string;
  origin: string;
  topic: string;
  maxEventBytes: number;
}

export interface ParsedPush {
  hook: HookType;
  repo: string;
  events: RefEvent[];
}

/**
 * Parses one spooled push and builds its event(s), stamped with the time the hook wrote it.
 * Throws InvalidSpoolFileError for anything else: a bad header, a bad ref line, a repository
 * outside primary.root or with a name a replica refuses.
 */
export function parsePush(name: string, text: string, writtenAt: number, context: PushContext): ParsedPush {
  try {
    const lines = text.split('\n');
    if (lines[0] !== MAGIC) throw new Error(`it does not start with "${MAGIC}"`);
    const header = new Map<string, string>();
    let i = 1;
    for (; i < lines.length && i < 8; i++) {
      const line = lines[i] ?? '';
      const m = /^(hook|cwd|git-dir) (.*)$/.exec(line);
      if (!m) break;
      header.set(m[1] as string, m[2] as string);
    }
    const hook = header.get('hook') as HookType | undefined;
    if (!hook || !HOOK_TYPES.includes(hook)) throw new Error('its "hook" line is missing or names no known hook');
    const cwd = header.get('cwd');
    if (!cwd || !cwd.startsWith('/')) throw new Error('its "cwd" line is missing or not an absolute path');
    const gitDir = header.get('git-dir') || '.';
    const refs = parseRefLines(lines.slice(i).join('\n'), hook);
    const repo = deriveRepoName({ gitDir: resolve(cwd, gitDir), cwd, root: context.root });
    const events = refsUpdatedEvents({
      repo,
      origin: context.origin,
      refs,
      maxBytes: context.maxEventBytes,
      now: () => new Date(writtenAt),
    });
    return { hook, repo, events };
  } catch (err) {
    // The machine, not the push, is in the way: keep the file and try again later.
    if (err instanceof RangeError || (err instanceof PathResolutionError && (err.what === 'primary.root' || err.code !== 'ENOENT'))) {
      throw new SpoolError(`spooled push ${name} cannot be sent now: ${(err as Error).message}`, { cause: err });
    }
    throw new InvalidSpoolFileError(`spooled push ${name} is invalid: ${(err as Error).message}`, { cause: err });
  }
}

/** The time (epoch ms) a spool file was written, from its name; NaN when the name has none. */
export function spooledAtOf(name: string): number {
  return /^\d{15}-/.test(name) ? Number(name.slice(0, 15)) : Number.NaN;
}
