// Self-healing, against baselines measured in the same run (primary served over smart HTTP by
// git http-backend, as in the tests):
//  1. Healing a retention gap over BENCH_HEAL_REPOS (default 100) repositories, each one commit
//     behind: `pullrep replica` started after the unread events were deleted, until the gap is
//     healed, vs a serial loop of plain `git fetch` of each repository.
//  2. Event latency (event produced -> the replica has the ref, median of 30) while a
//     verification sweep of BENCH_SWEEP_REPOS (default 1,000) repositories runs without a rate
//     cap, vs the same replica with verification off. Target: p50 within 1.5x.
//  3. The primary's load of one sweep: requests and bytes per repository verified, when the
//     catalog agrees (target: none) and when it does not (one ls-remote each).
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeCatalogRecord } from '../src/catalog/record.js';
import { compileOptions, loadConfig } from '../src/config/index.js';
import { encodeEvent, makeEvent, type RefEvent } from '../src/events/index.js';
import { silentLogger } from '../src/log/index.js';
import { startReplica, type RunningReplica } from '../src/replica/compose.js';
import { RefChecksum } from '../src/verify/index.js';
import { GitHttpServer } from '../test/helpers/git-server.js';
import { gitEnv, makeBareRepo, randomName, readRefs, tempDir, WorkClone } from '../test/helpers/git.js';
import { benchBrokers, benchClient, benchKafka } from './kafka.js';
import { median, timed, until as untilAfter } from './stats.js';

/** Heal benchmarks wait minutes at most, looking every 5 ms. */
const until = (check: () => boolean | Promise<boolean>, timeoutMs = 600_000) => untilAfter(check, timeoutMs, 5);

const run = promisify(execFile);
const HEAL_REPOS = Number(process.env.BENCH_HEAL_REPOS ?? 100);
const SWEEP_REPOS = Number(process.env.BENCH_SWEEP_REPOS ?? 1000);
const ROUNDS = 30;
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const ZERO = '0'.repeat(40);

async function checksumOf(repo: string): Promise<string> {
  const sum = new RefChecksum();
  for (const [ref, oid] of Object.entries(await readRefs(repo))) sum.add(oid, ref);
  return sum.hex();
}

/** A small bare repository with three commits, copied to make many. */
async function template(): Promise<string> {
  const root = await tempDir('pullrep-bench-template-');
  const repo = await makeBareRepo(root, 'template.git');
  const work = await WorkClone.of(repo);
  for (let i = 0; i < 3; i++) await work.commit();
  await work.push('HEAD:refs/heads/main');
  return repo;
}

/** One new commit on main, made in the bare repository itself (no hook, no event). */
async function advance(repo: string): Promise<string> {
  const { stdout: tree } = await run('git', ['--git-dir', repo, 'rev-parse', 'main^{tree}'], { env: gitEnv });
  const { stdout: commit } = await run('git', ['--git-dir', repo, 'commit-tree', tree.trim(), '-p', 'main', '-m', `advance ${Date.now()}`], { env: gitEnv });
  await run('git', ['--git-dir', repo, 'update-ref', 'refs/heads/main', commit.trim()], { env: gitEnv });
  return commit.trim();
}

interface Setup {
  primaryRoot: string;
  replicaRoot: string;
  server: GitHttpServer;
  events: string;
  catalog: string;
  replica: string;
  names: string[];
}

async function setup(count: number, partitions: number, delayMs = 0): Promise<Setup> {
  const source = await template();
  const primaryRoot = await tempDir('pullrep-bench-primary-');
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const names = Array.from({ length: count }, (_, i) => `g${i % 10}/repo-${i}.git`);
  for (const name of names) await cp(source, join(primaryRoot, name), { recursive: true });
  const server = await new GitHttpServer({ root: primaryRoot, delayMs }).start();
  const admin = benchKafka('bench-heal-admin').admin();
  const events = randomName('bench-events');
  const catalog = randomName('bench-catalog');
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: events, numPartitions: partitions }, { topic: catalog, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
  await admin.disconnect();
  return { primaryRoot, replicaRoot, server, events, catalog, replica: randomName('bench-rep'), names };
}

/** The catalog records the primary agent would write for these repositories now. */
async function publishCatalog(s: Setup, names: string[], checksum?: (name: string) => string): Promise<void> {
  const producer = benchKafka('bench-heal-catalog').producer();
  await producer.connect();
  const messages = [];
  for (const name of names) {
    const path = join(s.primaryRoot, name);
    const refs = Object.keys(await readRefs(path)).length;
    const value = encodeCatalogRecord({ v: 1, repo: name, checksum: checksum?.(name) ?? (await checksumOf(path)), refs, updatedAt: new Date().toISOString(), primary: 'bench', source: 'scan' });
    messages.push({ key: name, value });
  }
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: s.catalog, messages: messages.slice(i, i + 500) });
  await producer.disconnect();
}

function replicaOptions(s: Setup, overrides: Record<string, unknown>) {
  return compileOptions(
    loadConfig({
      overrides: {
        'kafka.brokers': benchBrokers(),
        'topics.events': s.events,
        'topics.catalog': s.catalog,
        'primary.url': `${s.server.url}/{repo}`,
        'replica.name': s.replica,
        'replica.root': s.replicaRoot,
        'replica.sessionTimeoutMs': 10_000,
        'replica.maintenanceIntervalMs': 0,
        'retry.initialDelayMs': 1000,
        'retry.maxRetryPeriodMs': 60_000,
        'http.port': 0,
        ...overrides,
      },
    }).config,
  );
}

async function start(s: Setup, overrides: Record<string, unknown> = {}): Promise<RunningReplica> {
  return startReplica({ options: replicaOptions(s, overrides), kafka: benchClient('bench-heal'), logger: silentLogger(), env: process.env });
}

async function allEqual(s: Setup, names: string[]): Promise<boolean> {
  for (const name of names) {
    const [a, b] = await Promise.all([readRefs(join(s.primaryRoot, name)), readRefs(join(s.replicaRoot, name)).catch(() => ({}))]);
    if (JSON.stringify(a) !== JSON.stringify(b)) return false;
  }
  return true;
}

function metric(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

async function gapHeal(delayMs: number): Promise<void> {
  const s = await setup(HEAL_REPOS, 1, delayMs);
  try {
    await publishCatalog(s, s.names);
    // A replica that bootstrapped and read one event, then stopped.
    let replica = await start(s, { 'replica.verifyIntervalMs': 0 });
    await until(() => replica.store.bootstrapProgress().done === HEAL_REPOS && replica.store.meta('bootstrapped') !== undefined);
    const producer = benchKafka('bench-heal-events').producer({ idempotent: true });
    await producer.connect();
    const event = (name: string, oid: string) => encodeEvent(makeEvent<RefEvent>({ kind: 'refs-updated', repo: name, origin: 'bench', refs: [{ ref: 'refs/heads/main', old: ZERO, new: oid }] } as never));
    const first = s.names[0] ?? '';
    await producer.send({ topic: s.events, messages: [{ key: first, value: event(first, (await readRefs(join(s.primaryRoot, first)))['refs/heads/main'] ?? '') }] });
    await until(async () => metric(await replica.scrape(), 'pullrep_events_processed_total') >= 1);
    await replica.service.close();
    // Baseline replica: the same repositories, cloned plainly.
    const baseRoot = await tempDir('pullrep-bench-base-');
    for (const name of s.names) await run('git', ['clone', '--quiet', '--bare', `${s.server.url}/${name}`, join(baseRoot, name)], { env: gitEnv });
    // While stopped: every repository gets a commit and an event, and retention takes the events.
    const messages = [];
    for (const name of s.names) messages.push({ key: name, value: event(name, await advance(join(s.primaryRoot, name))) });
    await producer.send({ topic: s.events, messages });
    await producer.disconnect();
    await publishCatalog(s, s.names);
    const admin = benchKafka('bench-heal-admin').admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(s.events);
    await admin.deleteTopicRecords({ topic: s.events, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    await admin.disconnect();

    const baseline = await timed(async () => {
      for (const name of s.names) await run('git', ['-c', 'protocol.version=2', '--git-dir', join(baseRoot, name), 'fetch', '--quiet', '--prune', `${s.server.url}/${name}`, '+refs/*:refs/*'], { env: gitEnv });
    });
    const started = performance.now();
    replica = await start(s, { 'replica.verifyIntervalMs': 0 });
    await until(() => replica.store.gaps().some((g) => g.healedAt !== null));
    const total = performance.now() - started;
    const gap = replica.store.gaps()[0];
    const healing = gap && gap.healedAt !== null ? gap.healedAt - gap.at : NaN;
    const equal = await allEqual(s, s.names);
    await replica.service.close();
    const where = delayMs ? `the primary ${delayMs} ms away (each HTTP request answered ${delayMs} ms later)` : 'the primary on loopback, sharing the 2 cores';
    console.log(`retention gap over ${HEAL_REPOS} repositories (one commit behind each), ${where}; all equal after: ${equal}`);
    console.log(`  pullrep replica: ${ms(total)} from start to healed (${ms(healing)} from the gap found), ${gap?.repos ?? 0} repositories resynced, 3 at a time (replica.fetchConcurrency - 1)`);
    console.log(`  baseline, serial git fetch of each: ${ms(baseline)}; speed-up ${(baseline / healing).toFixed(2)}x from the gap found, ${(baseline / total).toFixed(2)}x from start`);
  } finally {
    await s.server.stop();
  }
}

async function latencyDuringSweep(): Promise<void> {
  const s = await setup(SWEEP_REPOS, 2);
  try {
    const source = join(s.primaryRoot, s.names[0] ?? '');
    for (const name of s.names) await cp(join(s.primaryRoot, name), join(s.replicaRoot, name), { recursive: true });
    const hot = 'hot/latency.git';
    await cp(source, join(s.primaryRoot, hot), { recursive: true });
    await cp(source, join(s.replicaRoot, hot), { recursive: true });
    await publishCatalog(s, [...s.names, hot]);
    const producer = benchKafka('bench-sweep-events').producer({ idempotent: true });
    await producer.connect();
    const measure = async (label: string, overrides: Record<string, unknown>): Promise<number> => {
      const replica = await start(s, { ...overrides, 'replica.name': randomName('bench-rep') });
      await until(() => replica.store.meta('bootstrapped') !== undefined);
      const sweepStart = metric(await replica.scrape(), 'pullrep_verifications_total');
      const latencies: number[] = [];
      for (let i = 0; i < ROUNDS + 3; i++) {
        const oid = await advance(join(s.primaryRoot, hot));
        const value = encodeEvent(makeEvent<RefEvent>({ kind: 'refs-updated', repo: hot, origin: 'bench', refs: [{ ref: 'refs/heads/main', old: ZERO, new: oid }] } as never));
        const t0 = performance.now();
        await producer.send({ topic: s.events, messages: [{ key: hot, value }] });
        await until(async () => (await readRefs(join(s.replicaRoot, hot)))['refs/heads/main'] === oid, 30_000);
        if (i >= 3) latencies.push(performance.now() - t0);
        await sleep(50);
      }
      const verified = metric(await replica.scrape(), 'pullrep_verifications_total') - sweepStart;
      await replica.service.close();
      console.log(`  ${label}: p50 ${ms(median(latencies))}, p90 ${ms(latencies.sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)] ?? NaN)}; ${verified} verifications meanwhile`);
      return median(latencies);
    };
    console.log(`event latency (event produced -> replica has the ref, median of ${ROUNDS}), ${SWEEP_REPOS + 1} repositories`);
    const off = await measure('verification off', { 'replica.verifyIntervalMs': 0 });
    const on = await measure('during a sweep without a rate cap (one verification at a time, back to back)', { 'replica.verifyIntervalMs': 1000, 'replica.verifyRatePerSecond': 100_000 });
    console.log(`  ratio ${(on / off).toFixed(2)}x (target <= 1.5x)`);
    await producer.disconnect();
  } finally {
    await s.server.stop();
  }
}

async function primaryLoad(): Promise<void> {
  const count = 100;
  const s = await setup(count, 1);
  try {
    for (const name of s.names) await cp(join(s.primaryRoot, name), join(s.replicaRoot, name), { recursive: true });
    await publishCatalog(s, s.names);
    const replica = await start(s, { 'replica.verifyIntervalMs': 1000, 'replica.verifyRatePerSecond': 1000 });
    await until(() => replica.store.meta('bootstrapped') !== undefined);
    const sweep = async (): Promise<{ requests: number; bytes: number }> => {
      const before = s.server.requests.length;
      const verified = metric(await replica.scrape(), 'pullrep_verifications_total');
      await until(async () => metric(await replica.scrape(), 'pullrep_verifications_total') >= verified + count);
      const served = s.server.requests.slice(before);
      return { requests: served.length, bytes: served.reduce((n, r) => n + r.bytesIn + r.bytesOut, 0) };
    };
    const agree = await sweep();
    // The catalog now disagrees with every repository (the replicas equal the primary).
    await publishCatalog(s, s.names, () => 'f'.repeat(40));
    await sleep(500);
    const disagree = await sweep();
    await replica.service.close();
    console.log(`primary load of one sweep of ${count} repositories`);
    console.log(`  catalog agrees: ${(agree.requests / count).toFixed(2)} requests, ${(agree.bytes / count).toFixed(0)} bytes per repository (target: none)`);
    console.log(`  catalog disagrees (replica equals primary): ${(disagree.requests / count).toFixed(2)} requests, ${(disagree.bytes / count).toFixed(0)} bytes per repository (one ls-remote: info/refs + ls-refs), no repair`);
  } finally {
    await s.server.stop();
  }
}

export default async function main(): Promise<void> {
  await gapHeal(0);
  await gapHeal(20);
  await primaryLoad();
  await latencyDuringSweep();
}
