import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * The directory git runs a repository's hooks from, when `core.hooksPath` (from the repository's,
 * the user's or the system's configuration) sends it somewhere other than `<repo>/hooks`: a hook
 * installed in `<repo>/hooks` never runs then. Undefined when git uses `<repo>/hooks`, or cannot
 * tell (git missing, a repository it refuses to read).
 */
export async function otherHooksDir(repo: string): Promise<string | undefined> {
  const value = await new Promise<string>((done) => {
    execFile('git', [`--git-dir=${repo}`, 'config', '--type=path', '--get', 'core.hooksPath'], { timeout: 10_000 }, (err, stdout) =>
      done(err ? '' : stdout.trim()),
    );
  });
  if (value === '') return undefined;
  const dir = resolve(repo, value);
  const own = join(repo, 'hooks');
  const [a, b] = await Promise.all([realpath(dir).catch(() => dir), realpath(own).catch(() => own)]);
  return a === b ? undefined : dir;
}
