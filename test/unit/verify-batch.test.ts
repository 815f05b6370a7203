import { describe, expect, it } from 'vitest';
import type { Fetcher, SyncResult } from '../../src/fetch/index.js';
import { PermanentFetchError } from '../../src/fetch/index.js';
import { isEqual, repairDiffering, verifyMany, type Verifier, type VerifyResult } from '../../src/verify/index.js';

const SUM = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

/** A verifier over an in-memory table of checksums; `replicas` is what a repair changes. */
function fakes(primaries: Record<string, string | null>, replicas: Record<string, string | null>) {
  let inFlight = 0;
  let maxInFlight = 0;
  const synced: string[] = [];
  const verifier: Verifier = {
    repositories: async () => Object.keys(replicas).sort(),
    async verify(repo) {
      if (repo.includes('..')) throw new PermanentFetchError(`repository name ${JSON.stringify(repo)} is unsafe`, 'invalid');
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      const primary = primaries[repo] ?? null;
      const replica = replicas[repo] ?? null;
      const result: VerifyResult = { repo, primary, replica, equal: primary !== null && primary === replica, missingOnReplica: replica === null, missingOnPrimary: primary === null };
      return result;
    },
  };
  const fetcher: Fetcher = {
    async syncRepository(repo) {
      synced.push(repo);
      if (repo === 'broken.git') throw new PermanentFetchError('git fetch of broken.git failed (corrupt): bad object', 'corrupt');
      replicas[repo] = primaries[repo] ?? null;
      return { repo } as SyncResult;
    },
    syncRefs: async () => Promise.reject(new Error('not used')),
    deleteRepository: async () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  };
  return { verifier, fetcher, synced, maxInFlight: () => maxInFlight };
}

describe('verifying many repositories', () => {
  it('keeps the order, bounds the concurrency and turns a failure into that repository\'s entry', async () => {
    const repos = Array.from({ length: 12 }, (_, i) => `r${i}.git`);
    const table = Object.fromEntries(repos.map((r) => [r, SUM]));
    const { verifier, maxInFlight } = fakes(table, { ...table });
    const progress: number[] = [];
    const entries = await verifyMany([...repos, '../x.git'], { verifier, concurrency: 3, onEntry: (_e, done) => progress.push(done) });
    expect(entries.map((e) => e.repo)).toEqual([...repos, '../x.git']);
    expect(entries.slice(0, 12).every(isEqual)).toBe(true);
    expect(entries[12]).toMatchObject({ repo: '../x.git', equal: false, primary: null, replica: null, error: expect.stringMatching(/unsafe/) });
    expect(entries.filter((e) => !isEqual(e)).map((e) => e.repo)).toEqual(['../x.git']);
    expect(maxInFlight()).toBe(3);
    expect(progress).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('repairs what differs or is missing on the replica, and nothing else', async () => {
    const primaries = { 'same.git': SUM, 'moved.git': SUM, 'new.git': SUM, 'broken.git': SUM, 'gone.git': null };
    const replicas = { 'same.git': SUM, 'moved.git': OTHER, 'new.git': null, 'broken.git': OTHER, 'gone.git': SUM };
    const { verifier, fetcher, synced } = fakes(primaries, replicas);
    const names = Object.keys(primaries);
    const before = await verifyMany(names, { verifier, concurrency: 2 });
    expect(before.filter(isEqual).map((e) => e.repo)).toEqual(['same.git']);
    const after = await repairDiffering(before, { verifier, fetcher, concurrency: 2 });
    expect(synced.sort()).toEqual(['broken.git', 'moved.git', 'new.git']);
    const byRepo = new Map(after.map((e) => [e.repo, e]));
    expect(byRepo.get('same.git')).toEqual(before[0]);
    expect(byRepo.get('moved.git')).toMatchObject({ equal: true, repaired: true, replica: SUM });
    expect(byRepo.get('new.git')).toMatchObject({ equal: true, repaired: true, missingOnReplica: false });
    expect(byRepo.get('broken.git')).toMatchObject({ equal: false, error: expect.stringMatching(/corrupt/) });
    expect(byRepo.get('gone.git')).toMatchObject({ equal: false, missingOnPrimary: true });
    expect(byRepo.get('gone.git')?.repaired).toBeUndefined();
  });
});
