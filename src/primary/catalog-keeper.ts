import { hash } from 'node:crypto';
import { isZeroOid, type RefEvent } from '../events/index.js';
import { encodeCatalogRecord, type CatalogRecord } from '../catalog/record.js';
import type { Logger } from '../log/index.js';
import { EMPTY_CHECKSUM } from '../verify/index.js';

/**
 * The agent's knowledge of every repository's refs, and the catalog records it owes Kafka.
 *
 * After a push, a repository's checksum is updated from the push itself: XOR out
 * SHA-1("<old> <ref>") and XOR in SHA-1("<new> <ref>") for every ref it changed, a few
 * microseconds whatever the number of refs (a full listing of 500,000 refs takes about a second).
 * That is exact when the old values are, which a post-receive hook guarantees (a
 * reference-transaction hook may report no old value), and when the state it starts from is:
 * - A push the hook wrote before a full listing started is in that listing: nothing to add.
 * - One written more than AMBIGUOUS_MS after the listing ended is not: it is added.
 * - One written in between may or may not be (the ref moved while git listed, or just before):
 *   the increment is a guess, and the repository is listed again once it has been quiet for a
 *   moment (the agent schedules it).
 * A push also forgets the repository's signature, so the next scan lists it in full and corrects
 * the record if an increment was wrong (counted as a correction). docs/catalog.md has the
 * measurements.
 */
export const AMBIGUOUS_MS = 500;

export interface RepoState {
  checksum: string;
  refs: number;
  /** When the full listing behind this state started and ended (epoch ms). */
  listedAt: number;
  listedEnd: number;
  /** The refs signature taken before that listing, when it can vouch for the refs (signature.ts). */
  signature?: string | undefined;
}

export interface Listed {
  checksum: string;
  refs: number;
}

/** Where records go: the catalog writer coalesces them per repository (latest wins). */
export interface CatalogOutput {
  put(repo: string, value: string | null): void;
}

export interface KeeperDeps {
  origin: string;
  output: CatalogOutput;
  logger: Logger;
  now?: () => number;
  /** Counts records corrected by a listing: the repository changed without a hook, or an increment was wrong. */
  onCorrection?: (repo: string) => void;
}

function xorInto(sum: Uint8Array, line: string): void {
  const digest = hash('sha1', line, 'binary');
  for (let i = 0; i < 20; i++) sum[i] = (sum[i] ?? 0) ^ digest.charCodeAt(i);
}

/** The checksum after the given ref updates, from the checksum before them. */
export function applyUpdates(before: Listed, updates: ReadonlyArray<{ ref: string; old: string; new: string }>): Listed {
  const sum = Uint8Array.from(Buffer.from(before.checksum, 'hex'));
  let refs = before.refs;
  for (const u of updates) {
    if (!isZeroOid(u.old)) {
      xorInto(sum, `${u.old} ${u.ref}`);
      refs -= 1;
    }
    if (!isZeroOid(u.new)) {
      xorInto(sum, `${u.new} ${u.ref}`);
      refs += 1;
    }
  }
  // A wrong old value can make the count impossible; the next full listing corrects it.
  return { checksum: refs <= 0 && sum.every((b) => b === 0) ? EMPTY_CHECKSUM : Buffer.from(sum).toString('hex'), refs: Math.max(0, refs) };
}

export class CatalogKeeper {
  private readonly state = new Map<string, RepoState>();
  /** What the catalog holds for each repository of this primary, as far as this process knows. */
  private readonly published = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly deps: KeeperDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** What the catalog topic held at start: this primary's records (what this process wrote since is newer). */
  seed(records: Iterable<CatalogRecord>): void {
    for (const r of records) {
      if (r.primary === this.deps.origin && !this.published.has(r.repo)) this.published.set(r.repo, `${r.checksum} ${r.refs}`);
    }
  }

  /** Repositories the catalog holds for this primary. */
  publishedRepos(): string[] {
    return [...this.published.keys()];
  }

  get(repo: string): RepoState | undefined {
    return this.state.get(repo);
  }

  /**
   * A relayed push (or an event of `pullrep publish`), written to the spool at `writtenAt`.
   * Returns whether the repository needs a full listing first (nothing known of it yet).
   */
  applyEvents(repo: string, events: readonly RefEvent[], writtenAt: number): 'applied' | 'included' | 'needs-listing' | 'list-when-quiet' {
    const current = this.state.get(repo);
    if (!current) return 'needs-listing';
    if (events.some((e) => e.kind !== 'refs-updated')) return 'needs-listing';
    // The listing started after the hook wrote the push: the push is in it already.
    if (writtenAt <= current.listedAt) return 'included';
    const updates = events.flatMap((e) => (e.kind === 'refs-updated' ? e.refs : []));
    const next = applyUpdates(current, updates);
    this.state.set(repo, { ...next, listedAt: current.listedAt, listedEnd: current.listedEnd, signature: undefined });
    this.publish(repo, next, 'push');
    return writtenAt <= current.listedEnd + AMBIGUOUS_MS ? 'list-when-quiet' : 'applied';
  }

  /** The result of a full listing from `listedAt` to `listedEnd`, with the signature taken before it. */
  applyListing(repo: string, listed: Listed, listedAt: number, listedEnd: number, signature: string | undefined): void {
    const before = this.state.get(repo);
    const publishedValue = this.published.get(repo);
    const differs = publishedValue !== undefined && publishedValue !== `${listed.checksum} ${listed.refs}`;
    if (differs && (before === undefined || before.checksum !== listed.checksum || before.refs !== listed.refs)) {
      this.deps.logger.info({ repo, checksum: listed.checksum, refs: listed.refs }, 'catalog corrected: the repository changed without a hook');
      this.deps.onCorrection?.(repo);
    }
    this.state.set(repo, { ...listed, listedAt, listedEnd, signature });
    this.publish(repo, listed, 'scan');
  }

  /** The repository is gone from primary.root: a tombstone, once. */
  removed(repo: string): void {
    this.state.delete(repo);
    if (!this.published.has(repo)) return;
    this.published.delete(repo);
    this.deps.output.put(repo, null);
    this.deps.logger.info({ repo }, 'repository deleted on the primary: catalog tombstone');
  }

  /** Every repository the agent knows of (listed or published). */
  known(): Set<string> {
    return new Set([...this.state.keys(), ...this.published.keys()]);
  }

  private publish(repo: string, listed: Listed, source: CatalogRecord['source']): void {
    const value = `${listed.checksum} ${listed.refs}`;
    if (this.published.get(repo) === value) return;
    this.published.set(repo, value);
    const record: CatalogRecord = {
      v: 1,
      repo,
      checksum: listed.checksum,
      refs: listed.refs,
      updatedAt: new Date(this.now()).toISOString(),
      primary: this.deps.origin,
      source,
    };
    this.deps.output.put(repo, encodeCatalogRecord(record));
  }
}
