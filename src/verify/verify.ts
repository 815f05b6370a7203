import { existsSync } from 'node:fs';
import type { VerifyOptions } from '../config/index.js';
import type { Logger } from '../log/index.js';
import {
  FetchError,
  checkRepoName,
  gitEnvironment,
  listRepositories,
  primarySecrets,
  primaryUrl,
  readOnlyProblem,
  readOnlyState,
  repoPathUnder,
} from '../fetch/index.js';
import { refSelectionOf } from '../refs/selection.js';
import { listingFailure, localListing, remoteListing, type Listing, type ListingDeps } from './ref-listing.js';

/**
 * One repository compared: checksums are hex, null where the repository is absent. With
 * replica.refs, both checksums cover only the refs it selects.
 */
export interface VerifyResult {
  repo: string;
  primary: string | null;
  replica: string | null;
  /** Both sides exist, their checksums are equal, and the replica holds no ref replica.refs leaves out. */
  equal: boolean;
  missingOnReplica: boolean;
  missingOnPrimary: boolean;
  /**
   * replica.readOnly is on and the replica's copy would not refuse a push: why (its hook is
   * missing or altered, a config entry is gone). Absent when it is read-only, or not checked.
   */
  notReadOnly?: string;
  /** Refs the replica holds that replica.refs does not select (a whole sync prunes them); absent when none. */
  unselected?: number;
}

export interface VerifierDeps {
  options: VerifyOptions;
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
  const { options } = deps;
  const refs = refSelectionOf(options.refs);
  const listingDeps: ListingDeps = {
    env: gitEnvironment(deps.env, options.primaryUrl, options.credentials),
    timeoutMs: options.gitTimeoutMs,
    signal: deps.signal,
    selects: refs.all ? undefined : (ref) => refs.selects(ref),
  };
  const secrets = primarySecrets(options.credentials);
  const checked = (what: string, listing: Listing): string => {
    const failure = listingFailure(what, listing, secrets);
    if (failure) throw failure;
    return listing.checksum;
  };

  const primarySide = async (repo: string): Promise<string | null> => {
    if (deps.localPrimary) {
      const path = repoPathUnder(options.primaryRoot, repo, 'primary.root');
      if (!existsSync(path)) return null;
      return checked(`git show-ref in the primary's ${repo}`, await localListing(path, listingDeps));
    }
    const url = primaryUrl(options.primaryUrl, repo);
    try {
      return checked(`git ls-remote of ${repo}`, await remoteListing(url, listingDeps));
    } catch (err) {
      if (err instanceof FetchError && err.kind === 'not-found') return null;
      throw err;
    }
  };

  const replicaSide = async (repo: string): Promise<{ checksum: string; unselected: number } | null> => {
    const path = repoPathUnder(options.replicaRoot, repo, 'replica.root');
    if (!existsSync(path)) return null;
    const listing = await localListing(path, listingDeps);
    return { checksum: checked(`git show-ref in the replica's ${repo}`, listing), unselected: listing.unselected?.refs ?? 0 };
  };

  return {
    async verify(repo) {
      checkRepoName(repo);
      const [p, side] = await Promise.all([primarySide(repo), replicaSide(repo)]);
      const r = side?.checksum ?? null;
      const unselected = side?.unselected ?? 0;
      const result: VerifyResult = {
        repo,
        primary: p,
        replica: r,
        equal: p !== null && p === r && unselected === 0,
        missingOnReplica: r === null,
        missingOnPrimary: p === null,
        ...(unselected ? { unselected } : {}),
      };
      // A few file reads, no git: the setup the fetch engine keeps (read-only.ts).
      const notReadOnly = r !== null && options.readOnly ? readOnlyProblem(readOnlyState(repoPathUnder(options.replicaRoot, repo, 'replica.root'))) : undefined;
      if (notReadOnly !== undefined) result.notReadOnly = notReadOnly;
      deps.logger.debug(result, 'verified');
      return result;
    },
    async repositories() {
      const names = new Set(await listRepositories(options.replicaRoot));
      if (deps.localPrimary) for (const name of await listRepositories(options.primaryRoot)) names.add(name);
      return [...names].sort();
    },
  };
}
