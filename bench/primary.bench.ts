// The primary agent, against baselines measured in the same run:
//  1. What the hook adds to a push (median of 30, one new commit): the spooling hook with
//     `pullrep primary` running, and the direct hook (`pullrep publish`, Node.js per push), vs an
//     unhooked push. Target for the spooling hook: at most 15 ms added.
//  2. Push started -> the replica has the ref (median), with `pullrep primary` and
//     `pullrep replica` running, vs an unhooked push plus one raw `git fetch` of the ref.
//     Target: at most 1.5x.
//  3. The catalog's cost: a push's checksum update in a repository of BENCH_REFS refs (default
//     500,000), incremental vs a full listing, and the agent's CPU per push there; a scan of
//     BENCH_SCAN_REPOS (default 1,000) unchanged repositories. Targets: under 10 ms of agent CPU
//     per push at any ref count; the unchanged scan under 1 s.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileOptions, loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/log/index.js';
import { startPrimary } from '../src/primary/agent.js';
import { applyUpdates, CatalogKeeper } from '../src/primary/catalog-keeper.js';
import { Scanner } from '../src/primary/scanner.js';
import { localListing } from '../src/verify/ref-listing.js';
import { gitEnv, makeBareRepo, randomName, tempDir, WorkClone } from '../test/helpers/git.js';
import { benchBrokers, benchClient } from './kafka.js';
import { median, timed, until } from './stats.js';

const run = promisify(execFile);
const ROUNDS = 30;
const WARMUP = 3;
const REFS = Number(process.env.BENCH_REFS ?? 500_000);
const SCAN_REPOS = Number(process.env.BENCH_SCAN_REPOS ?? 1000);
const cli = join(import.meta.dirname, '..', 'bin', 'pullrep.js');
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));


const pushArgs = ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'];

async function timedPush(work: WorkClone): Promise<number> {
  await work.commit();
  return timed(() => run('git', pushArgs, { cwd: work.dir, env: gitEnv }));
}

/** A ref's value in a bare repository, read from its files (loose ref, else packed-refs). */
function refValue(repo: string, ref: string): string | undefined {
  const loose = join(repo, ref);
  if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
  const packed = join(repo, 'packed-refs');
  if (!existsSync(packed)) return undefined;
  const line = readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
  return line?.slice(0, 40);
}

function startCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
  return child;
}

async function hookAndLatency(): Promise<void> {
  const brokers = benchBrokers();
  const base = await tempDir('pullrep-bench-primary-');
  const root = join(base, 'repos');
  const replicaRoot = join(base, 'replica');
  const topic = randomName('bench-events');
  const configFile = join(base, 'pullrep.json');
  await writeFile(
    configFile,
    JSON.stringify({
      kafka: { brokers },
      topics: { events: topic, partitions: 1, catalog: randomName('bench-catalog') },
      primary: { root, url: `file://${root}/{repo}` },
      replica: { name: randomName('bench-replica'), root: replicaRoot },
      http: { port: 0 },
      log: { level: 'warn', pretty: 'false' },
    }),
  );
  const admin = await benchClient('bench').admin();
  await admin.createMissingTopics([{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  const env = { PULLREP_CONFIG: configFile };
  const repos = { plain: await makeBareRepo(root, 'plain.git'), spool: await makeBareRepo(root, 'spool.git'), direct: await makeBareRepo(root, 'direct.git') };
  await run(process.execPath, [cli, '--config', configFile, 'hook', 'install', repos.spool]);
  await run(process.execPath, [cli, '--config', configFile, 'hook', 'install', '--direct', repos.direct]);
  const agent = startCli(['primary'], env);
  await until(() => existsSync(join(root, '.pullrep-spool', '.agent.pid')));
  const works = { plain: await WorkClone.of(repos.plain), spool: await WorkClone.of(repos.spool), direct: await WorkClone.of(repos.direct) };
  try {
    for (let i = 0; i < WARMUP; i++) for (const w of Object.values(works)) await timedPush(w);
    const times = { plain: [] as number[], spool: [] as number[], direct: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      times.plain.push(await timedPush(works.plain));
      times.spool.push(await timedPush(works.spool));
      times.direct.push(await timedPush(works.direct));
    }
    const m = { plain: median(times.plain), spool: median(times.spool), direct: median(times.direct) };
    console.log(`1. git push, one new commit, median of ${ROUNDS} (after ${WARMUP} warm-up rounds each), broker ${brokers.join(',')}`);
    console.log(`  unhooked (baseline):                          ${ms(m.plain)}`);
    console.log(`  spooling hook, pullrep primary running:       ${ms(m.spool)}  added ${ms(m.spool - m.plain)} (target <= 15 ms); ratio ${(m.spool / m.plain).toFixed(2)}x`);
    console.log(`  direct hook (pullrep publish, Node per push): ${ms(m.direct)}  added ${ms(m.direct - m.plain)}; ratio ${(m.direct / m.plain).toFixed(2)}x`);

    // 2. Push started -> the replica has it.
    const replica = startCli(['replica'], env);
    try {
      const floorReplica = join(base, 'floor-replica.git');
      await run('git', ['init', '--bare', '--quiet', floorReplica]);
      const replicaRepo = join(replicaRoot, 'spool.git');
      // Until the replica has the repository and follows pushes.
      const first = await works.spool.commit();
      await run('git', pushArgs, { cwd: works.spool.dir, env: gitEnv });
      await until(() => refValue(replicaRepo, 'refs/heads/main') === first, 60_000);
      const e2e: number[] = [];
      const floor: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const base1 = await works.plain.commit();
        floor.push(
          await timed(async () => {
            await run('git', pushArgs, { cwd: works.plain.dir, env: gitEnv });
            await run('git', ['fetch', '--quiet', repos.plain, `+refs/heads/main:refs/heads/main`], { cwd: floorReplica, env: gitEnv });
          }),
        );
        if (refValue(floorReplica, 'refs/heads/main') !== base1) throw new Error('the raw fetch did not bring the commit');
        const commit = await works.spool.commit();
        e2e.push(
          await timed(async () => {
            await run('git', pushArgs, { cwd: works.spool.dir, env: gitEnv });
            await until(() => refValue(replicaRepo, 'refs/heads/main') === commit);
          }),
        );
      }
      const f = median(floor);
      const e = median(e2e);
      console.log(`2. push started -> the replica has the ref, median of ${ROUNDS}`);
      console.log(`  unhooked push + one raw git fetch (the floor): ${ms(f)}`);
      console.log(`  pullrep (spooling hook, primary agent, replica): ${ms(e)}; ratio ${(e / f).toFixed(2)}x (target <= 1.5x)`);
    } finally {
      replica.kill('SIGTERM');
    }
  } finally {
    agent.kill('SIGTERM');
  }
}

/** A bare repository with one commit and `count` refs pointing at it, written as packed-refs. */
async function repoWithRefs(root: string, name: string, count: number): Promise<{ path: string; commit: string }> {
  const path = await makeBareRepo(root, name);
  const work = await WorkClone.of(path);
  const commit = await work.commit();
  await work.push('HEAD:refs/heads/main');
  const lines = ['# pack-refs with: peeled fully-peeled sorted '];
  const names = Array.from({ length: count - 1 }, (_, i) => `refs/heads/b${String(i).padStart(7, '0')}`);
  names.push('refs/heads/main');
  names.sort();
  for (const ref of names) lines.push(`${commit} ${ref}`);
  await writeFile(join(path, 'packed-refs'), lines.join('\n') + '\n');
  await run('rm', ['-f', join(path, 'refs', 'heads', 'main')]);
  return { path, commit };
}

async function catalogCosts(): Promise<void> {
  const base = await tempDir('pullrep-bench-catalog-');
  const root = join(base, 'repos');
  const big = await repoWithRefs(root, 'big.git', REFS);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const fulls: number[] = [];
  let listed = { checksum: '', refs: 0 };
  for (let i = 0; i < 3; i++) {
    fulls.push(
      await timed(async () => {
        const l = await localListing(big.path, { env, timeoutMs: 120_000 });
        listed = { checksum: l.checksum, refs: l.refs };
      }),
    );
  }
  if (listed.refs !== REFS) throw new Error(`listed ${listed.refs} refs, expected ${REFS}`);
  const update = [{ ref: 'refs/heads/main', old: big.commit, new: 'f'.repeat(40) }];
  const N = 10_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) applyUpdates(listed, update);
  const incremental = Number(process.hrtime.bigint() - started) / 1e6 / N;
  console.log(`3. the catalog, repository of ${REFS} refs`);
  console.log(`  full listing (git show-ref + checksum), median of 3: ${ms(median(fulls))}`);
  console.log(`  incremental update for a one-ref push: ${(incremental * 1000).toFixed(1)} us (${(median(fulls) / incremental).toFixed(0)}x less)`);

  // The agent's own CPU per push to that repository, in this process, relay and catalog included.
  const catalog = randomName('bench-catalog');
  const topic = randomName('bench-events');
  const { config } = loadConfig({
    env: {
      PULLREP_KAFKA_BROKERS: benchBrokers().join(','),
      PULLREP_PRIMARY_ROOT: root,
      PULLREP_TOPICS_EVENTS: topic,
      PULLREP_TOPICS_CATALOG: catalog,
      PULLREP_TOPICS_PARTITIONS: '1',
      PULLREP_PRIMARY_SCAN_INTERVAL_MS: '0',
      PULLREP_HTTP_PORT: '0',
    },
  });
  const options = compileOptions(config);
  const kafka = benchClient('bench-agent');
  await run(process.execPath, [cli, 'hook', 'install', big.path], { env: { ...env, PULLREP_PRIMARY_ROOT: root } });
  const agent = await startPrimary({ options, kafka, logger: silentLogger(), env });
  try {
    const work = await WorkClone.of(big.path);
    await run('git', ['fetch', '--quiet', 'origin', 'main'], { cwd: work.dir, env: gitEnv });
    await run('git', ['reset', '--quiet', '--hard', 'FETCH_HEAD'], { cwd: work.dir, env: gitEnv });
    const records = async () => (await agent.metrics.catalogRecords.get()).values.find((v) => v.labels.kind === 'record')?.value ?? 0;
    // The first push makes the agent list the repository once; the rest are incremental.
    await work.commit();
    await run('git', pushArgs, { cwd: work.dir, env: gitEnv });
    while ((await records()) < 1) await sleep(20);
    // This process's CPU from push to catalog record, minus the same for an unhooked push to a
    // repository of as many refs (as long a push): the agent's share.
    const plainRepo = await repoWithRefs(join(base, 'plain'), 'plain.git', REFS);
    const plain = await WorkClone.of(plainRepo.path);
    await run('git', ['fetch', '--quiet', 'origin', 'main'], { cwd: plain.dir, env: gitEnv });
    await run('git', ['reset', '--quiet', '--hard', 'FETCH_HEAD'], { cwd: plain.dir, env: gitEnv });
    const pushes = 20;
    const cpu = { agent: [] as number[], plain: [] as number[] };
    for (let i = 0; i < pushes; i++) {
      await work.commit();
      const before = await records();
      let usage = process.cpuUsage();
      await run('git', pushArgs, { cwd: work.dir, env: gitEnv });
      while ((await records()) <= before) await sleep(2);
      let d = process.cpuUsage(usage);
      cpu.agent.push((d.user + d.system) / 1000);
      await plain.commit();
      usage = process.cpuUsage();
      await run('git', pushArgs, { cwd: plain.dir, env: gitEnv });
      d = process.cpuUsage(usage);
      cpu.plain.push((d.user + d.system) / 1000);
    }
    const agentCpu = median(cpu.agent) - median(cpu.plain);
    console.log(`  agent CPU per push there (spool file read, event produced, checksum updated, catalog record produced): ${ms(agentCpu)} (target < 10 ms), median of ${pushes}`);
  } finally {
    await agent.close();
  }

  // 4. A scan of unchanged repositories.
  const scanRoot = join(base, 'many');
  const template = await repoWithRefs(join(base, 'template'), 't.git', 3);
  for (let i = 0; i < SCAN_REPOS; i++) await cp(template.path, join(scanRoot, `g${Math.floor(i / 100)}`, `r${i}.git`), { recursive: true });
  await sleep(2500); // older than the racy window, as repositories at rest are
  const keeper = new CatalogKeeper({ origin: 'primary', output: { put: () => undefined }, logger: silentLogger() });
  const list = async (gitDir: string) => {
    const l = await localListing(gitDir, { env, timeoutMs: 60_000 });
    return { checksum: l.checksum, refs: l.refs };
  };
  const scanner = new Scanner({ root: scanRoot, keeper, list, logger: silentLogger() });
  const cold = await scanner.scanOnce();
  const warm = await scanner.scanOnce();
  if (warm.repositories !== SCAN_REPOS || warm.listed !== 0) throw new Error(`unchanged scan listed ${warm.listed} of ${warm.repositories}`);
  console.log(`4. scan of ${SCAN_REPOS} repositories: first (lists every one) ${ms(cold.durationMs)}; unchanged ${ms(warm.durationMs)} (target < 1 s), ${warm.listed} listed`);
}

export default async function primaryBench(): Promise<void> {
  await hookAndLatency();
  await catalogCosts();
}
