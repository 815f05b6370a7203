import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { classify } from '../fetch/classify.js';
import { FetchError, PermanentFetchError } from '../fetch/errors.js';
import { gitEnvironment, primarySecrets } from '../fetch/git-env.js';
import { listRepositories } from '../fetch/list-repositories.js';
import { checkRepoName, primaryUrl, replicaPath } from '../fetch/paths.js';
import { localListing, remoteListing, type Listing, type ListingDeps } from './ref-listing.js';

/** One repository compared: checksums are hex, null where the repository is absent. */
export interface VerifyResult {
  repo: string;
  primary: string | null;
  replica: string | null;
  /** Both sides exist and their checksums are equal. */
  equal: boolean;
  missingOnReplica: boolean;
  missingOnPrimary: boolean;
}

export interface VerifierDeps {
  config: Pick<Config, 'primary' | 'replica'>;
  logger: Logger;
  /** The environment git inherits PATH, HOME, SSH_AUTH_SOCK and proxies from. */
  env: NodeJS.ProcessEnv;
  /** Read the primary's repositories from primary.root on this host instead of over the network. */
  localPrimary?: boolean;
  signal?: AbortSignal;
}

export interface Verifier {
  /** Compares one repository; a name that is not a safe repository name is refused before git runs. */
  verify(repo: string): Promise<VerifyResult>;
  /** The repositories --all covers: the replica's, plus the primary's with localPrimary. */
  repositories(): Promise<string[]>;
}

export function createVerifier(deps: VerifierDeps): Verifier {
  const { primary, replica } = deps.config;
  const listingDeps: ListingDeps = {
    env: gitEnvironment(deps.env, primary.url, primary),
    timeoutMs: replica.fetchTimeoutMs,
    signal: deps.signal,
  };
  const secrets = primarySecrets(primary);
  const checked = (what: string, listing: Listing): string => {
    if (listing.outcome.code !== 0) {
      throw classify(listing.outcome, { what, secrets, missingRepoGraceMs: 0, now: 0 });
    }
    if (listing.badLine !== undefined) throw new PermanentFetchError(`${what} printed an unexpected line: ${JSON.stringify(listing.badLine)}`, 'invalid');
    return listing.checksum;
  };

  const primarySide = async (repo: string): Promise<string | null> => {
    if (deps.localPrimary) {
      if (!primary.root) throw new PermanentFetchError('primary.root is not configured (needed by --local-primary)', 'invalid');
      const path = replicaPath(primary.root, repo);
      if (!existsSync(path)) return null;
      return checked(`git for-each-ref in the primary's ${repo}`, await localListing(path, listingDeps));
    }
    const url = primaryUrl(primary.url, repo);
    try {
      return checked(`git ls-remote of ${repo}`, await remoteListing(url, listingDeps));
    } catch (err) {
      if (err instanceof FetchError && err.kind === 'not-found') return null;
      throw err;
    }
  };

  const replicaSide = async (repo: string): Promise<string | null> => {
    const path = replicaPath(replica.root, repo);
    if (!existsSync(path)) return null;
    return checked(`git for-each-ref in the replica's ${repo}`, await localListing(path, listingDeps));
  };

  return {
    async verify(repo) {
      checkRepoName(repo);
      const [p, r] = await Promise.all([primarySide(repo), replicaSide(repo)]);
      const result: VerifyResult = {
        repo,
        primary: p,
        replica: r,
        equal: p !== null && p === r,
        missingOnReplica: r === null,
        missingOnPrimary: p === null,
      };
      deps.logger.debug(result, 'verified');
      return result;
    },
    async repositories() {
      if (!replica.root) throw new PermanentFetchError('replica.root is not configured', 'invalid');
      const names = new Set(await listRepositories(replica.root));
      if (deps.localPrimary && primary.root) for (const name of await listRepositories(primary.root)) names.add(name);
      return [...names].sort();
    },
  };
}
