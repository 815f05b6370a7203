import { existsSync } from 'node:fs';
import type { FetchOptions } from '../config/index.js';
import { classify, gitEnvironment, primarySecrets, primaryUrl, repoPathUnder } from '../fetch/index.js';
import { refSelectionOf } from '../refs/selection.js';
import { combineChecksums, EMPTY_CHECKSUM, listingFailure, localListing, remoteListing, unreadableObjects, type Listing, type ListingDeps } from '../verify/index.js';

/**
 * The replica's copy of a repository as verification sees it. With replica.refs, `checksum` and
 * `refs` cover the refs it selects only (what `pullrep status` shows), and:
 * - `unselected`: refs the copy holds that replica.refs does not select (a whole sync prunes them);
 * - `againstCatalog`: the value to compare with the catalog's checksum, which covers every ref of
 *   the primary: `checksum` combined with the checksum of the primary's unselected refs as the
 *   last `primary()` listed them (none listed yet: none assumed). Equal to the catalog's only when
 *   both parts are the primary's, so the cheap path stays exact.
 * Both are absent without replica.refs (`checksum` is then compared directly).
 */
export type LocalSide =
  | { kind: 'absent' }
  | { kind: 'present'; checksum: string; refs: number; unselected?: number; againstCatalog?: string }
  | { kind: 'damaged'; why: string };

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
  const refs = refSelectionOf(options.refs);
  const selects = refs.all ? undefined : (ref: string) => refs.selects(ref);
  // With replica.refs: the checksum of each repository's unselected refs on the primary, as last
  // listed (only those that have any: 40 hex digits and the name per repository).
  const unselectedOnPrimary = new Map<string, string>();
  const base = { env: gitEnvironment(env, options.primaryUrl, options.credentials), timeoutMs: options.gitTimeoutMs, selects };
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
      if (!listing.unselected) return { kind: 'present', checksum: listing.checksum, refs: listing.refs };
      const againstCatalog = combineChecksums(listing.checksum, unselectedOnPrimary.get(repo) ?? EMPTY_CHECKSUM);
      return { kind: 'present', checksum: listing.checksum, refs: listing.refs, unselected: listing.unselected.refs, againstCatalog };
    },
    async primary(repo, signal) {
      const listing = await remoteListing(primaryUrl(options.primaryUrl, repo), { ...base, signal });
      const error = failure(`git ls-remote of ${repo}`, listing);
      if (error?.kind === 'not-found') {
        unselectedOnPrimary.delete(repo);
        return null;
      }
      if (error) throw error;
      if (listing.unselected?.refs) unselectedOnPrimary.set(repo, listing.unselected.checksum);
      else unselectedOnPrimary.delete(repo);
      return listing.checksum;
    },
  };
}
