import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRefSelection, type RefSelectionOptions } from '../../src/refs/selection.js';
import { RefChecksum, type VerifyEntry } from '../../src/verify/index.js';
import { killAgents, startAgent } from '../helpers/agent.js';
import { pullrep as runPullrep } from '../helpers/cli.js';
import { git, randomName, readRefs, WorkClone } from '../helpers/git.js';
import { readTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';
import { committedOffsets, pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

/**
 * replica.refs (README "Selective refs"): a replica that leaves refs out never fetches them, not
 * by events, whole syncs, clones or repairs; it prunes them when it holds them; and `pullrep
 * verify`, `pullrep status` and self-healing compare the replicated refs only, on both sides.
 * Real git over HTTP, and a real broker and `pullrep primary` (the catalog) for the replica.
 */

const CI: RefSelectionOptions = { include: [], exclude: ['refs/changes/*'] };

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  killAgents();
  await Promise.allSettled(closing.splice(0).map((c) => c.close()));
});

/**
 * A primary repository as a code review server keeps it: `main`, then one push that creates the
 * branch `x` and the change ref `refs/changes/01/1/1`, whose commit only that change reaches.
 */
async function reviewRepo(primary: string): Promise<{ main: string; x: string; change: string; work: WorkClone }> {
  const work = await WorkClone.of(primary);
  const main = await work.commit('main');
  await work.push('HEAD:refs/heads/main');
  const x = await work.commit('x');
  const change = await work.commit('a change under review');
  await work.push(`${x}:refs/heads/x`, `${change}:refs/changes/01/1/1`);
  return { main, x, change, work };
}

/** The refs of a repository that a selection selects (what the replica must hold). */
async function selectedRefs(repo: string, selection: RefSelectionOptions): Promise<Record<string, string>> {
  const s = compileRefSelection(selection);
  return Object.fromEntries(Object.entries(await readRefs(repo)).filter(([ref]) => s.selects(ref)));
}

/** The checksum of the selected refs, computed independently of pullrep's listings. */
async function selectedChecksum(repo: string, selection: RefSelectionOptions): Promise<string> {
  const sum = new RefChecksum();
  for (const [ref, oid] of Object.entries(await selectedRefs(repo, selection))) sum.add(oid, ref);
  return sum.hex();
}

async function hasObject(gitDir: string, oid: string): Promise<boolean> {
  return git(['cat-file', '-e', oid], { cwd: gitDir }).then(() => true, () => false);
}

/** A new commit (on `parent`) written with plumbing into a bare repository, `ref` pointing at it. */
async function commitOn(repo: string, ref: string, parent?: string): Promise<string> {
  const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: repo, input: `${ref}\n` })).trim();
  const tree = (await git(['mktree'], { cwd: repo, input: `100644 blob ${blob}\tfile.txt\n` })).trim();
  const commit = (await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', ref], { cwd: repo })).trim();
  await git(['update-ref', ref, commit], { cwd: repo });
  return commit;
}

function changeRefs(refs: Record<string, string>): string[] {
  return Object.keys(refs).filter((ref) => ref.startsWith('refs/changes/'));
}

async function engine(refs: RefSelectionOptions): Promise<FetchFixture> {
  const fx = await fetchFixture({ fetch: { refs } });
  closing.push(fx);
  return fx;
}

describe('selective refs: the fetch engine', () => {
  it('an event naming refs/heads/x and refs/changes/01/1/1: a clone of only the selected refs, the change never fetched, HEAD following the primary', async () => {
    const fx = await engine(CI);
    const repo = await fx.newRepo();
    const { main, x, change } = await reviewRepo(repo.primary);
    await git(['symbolic-ref', 'HEAD', 'refs/heads/x'], { cwd: repo.primary });

    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/x', 'refs/changes/01/1/1']);
    expect(result.created).toBe(true);
    expect(result.fetched).toEqual(['refs/heads/x']);
    expect(result.excluded).toEqual(['refs/changes/01/1/1']);
    expect(await readRefs(repo.replica)).toEqual({ 'refs/heads/main': main, 'refs/heads/x': x });
    expect(await hasObject(repo.replica, change)).toBe(false);
    expect((await git(['symbolic-ref', 'HEAD'], { cwd: repo.replica })).trim()).toBe('refs/heads/x');
    // Packed like a clone's, so the engine sizes later syncs of it (quarantine, listings) right.
    expect(existsSync(join(repo.replica, 'packed-refs'))).toBe(true);
    await git(['fsck', '--no-dangling'], { cwd: repo.replica });
  });

  it('an event naming only excluded refs succeeds at once and touches nothing; it creates no repository either', async () => {
    const fx = await engine(CI);
    const repo = await fx.newRepo();
    const { work } = await reviewRepo(repo.primary);
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    const before = await readRefs(repo.replica);
    const next = await work.commit('patch set 2');
    await work.push(`${next}:refs/changes/01/1/2`);

    const served = fx.server.requests.length;
    const result = await fx.fetcher.syncRefs(repo.name, ['refs/changes/01/1/2']);
    expect(result).toMatchObject({ fetched: [], deleted: [], upToDate: [], excluded: ['refs/changes/01/1/2'], created: false });
    expect(await readRefs(repo.replica)).toEqual(before);
    expect(fx.server.requests.length).toBe(served);

    const absent = await fx.newRepo();
    await reviewRepo(absent.primary);
    await fx.fetcher.syncRefs(absent.name, ['refs/changes/01/1/1']);
    expect(existsSync(absent.replica)).toBe(false);
  });

  it('a whole sync fetches only the selected refs and prunes what the selection leaves out (a replica from before replica.refs changed)', async () => {
    const fx = await engine(CI);
    const repo = await fx.newRepo();
    const { main, work } = await reviewRepo(repo.primary);
    await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
    // What an older configuration left: a change ref, and a branch the primary has deleted since.
    await git(['update-ref', 'refs/changes/09/9/1', main], { cwd: repo.replica });
    await git(['update-ref', 'refs/heads/gone', main], { cwd: repo.replica });
    const moved = await work.commit('main moves');
    await work.push('HEAD:refs/heads/main');
    const review = await work.commit('another change');
    await work.push(`${review}:refs/changes/02/2/1`);

    const result = await fx.fetcher.syncRepository(repo.name);
    expect(await readRefs(repo.replica)).toEqual(await selectedRefs(repo.primary, CI));
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe(moved);
    expect(result.deleted).toEqual(['refs/changes/09/9/1', 'refs/heads/gone']);
    expect(await hasObject(repo.replica, review)).toBe(false);
  });

  it('includes: only what they match; an exact include the primary lacks is left out, and deleted when the primary deletes it', async () => {
    const selection = { include: ['refs/heads/*', 'refs/tags/v1', 'refs/tags/v3'], exclude: ['refs/heads/wip/*'] };
    const fx = await engine(selection);
    const repo = await fx.newRepo();
    const { main, work } = await reviewRepo(repo.primary);
    await work.tag('v1');
    await work.tag('v2');
    await work.push('HEAD:refs/heads/wip/mine', 'refs/tags/v1', 'refs/tags/v2');

    const created = await fx.fetcher.syncRepository(repo.name);
    expect(created.created).toBe(true);
    const expected = await selectedRefs(repo.primary, selection);
    expect(Object.keys(expected).sort()).toEqual(['refs/heads/main', 'refs/heads/x', 'refs/tags/v1']);
    expect(await readRefs(repo.replica)).toEqual(expected);

    await work.push('--delete', 'refs/tags/v1');
    const again = await fx.fetcher.syncRepository(repo.name);
    expect(again.deleted).toEqual(['refs/tags/v1']);
    expect(await readRefs(repo.replica)).toEqual(await selectedRefs(repo.primary, selection));
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe(main);
  });

  it('a re-clone of a damaged copy brings back only the selected refs', async () => {
    const fx = await engine(CI);
    const repo = await fx.newRepo();
    const { change } = await reviewRepo(repo.primary);
    await fx.fetcher.syncRepository(repo.name);
    const result = await fx.fetcher.syncRepository(repo.name, { reclone: true });
    expect(result.recloned).toBe(true);
    expect(await readRefs(repo.replica)).toEqual(await selectedRefs(repo.primary, CI));
    expect(await hasObject(repo.replica, change)).toBe(false);
  });

  it('clones a SHA-256 primary selectively in its own object format', async () => {
    const fx = await engine(CI);
    const repo = await fx.newRepo();
    await rm(repo.primary, { recursive: true });
    await git(['init', '--bare', '--quiet', '--object-format=sha256', '--initial-branch=main', repo.primary]);
    const main = await commitOn(repo.primary, 'refs/heads/main');
    const change = await commitOn(repo.primary, 'refs/changes/01/1/1', main);
    expect(main).toHaveLength(64);

    const result = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/changes/01/1/1']);
    expect(result.created).toBe(true);
    expect((await git(['rev-parse', '--show-object-format'], { cwd: repo.replica })).trim()).toBe('sha256');
    expect(await readRefs(repo.replica)).toEqual({ 'refs/heads/main': main });
    expect(await hasObject(repo.replica, change)).toBe(false);
  });
});

describe('selective refs: `pullrep verify` and a changed configuration', () => {
  it('compares the selected refs only; a replica holding an excluded ref differs, and --repair prunes it', async () => {
    // The replica was made without replica.refs: it holds the change.
    const fx = await fetchFixture();
    closing.push(fx);
    const repo = await fx.newRepo();
    await reviewRepo(repo.primary);
    await fx.fetcher.syncRepository(repo.name);
    expect(changeRefs(await readRefs(repo.replica))).toEqual(['refs/changes/01/1/1']);
    const env = {
      HOME: process.env.HOME,
      PULLREP_PRIMARY_URL: `${fx.server.url}/{repo}`,
      PULLREP_REPLICA_ROOT: fx.replicaRoot,
      PULLREP_REPLICA_REFS_EXCLUDE: 'refs/changes/*',
      PULLREP_LOG_LEVEL: 'warn',
      PULLREP_LOG_PRETTY: 'false',
    };
    const verify = async (...args: string[]) => runPullrep(['verify', repo.name, ...args], { env });
    const want = await selectedChecksum(repo.primary, CI);

    const before = await verify('--json');
    expect(before.code).toBe(1);
    const entry = JSON.parse(before.stdout) as VerifyEntry;
    expect(entry).toMatchObject({ primary: want, replica: want, equal: false, unselected: 1 });
    expect((await verify()).stdout).toContain('differs (holds 1 ref replica.refs leaves out)');

    const repaired = await verify('--repair', '--json');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ primary: want, replica: want, equal: true, repaired: true });
    expect(changeRefs(await readRefs(repo.replica))).toEqual([]);
    expect(await readRefs(repo.replica)).toEqual(await selectedRefs(repo.primary, CI));
  });
});

describe('selective refs: a replica with exclude refs/changes/* against real Kafka', () => {
  async function ciReplica(overrides: Record<string, unknown> = {}): Promise<ReplicaFixture & { catalog: string }> {
    const catalog = randomName('catalog');
    const f = await replicaFixture({
      overrides: { 'topics.catalog': catalog, 'primary.scanIntervalMs': 1000, 'replica.verifyIntervalMs': 0, 'replica.refs.exclude': CI.exclude, ...overrides },
    });
    closing.push(f);
    return { ...f, catalog };
  }

  /** Waits until the catalog records the primary's current checksum of every ref (excluded ones too). */
  async function catalogHas(f: ReplicaFixture & { catalog: string }, repo: { name: string; primary: string }): Promise<void> {
    const all = await selectedChecksum(repo.primary, { include: [], exclude: [] });
    await waitFor(
      async () => {
        let latest: string | undefined;
        for (const r of await readTopic(f.kafka, f.catalog)) if (r.key === repo.name) latest = r.value === null ? undefined : (JSON.parse(r.value) as { checksum: string }).checksum;
        return latest === all;
      },
      { timeoutMs: 30_000, what: 'the catalog to hold the repository' },
    );
  }

  /** The replica holds exactly the primary's selected refs (and at least one). */
  async function holdsSelected(repo: { primary: string; replica: string }): Promise<void> {
    await waitFor(
      async () => {
        const want = await selectedRefs(repo.primary, CI);
        const have = await readRefs(repo.replica).catch(() => ({}));
        return Object.keys(want).length > 0 && JSON.stringify(Object.entries(want).sort()) === JSON.stringify(Object.entries(have).sort());
      },
      { timeoutMs: 30_000, what: `${repo.replica} to hold the primary's selected refs` },
    );
  }

  const metric = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);

  it('bootstraps without the changes, applies a push of refs/heads/x and a change without fetching the change, and commits an event of changes only as done', async () => {
    const f = await ciReplica();
    const repo = await f.newRepo();
    const { change, work } = await reviewRepo(repo.primary);
    await startAgent({ configFile: f.configFile, spool: join(f.primaryRoot, '.pullrep-spool'), base: f.primaryRoot });
    await catalogHas(f, repo);
    const { running } = await f.startReplica();
    // The bootstrap clone: the selected refs, no change, not even its objects.
    await holdsSelected(repo);
    await waitFor(() => running.store.bootstrapProgress().done === 1, { what: 'the bootstrap to finish' });
    expect(await hasObject(repo.replica, change)).toBe(false);

    // One push touching refs/heads/x and a change, and its event.
    const x = await work.commit('x moves');
    const patchSet = await work.commit('patch set 2');
    await work.push(`${x}:refs/heads/x`, `${patchSet}:refs/changes/01/1/2`);
    await f.produce(f.refsEvent(repo.name, { 'refs/heads/x': x, 'refs/changes/01/1/2': patchSet }), repo.name);
    await waitFor(async () => (await readRefs(repo.replica))['refs/heads/x'] === x, { what: 'refs/heads/x to arrive' });
    await waitFor(async () => (await committedOffsets(f, f.config.topics.events)) === 1n, { what: 'the event to be committed' });
    expect(changeRefs(await readRefs(repo.replica))).toEqual([]);
    expect(await hasObject(repo.replica, patchSet)).toBe(false);

    // An event naming changes only: a success that syncs nothing, its offset committed.
    const third = await work.commit('patch set 3');
    await work.push(`${third}:refs/changes/01/1/3`);
    const before = await readRefs(repo.replica);
    await f.produce(f.refsEvent(repo.name, { 'refs/changes/01/1/3': third }), repo.name);
    await waitFor(async () => (await committedOffsets(f, f.config.topics.events)) === 2n, { what: 'the event of changes only to be committed' });
    expect(await readRefs(repo.replica)).toEqual(before);
    expect(await hasObject(repo.replica, third)).toBe(false);
    // Nothing went to the retry ladder or the failed topic.
    for (const topic of [...f.topics.retry, f.topics.failed]) expect(await readTopic(f.kafka, topic, { timeoutMs: 1000 })).toHaveLength(0);
    expect(running.store.get(repo.name)?.state).toBe('synced');
  }, 120_000);

  it('verification finds the filtered copy equal (asking the primary once, then not while nothing changes), `pullrep verify` and `status --repo` agree, and a change ref put in by hand is pruned', async () => {
    const f = await ciReplica({ 'replica.verifyIntervalMs': 1000, 'replica.verifyRatePerSecond': 50 });
    const repo = await f.newRepo();
    await reviewRepo(repo.primary);
    await startAgent({ configFile: f.configFile, spool: join(f.primaryRoot, '.pullrep-spool'), base: f.primaryRoot });
    await catalogHas(f, repo);
    const { running } = await f.startReplica();
    await holdsSelected(repo);
    const equal = async () => metric(await running.scrape(), /pullrep_verifications_total\{result="equal"\} (\d+)/);
    const repaired = async () => metric(await running.scrape(), /pullrep_verifications_total\{result="repaired"\} (\d+)/);
    const asked = async () => metric(await running.scrape(), /pullrep_verification_primary_requests_total (\d+)/);

    // The catalog's checksum covers the change; the replica's cannot equal it, so the first
    // verification asks the primary, which agrees on the selected refs: equal, nothing repaired.
    await waitFor(async () => (await equal()) >= 1, { what: 'a first verification' });
    const askedOnce = await asked();
    expect(askedOnce).toBeGreaterThanOrEqual(1);
    const counted = await equal();
    await waitFor(async () => (await equal()) >= counted + 3, { timeoutMs: 30_000, what: 'three more verifications' });
    expect(await repaired()).toBe(0);
    // The primary's left-out refs were remembered: the later ones took the cheap path.
    expect(await asked()).toBe(askedOnce);

    const want = await selectedChecksum(repo.primary, CI);
    const verified = JSON.parse(await pullrep(f, ['verify', repo.name, '--json'])) as VerifyEntry;
    expect(verified).toMatchObject({ equal: true, primary: want, replica: want });
    const status = JSON.parse(await pullrep(f, ['status', '--repo', repo.name, '--json'])) as { checksum: string | null; lastVerifyResult: string };
    expect(status.checksum).toBe(want);

    // A change ref in the replica (a hand edit, or a configuration from before): pruned.
    const main = (await readRefs(repo.replica))['refs/heads/main'] ?? '';
    await git(['update-ref', 'refs/changes/09/9/1', main], { cwd: repo.replica });
    await waitFor(async () => changeRefs(await readRefs(repo.replica)).length === 0, { timeoutMs: 30_000, what: 'the change ref to be pruned' });
    await waitFor(async () => (await repaired()) >= 1, { what: 'the repair to be counted' });
    expect(await readRefs(repo.replica)).toEqual(await selectedRefs(repo.primary, CI));
    // No event was needed for any of it.
    expect(await readTopic(f.kafka, f.config.topics.events, { timeoutMs: 1000 })).toHaveLength(0);
  }, 120_000);
});
