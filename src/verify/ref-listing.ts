import { RefChecksum } from './checksum.js';
import { baseConfigArgs, classify, PermanentFetchError, runGit, type FetchError, type GitOutcome } from '../fetch/index.js';

/** How the listings below run git: the fetch engine's environment and limits. */
export interface ListingDeps {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Collect the distinct objects the refs point at, up to this many (see Listing.tips). */
  collectTips?: number;
  /**
   * replica.refs: only the refs it selects count in `checksum`, `refs` and `tips`; the others are
   * summed apart (Listing.unselected). Absent: every ref counts, and nothing is matched.
   */
  selects?: ((ref: string) => boolean) | undefined;
}

/** A finished listing: the checksum, the number of refs, and the git process's outcome. */
export interface Listing {
  checksum: string;
  refs: number;
  outcome: GitOutcome;
  /** A line git printed that is not `<oid> refs/…` (the checksum is then not trusted). */
  badLine?: string;
  /** The distinct objects the refs point at, when asked for and not more than collectTips. */
  tips?: string[];
  /** With ListingDeps.selects: the checksum and number of the refs it does not select. */
  unselected?: { checksum: string; refs: number };
}

/**
 * The checksum of a local repository's refs: every ref under refs/ (HEAD and other pseudo-refs
 * are not refs/ and do not count), as `git show-ref` lists them, streamed. show-ref prints refs as
 * it reads them, where for-each-ref first collects and sorts them all (about 190 MB of git's
 * memory for 500,000 refs, against 34 MB; see docs/verify.md), and it fails on a ref whose object
 * is missing, so a damaged replica is reported rather than summed.
 */
export async function localListing(gitDir: string, deps: ListingDeps): Promise<Listing> {
  const result = await listing([`--git-dir=${gitDir}`, 'show-ref'], ' ', deps);
  // show-ref exits 1, silently, when there is no ref at all: an empty repository.
  const empty = result.outcome.code === 1 && result.refs === 0 && !result.outcome.stderr.trim();
  return empty ? { ...result, outcome: { ...result.outcome, code: 0 } } : result;
}

/**
 * The checksum of the refs a remote advertises under refs/ (`git ls-remote --refs`: no HEAD, no
 * peeled tags), over protocol v2 like every git process of the fetch engine, outside any
 * repository (runGit's working directory), so no repository's configuration can rewrite the URL.
 */
export function remoteListing(url: string, deps: ListingDeps): Promise<Listing> {
  return listing(['ls-remote', '--refs', '--end-of-options', url], '\t', deps);
}

/** `<oid><space or tab>refs/…`, the oid a SHA-1 or SHA-256 in lower-case hex. */
const REF_LINE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})[ \t]refs\/./;

/**
 * git's `<oid><separator><refname>` as the checksum's `<oid> <refname>` line (unchanged when git
 * already separates with a space), or undefined for anything that is not a ref under refs/.
 */
export function checksumLine(line: string, separator: ' ' | '\t'): string | undefined {
  if (!REF_LINE.test(line)) return undefined;
  const at = line[40] === ' ' || line[40] === '\t' ? 40 : 64;
  if (line[at] !== separator) return undefined;
  return separator === ' ' ? line : line.replace(separator, ' ');
}

async function listing(args: string[], separator: ' ' | '\t', deps: ListingDeps): Promise<Listing> {
  const sum = new RefChecksum();
  const selects = deps.selects;
  const other = selects ? new RefChecksum() : undefined;
  let badLine: string | undefined;
  const limit = deps.collectTips ?? 0;
  let tips: Set<string> | undefined = limit > 0 ? new Set() : undefined;
  const outcome = await runGit([...baseConfigArgs(), ...args], {
    env: deps.env,
    timeoutMs: deps.timeoutMs,
    signal: deps.signal,
    onLine: (line) => {
      const refLine = checksumLine(line, separator);
      if (refLine !== undefined) {
        if (other && selects && !selects(refLine.slice(refLine.indexOf(' ') + 1))) {
          other.addLine(refLine);
          return;
        }
        sum.addLine(refLine);
        if (tips) {
          tips.add(refLine.slice(0, refLine.indexOf(' ')));
          if (tips.size > limit) tips = undefined;
        }
      } else badLine ??= line.slice(0, 200);
    },
  });
  return {
    checksum: sum.hex(),
    refs: sum.count,
    outcome,
    ...(badLine !== undefined ? { badLine } : {}),
    ...(tips ? { tips: [...tips] } : {}),
    ...(other ? { unselected: { checksum: other.hex(), refs: other.count } } : {}),
  };
}

/**
 * The objects of `oids` that a repository cannot read: `git cat-file --batch-check` opens each
 * one's header, so a file that is missing, empty or not an object shows (show-ref only sees that
 * a file exists). Resolves to the unreadable ones, or rejects with the git process's outcome.
 */
export async function unreadableObjects(gitDir: string, oids: readonly string[], deps: ListingDeps): Promise<{ unreadable: string[]; outcome: GitOutcome }> {
  const unreadable: string[] = [];
  if (oids.length === 0) return { unreadable, outcome: { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false } };
  const outcome = await runGit([...baseConfigArgs(), `--git-dir=${gitDir}`, 'cat-file', '--batch-check'], {
    env: deps.env,
    timeoutMs: deps.timeoutMs,
    signal: deps.signal,
    input: oids.join('\n') + '\n',
    onLine: (line) => {
      if (line.endsWith(' missing')) unreadable.push(line.slice(0, line.indexOf(' ')));
    },
  });
  return { unreadable, outcome };
}

/**
 * Why a listing cannot be trusted, as a fetch error (classified like any git failure, with the
 * secrets scrubbed), or undefined when it can.
 */
export function listingFailure(what: string, listing: Listing, secrets: readonly string[]): FetchError | undefined {
  if (listing.outcome.code !== 0) return classify(listing.outcome, { what, secrets, missingRepoGraceMs: 0, now: 0 });
  if (listing.badLine !== undefined) return new PermanentFetchError(`${what} printed an unexpected line: ${JSON.stringify(listing.badLine)}`, 'invalid');
  return undefined;
}
