import type { GitRunner } from './git-runner.js';

/**
 * Scheduled housekeeping of one replica repository, never run on the fetch path:
 * - pack loose refs (each synced ref leaves a loose ref file) and prune the loose copies;
 * - roll the many small packs that syncs leave behind into a geometric progression (cheap:
 *   only the small packs are rewritten; loose objects are folded in), deleting what it replaces.
 */
export async function runMaintenance(git: GitRunner, gitDir: string): Promise<void> {
  await git.run(['pack-refs', '--all', '--prune'], { gitDir, what: 'git pack-refs' });
  await git.run(['repack', '-d', '-l', '-q', '--geometric=2'], { gitDir, what: 'git repack' });
}
