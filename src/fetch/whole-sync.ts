import { FETCH_FLAGS } from './fetch-args.js';
import type { GitRunner } from './git-runner.js';

/** Fetches every ref of the primary and prunes the refs it no longer has. */
export async function fetchEverything(git: GitRunner, gitDir: string, url: string): Promise<void> {
  await git.run(
    ['fetch', ...FETCH_FLAGS, '--prune', '--end-of-options', url, '+refs/*:refs/*'],
    { gitDir, what: 'git fetch' },
  );
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
