import type { Fetcher } from '../fetch/index.js';
import type { Verifier, VerifyResult } from './verify.js';

/** A repository's line in a report: its comparison, or why it could not be compared. */
export interface VerifyEntry extends VerifyResult {
  /** Why the repository could not be verified (or repaired); it then counts as differing. */
  error?: string;
  /** --repair synced it from the primary; the checksums are the ones read afterwards. */
  repaired?: boolean;
}

export interface BatchDeps {
  verifier: Verifier;
  /** Repositories compared at the same time. */
  concurrency: number;
  /** Called as each repository finishes (progress). */
  onEntry?: (entry: VerifyEntry, done: number, total: number) => void;
  /** Stops the repairs' git processes (the verifier has its own). */
  signal?: AbortSignal;
}

/** Compares each repository, a few at a time; a failure is that repository's entry, not the batch's. */
export async function verifyMany(repos: readonly string[], deps: BatchDeps): Promise<VerifyEntry[]> {
  const entries: VerifyEntry[] = new Array<VerifyEntry>(repos.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < repos.length; i = next++) {
      const repo = repos[i] ?? '';
      const entry = await deps.verifier.verify(repo).catch((err: unknown) => failed(repo, err));
      entries[i] = entry;
      done += 1;
      deps.onEntry?.(entry, done, repos.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, repos.length)) }, worker));
  return entries;
}

/**
 * Syncs every differing repository from the primary (a whole-repository sync, pruning) and
 * compares it again; a sync also makes a repository that is not read-only refuse pushes again
 * (replica.readOnly). A repository the primary does not have is left alone: deleting replicas is
 * replica.applyDeletes' business, not verify's.
 */
export async function repairDiffering(entries: readonly VerifyEntry[], deps: BatchDeps & { fetcher: Fetcher }): Promise<VerifyEntry[]> {
  const repairable = entries.filter((e) => (!e.equal || e.notReadOnly !== undefined) && !e.missingOnPrimary);
  const again = await verifyMany(
    repairable.map((e) => e.repo),
    {
      ...deps,
      verifier: {
        repositories: () => deps.verifier.repositories(),
        verify: async (repo) => {
          await deps.fetcher.syncRepository(repo, deps.signal ? { signal: deps.signal } : {});
          return { ...(await deps.verifier.verify(repo)), repaired: true };
        },
      },
    },
  );
  const byRepo = new Map(again.map((e) => [e.repo, e]));
  return entries.map((e) => byRepo.get(e.repo) ?? e);
}

export function isEqual(entry: VerifyEntry): boolean {
  return entry.equal && entry.error === undefined;
}

/** Equal to the primary and, where replica.readOnly asks for it, refusing pushes: nothing to repair. */
export function isSound(entry: VerifyEntry): boolean {
  return isEqual(entry) && entry.notReadOnly === undefined;
}

function failed(repo: string, err: unknown): VerifyEntry {
  const message = err instanceof Error ? err.message : String(err);
  return { repo, primary: null, replica: null, equal: false, missingOnReplica: false, missingOnPrimary: false, error: message };
}
