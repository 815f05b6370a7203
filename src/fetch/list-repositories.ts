import { repoNameProblem } from '../events/index.js';
import { findBareRepos, repoNameUnder } from '../repos/scan.js';

/**
 * The bare repositories under a root (replica.root, or primary.root for verify), as repository
 * names (`group/app.git`), sorted. Names that are not valid repository names are left out;
 * unreadable directories count as empty.
 */
export async function listRepositories(root: string): Promise<string[]> {
  const paths = await findBareRepos(root, { skipUnreadable: true });
  return paths
    .map((path) => repoNameUnder(root, path))
    .filter((name) => !repoNameProblem(name))
    .sort();
}
