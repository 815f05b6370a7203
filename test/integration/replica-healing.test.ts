import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, pushCommit, randomName, readRefs } from '../helpers/git.js';
import { readTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { killAgents, startAgent, type Agent } from '../helpers/agent.js';
import { committedOffsets, pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

/**
 * Self-healing against the real broker, real git and a real `pullrep primary` (the catalog):
 * bootstrap, retention gaps, continuous verification, tombstones, and the load verification puts
 * on the primary.
 */

const fixtures: ReplicaFixture[] = [];
afterEach(async () => {
  killAgents();
  await Promise.allSettled(fixtures.splice(0).map((f) => f.close()));
});

async function healingFixture(overrides: Record<string, unknown> = {}): Promise<ReplicaFixture & { catalog: string }> {
  const catalog = randomName('catalog');
  const f = await replicaFixture({ overrides: { 'topics.catalog': catalog, 'primary.scanIntervalMs': 1000, 'replica.verifyIntervalMs': 0, ...overrides } });
  fixtures.push(f);
  return { ...f, catalog };
}

/** Runs `pullrep primary` on the fixture's primary.root; resolves once it holds the spool. */
function startAgentOf(f: ReplicaFixture): Promise<Agent> {
  return startAgent({ configFile: f.configFile, spool: join(f.primaryRoot, '.pullrep-spool'), base: f.primaryRoot });
}

/** The newest catalog value of each repository (null: tombstone). */
async function catalogOf(f: ReplicaFixture & { catalog: string }): Promise<Map<string, { checksum: string } | null>> {
  const latest = new Map<string, { checksum: string } | null>();
  for (const r of await readTopic(f.kafka, f.catalog)) latest.set(r.key ?? '', r.value === null ? null : (JSON.parse(r.value) as { checksum: string }));
  return latest;
}

/** The primary's checksum of a repository, as `pullrep verify` computes it. */
async function checksumOf(f: ReplicaFixture, path: string): Promise<string> {
  const { RefChecksum } = await import('../../src/verify/index.js');
  const sum = new RefChecksum();
  for (const [ref, oid] of Object.entries(await readRefs(path))) if (ref.startsWith('refs/')) sum.add(oid, ref);
  void f;
  return sum.hex();
}

/** Waits until the catalog holds each repository's current checksum. */
async function catalogHas(f: ReplicaFixture & { catalog: string }, repos: Array<{ name: string; primary: string }>): Promise<void> {
  await waitFor(
    async () => {
      const catalog = await catalogOf(f);
      for (const repo of repos) if (catalog.get(repo.name)?.checksum !== (await checksumOf(f, repo.primary))) return false;
      return true;
    },
    { timeoutMs: 30_000, what: 'the catalog to hold every repository' },
  );
}

/** Upload-pack requests (ls-remote and fetch) the primary's server answered for one repository. */
function requestsFor(f: ReplicaFixture, repo: string): number {
  return f.server.requests.filter((r) => r.path.startsWith(`/${repo}/`)).length;
}

/**
 * `count` repositories with `commits` commits each on the primary, the agent's catalog holding
 * them, and a replica that has bootstrapped them.
 */
async function replicated(f: ReplicaFixture & { catalog: string }, count = 1, commits = 1) {
  const repos = await Promise.all(Array.from({ length: count }, () => f.newRepo()));
  for (const r of repos) for (let i = 0; i < commits; i++) await pushCommit(r.primary);
  await startAgentOf(f);
  await catalogHas(f, repos);
  const { running } = await f.startReplica();
  for (const r of repos) await f.converged(r);
  const repo = repos[0];
  if (!repo) throw new Error('no repository');
  return { repo, repos, running };
}

describe('self-healing replicas', () => {
  it('bootstraps a new replica from the catalog: every repository of a primary that never sent an event', async () => {
    const f = await healingFixture();
    const repos = await Promise.all([0, 1, 2].map(() => f.newRepo()));
    for (const repo of repos) await pushCommit(repo.primary);
    await pushCommit(repos[0]?.primary ?? '', 'topic');
    await startAgentOf(f);
    await catalogHas(f, repos);
    const { running } = await f.startReplica();
    for (const repo of repos) await f.converged(repo);
    await waitFor(() => running.store.bootstrapProgress().done === 3, { what: 'bootstrap progress 3 of 3' });
    expect(running.store.bootstrapProgress()).toEqual({ total: 3, done: 3 });
    for (const repo of repos) expect(running.store.get(repo.name)?.state).toBe('synced');
    // Nothing came through the events topic: the catalog alone did it.
    expect(await readTopic(f.kafka, f.config.topics.events, { timeoutMs: 2000 })).toHaveLength(0);
    const status = JSON.parse(await runCli(f, ['status', '--replica', '--json'])) as { healing: { bootstrap: { total: number; done: number } } };
    expect(status.healing.bootstrap).toEqual({ total: 3, done: 3, finished: true });
  });

  it('`pullrep sync --all` replicates every repository of the catalog, with progress', async () => {
    const f = await healingFixture();
    const repos = await Promise.all([0, 1].map(() => f.newRepo()));
    for (const repo of repos) await pushCommit(repo.primary);
    await startAgentOf(f);
    await catalogHas(f, repos);
    const { execFileAsync, PULLREP_BIN } = await import('./replica-fixture.js');
    const { stdout, stderr } = await execFileAsync(process.execPath, [PULLREP_BIN, 'sync', '--all'], { env: f.env, timeout: 60_000 });
    for (const repo of repos) {
      expect(stdout).toContain(`${repo.name}: 1 fetched, 0 deleted, 0 up to date, created`);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
    }
    expect(stderr).toContain('2/2 repositories synced (100%)');
  });

  it('heals a retention gap without an operator: events deleted past the committed offset while the replica was stopped, a repository created during the gap', async () => {
    const f = await healingFixture();
    const old = await f.newRepo();
    const first = await pushCommit(old.primary);
    await startAgentOf(f);
    await catalogHas(f, [old]);
    const replica = await f.startReplica();
    await f.converged(old);
    await f.produce(f.refsEvent(old.name, { 'refs/heads/main': first }), old.name);
    await waitFor(async () => (await committedOffsets(f, f.config.topics.events)) >= 1n, { what: 'the first event to be committed' });
    await replica.service.close();

    // While the replica is stopped: a push to the old repository, a new repository, their events...
    await pushCommit(old.primary);
    const created = await f.newRepo();
    const createdTip = await pushCommit(created.primary);
    await f.produce(f.refsEvent(old.name, { 'refs/heads/main': (await readRefs(old.primary))['refs/heads/main'] ?? '' }), old.name);
    await f.produce(f.refsEvent(created.name, { 'refs/heads/main': createdTip }), created.name);
    await catalogHas(f, [old, created]);
    // ...and then retention takes every event the replica has not read.
    await deleteAllRecords(f, f.config.topics.events);

    const { running } = await f.startReplica();
    await f.converged(old);
    await f.converged(created);
    await waitFor(() => running.store.gaps().some((g) => g.healedAt !== null), { what: 'the gap to be recorded as healed' });
    const gaps = running.store.gaps();
    expect(gaps.every((g) => g.topic === f.config.topics.events)).toBe(true);
    // The partition the replica had read from lost what it had not read yet.
    expect(gaps.some((g) => (g.offsets ?? 0) >= 1), JSON.stringify(gaps)).toBe(true);
    expect(await running.scrape()).toMatch(new RegExp(`pullrep_retention_gaps_total\\{topic="${f.config.topics.events}"\\} [1-9]`));
    const status = JSON.parse(await runCli(f, ['status', '--replica', '--json'])) as { healing: { gaps: Array<{ partition: number; offsets: number | null; healedAt: string | null }> } };
    expect(status.healing.gaps.length).toBeGreaterThan(0);
    expect(status.healing.gaps.every((g) => g.healedAt !== null)).toBe(true);
  });

  it('repairs refs changed, added and deleted by hand on the replica at the next verification, with no event sent', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 1500 });
    const repo = await f.newRepo();
    await pushCommit(repo.primary);
    await pushCommit(repo.primary);
    await pushCommit(repo.primary, 'other');
    await startAgentOf(f);
    await catalogHas(f, [repo]);
    const { running } = await f.startReplica();
    await f.converged(repo);
    const main = (await readRefs(repo.replica))['refs/heads/main'] ?? '';
    await git(['update-ref', 'refs/heads/main', `${main}~1`], { cwd: repo.replica });
    await git(['update-ref', 'refs/heads/extra', main], { cwd: repo.replica });
    await git(['update-ref', '-d', 'refs/heads/other'], { cwd: repo.replica });
    expect(await readRefs(repo.replica)).not.toEqual(await readRefs(repo.primary));
    await f.converged(repo);
    await waitFor(() => running.store.get(repo.name)?.lastVerifyResult === 'repaired' || running.store.get(repo.name)?.lastVerifyResult === 'equal', { what: 'a verification result' });
    expect(await readTopic(f.kafka, f.config.topics.events, { timeoutMs: 2000 })).toHaveLength(0);
  });

  it('clones afresh a replica repository whose tip object is corrupted', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 1500 });
    const { repo, running } = await replicated(f, 1, 3);
    const tip = (await readRefs(repo.replica))['refs/heads/main'] ?? '';
    await corruptObject(repo.replica, tip);
    await expect(git(['cat-file', '-p', tip], { cwd: repo.replica })).rejects.toThrow();
    await waitFor(async () => /pullrep_verifications_total\{result="repaired"\} [1-9]/.test(await running.scrape()), { timeoutMs: 30_000, what: 'the damaged repository to be repaired' });
    expect(await git(['cat-file', '-t', tip], { cwd: repo.replica })).toBe('commit\n');
    await git(['fsck', '--no-dangling'], { cwd: repo.replica });
    await f.converged(repo);
  });

  it('marks a repository the catalog tombstones as missing-on-primary and keeps it (replica.applyDeletes off)', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 60_000 });
    const { repo, running } = await replicated(f);
    await rm(repo.primary, { recursive: true, force: true });
    await waitFor(async () => (await catalogOf(f)).get(repo.name) === null, { timeoutMs: 30_000, what: 'a tombstone in the catalog' });
    await waitFor(() => running.store.get(repo.name)?.state === 'missing-on-primary', { timeoutMs: 30_000, what: 'missing-on-primary' });
    expect(Object.keys(await readRefs(repo.replica)).length).toBeGreaterThan(0);
  });

  it('deletes a tombstoned repository with replica.applyDeletes once the primary confirms it is gone', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 60_000, 'replica.applyDeletes': true });
    const { repo, running } = await replicated(f);
    await rm(repo.primary, { recursive: true, force: true });
    await waitFor(() => !existsSync(repo.replica), { timeoutMs: 30_000, what: 'the replica copy to be deleted' });
    expect(running.store.get(repo.name)).toBeUndefined();
  });

  it('a catalog that lies or is malformed deletes nothing and breaks nothing: forged tombstone, bad JSON, hostile name', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 60_000, 'replica.applyDeletes': true });
    const { repo, running } = await replicated(f);
    const asked = async () => Number(/pullrep_verification_primary_requests_total (\d+)/.exec(await running.scrape())?.[1] ?? 0);
    const before = await asked();
    await f.send({ topic: f.catalog, messages: [{ key: 'r/bad.git', value: '{not json' }, { key: '../../etc/passwd', value: JSON.stringify({ v: 1, repo: '../../etc/passwd', checksum: '0'.repeat(40), refs: 0, updatedAt: new Date().toISOString(), primary: 'p', source: 'scan' }) }, { key: repo.name, value: null }] });
    // The forged tombstone is checked with the primary, which still has the repository: kept.
    await waitFor(async () => (await asked()) > before, { what: 'the primary to be asked about the tombstone' });
    await waitFor(() => running.store.get(repo.name)?.lastVerifiedAt !== null && running.store.get(repo.name)?.state === 'synced', { what: 'the repository verified and kept' });
    expect(existsSync(repo.replica)).toBe(true);
    await f.converged(repo);
    expect(await running.scrape()).toMatch(/pullrep_catalog_records_skipped_total 2/);
    expect(existsSync(join(f.replicaRoot, '..', '..', 'etc', 'passwd.git'))).toBe(false);
  });

  it('paces verification: never more than replica.verifyRatePerSecond', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 500, 'replica.verifyRatePerSecond': 2, 'replica.verifyConcurrency': 2 });
    const { running } = await replicated(f, 6);
    const total = async () => [...(await running.scrape()).matchAll(/^pullrep_verifications_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const start = await total();
    const startedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const done = (await total()) - start;
    const seconds = (Date.now() - startedAt) / 1000;
    // Six repositories want a verification every 0.5 s (12 per second); 2 per second is the cap.
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThanOrEqual(Math.ceil(2 * seconds) + 2);
  });

  it('asks nothing of the primary while the catalog agrees, and confirms with one ls-remote before repairing when it does not', async () => {
    const f = await healingFixture({ 'replica.verifyIntervalMs': 1000, 'replica.verifyRatePerSecond': 50 });
    const { repos, running } = await replicated(f, 4);
    const verifications = async () => Number(/pullrep_verifications_total\{result="equal"\} (\d+)/.exec(await running.scrape())?.[1] ?? 0);
    await waitFor(async () => (await verifications()) >= 4, { what: 'a first sweep' });
    const before = f.server.requests.length;
    const counted = await verifications();
    // Three more sweeps of four repositories: all equal to the catalog, none asks the primary.
    await waitFor(async () => (await verifications()) >= counted + 12, { timeoutMs: 30_000, what: 'three more sweeps' });
    expect(f.server.requests.length - before).toBe(0);
    // A repository changed by hand: exactly one ls-remote confirms, then the repair fetches.
    const target = repos[0] ?? repos[1];
    if (!target) throw new Error('no repository');
    const onTarget = requestsFor(f, target.name);
    const asked = async () => Number(/pullrep_verification_primary_requests_total (\d+)/.exec(await running.scrape())?.[1] ?? 0);
    const askedBefore = await asked();
    await git(['update-ref', 'refs/heads/stray', (await readRefs(target.replica))['refs/heads/main'] ?? ''], { cwd: target.replica });
    await f.converged(target);
    await waitFor(() => running.store.get(target.name)?.lastVerifyResult === 'repaired', { what: 'the repair' });
    const served = f.server.requests.slice(before).filter((r) => r.path.startsWith(`/${target.name}/`));
    expect(served.length).toBe(requestsFor(f, target.name) - onTarget);
    expect(served.length).toBeGreaterThan(0);
    // One verification asked the primary (its ls-remote), and only about this repository.
    expect((await asked()) - askedBefore).toBe(1);
    const others = repos.filter((r) => r !== target).map((r) => r.name);
    expect(f.server.requests.slice(before).filter((r) => others.some((name) => r.path.startsWith(`/${name}/`)))).toHaveLength(0);
  });
});

function runCli(f: ReplicaFixture, args: string[]): Promise<string> {
  return pullrep(f, args);
}

/** Kafka's DeleteRecords up to the end of every partition: what retention does to old segments. */
async function deleteAllRecords(f: ReplicaFixture, topic: string): Promise<void> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.deleteTopicRecords({ topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    const after = await admin.fetchTopicOffsets(topic);
    expect(after.every((o) => o.low === o.high)).toBe(true);
  } finally {
    await admin.disconnect();
  }
}

/** Overwrites the start of an object's data in the replica (loose or packed) with garbage. */
async function corruptObject(gitDir: string, oid: string): Promise<void> {
  const loose = join(gitDir, 'objects', oid.slice(0, 2), oid.slice(2));
  const data = await readFile(loose).catch(() => undefined);
  if (data) {
    await chmod(loose, 0o644);
    await writeFile(loose, Buffer.alloc(data.length, 0xff));
    return;
  }
  const { readdir, open } = await import('node:fs/promises');
  const dir = join(gitDir, 'objects', 'pack');
  for (const idx of (await readdir(dir)).filter((n) => n.endsWith('.idx'))) {
    const listing = execFileSync('git', ['show-index'], { input: await readFile(join(dir, idx)), encoding: 'utf8' });
    const line = listing.split('\n').find((l) => l.split(' ')[1] === oid);
    if (!line) continue;
    const offset = Number(line.split(' ')[0]);
    const pack = join(dir, idx.replace(/\.idx$/, '.pack'));
    await chmod(pack, 0o644);
    const handle = await open(pack, 'r+');
    await handle.write(Buffer.alloc(8, 0xff), 0, 8, offset);
    await handle.close();
    return;
  }
  throw new Error(`object ${oid} not found in any pack`);
}
