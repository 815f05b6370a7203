import { existsSync } from 'node:fs';
import type { FetchOptions } from '../config/index.js';
import { classify, gitEnvironment, primarySecrets, primaryUrl, repoPathUnder } from '../fetch/index.js';
import { listingFailure, localListing, remoteListing, unreadableObjects, type Listing, type ListingDeps } from '../verify/index.js';

/** The replica's copy of a repository as verification sees it. */
export type LocalSide = { kind: 'absent' } | { kind: 'present'; checksum: string; refs: number } | { kind: 'damaged'; why: string };

/** Reads both sides of a repository: the replica's copy on disk, and the primary over the network. */
export interface Sides {
  /** `objects: false` leaves out the check of the ref tips' objects (a resync only needs the checksum). */
  local(repo: string, signal?: AbortSignal, options?: { objects?: boolean }): Promise<LocalSide>;
  /** The primary's checksum (`git ls-remote` over protocol v2), null when the primary has no such repository. */
  primary(repo: string, signal?: AbortSignal): Promise<string | null>;
}

/** Up to this many distinct ref tips are opened to find damaged objects; beyond, only show-ref's existence check. */
const MAX_TIPS_CHECKED = 10_000;

export function createSides(options: FetchOptions, env: NodeJS.ProcessEnv): Sides {
  const base = { env: gitEnvironment(env, options.primaryUrl, options.credentials), timeoutMs: options.gitTimeoutMs };
  const secrets = primarySecrets(options.credentials);
  const failure = (what: string, listing: Listing) => listingFailure(what, listing, secrets);
  return {
    async local(repo, signal, { objects = true } = {}) {
      const path = repoPathUnder(options.root, repo, 'replica.root');
      if (!existsSync(path)) return { kind: 'absent' };
      const deps: ListingDeps = { ...base, signal, collectTips: objects ? MAX_TIPS_CHECKED : 0 };
      const listing = await localListing(path, deps);
      const error = failure(`git show-ref in the replica's ${repo}`, listing);
      if (error) {
        if (error.kind === 'aborted' || error.kind === 'timeout') throw error;
        return { kind: 'damaged', why: error.message };
      }
      if (listing.tips) {
        const { unreadable, outcome } = await unreadableObjects(path, listing.tips, deps);
        if (outcome.code !== 0 && !outcome.aborted && !outcome.timedOut) return { kind: 'damaged', why: `git cat-file failed in the replica's ${repo}` };
        if (outcome.aborted || outcome.timedOut) throw classify(outcome, { what: `git cat-file in ${repo}`, secrets, missingRepoGraceMs: 0, now: 0 });
        if (unreadable.length) return { kind: 'damaged', why: `${unreadable.length} ref tip object(s) cannot be read, e.g. ${unreadable[0]}` };
      }
      return { kind: 'present', checksum: listing.checksum, refs: listing.refs };
    },
    async primary(repo, signal) {
      const listing = await remoteListing(primaryUrl(options.primaryUrl, repo), { ...base, signal });
      const error = failure(`git ls-remote of ${repo}`, listing);
      if (error?.kind === 'not-found') return null;
      if (error) throw error;
      return listing.checksum;
    },
  };
}
