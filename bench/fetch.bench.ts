// The fetch engine's speed, against baselines measured in the same run over the same HTTP server
// (git http-backend behind the test server):
//  1. one changed ref in a small repository: pullrep's syncRefs vs a bare `git fetch` of that
//     ref (the floor). Target: median at most 1.3x the floor.
//  2. one changed ref in a repository with BENCH_REFS refs (default 500,000): pullrep vs a full
//     mirror fetch with protocol v0 and vs `git push --mirror` from the primary. Target: under
//     1 s and at least 10x faster than both. Also shows the one-ref reads pullrep does
//     in-process (packed-refs bisection vs isomorphic-git's resolveRef) and a plain v2 one-ref
//     fetch into the big replica (what the quarantine avoids).
import { execFile } from 'node:child_process';
import { cp, rm, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import git from 'isomorphic-git';
import { createFetcher, type Fetcher } from '../src/fetch/index.js';
import { readLocalRefs } from '../src/fetch/local-refs.js';
import { silentLogger } from '../src/log/index.js';
import { GitHttpServer } from '../test/helpers/git-server.js';
import { gitEnv, makeBareRepo, tempDir } from '../test/helpers/git.js';
import { median, timed } from './stats.js';

const exec = promisify(execFile);
const SMALL_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const BIG_ROUNDS = 5;
const REFS = Number(process.env.BENCH_REFS ?? 500_000);
const env = { ...gitEnv, LC_ALL: 'C' };

const ms = (n: number): string => `${n.toFixed(1)} ms`;


async function gitIn(dir: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await exec('git', args, { cwd: dir, env, maxBuffer: 1 << 30 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd: dir, env, maxBuffer: 1 << 30 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin?.end(input);
  });
}

/** Writes a new commit (one new file) on `ref` of a bare repository with plumbing; returns its id. */
let counter = 0;
async function commitOn(repo: string, ref: string): Promise<string> {
  counter += 1;
  const blob = (await gitIn(repo, ['hash-object', '-w', '--stdin'], `change ${counter} ${Math.random()}\n`)).trim();
  const tree = (await gitIn(repo, ['mktree'], `100644 blob ${blob}\tfile-${counter}.txt\n`)).trim();
  const parent = (await gitIn(repo, ['rev-parse', '--verify', '--quiet', ref]).catch(() => '')).trim();
  const commit = (await gitIn(repo, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `c${counter}`])).trim();
  await gitIn(repo, ['update-ref', ref, commit]);
  return commit;
}

function fetcherFor(primaryUrl: string, replicaRoot: string, quarantineFromBytes?: number): Fetcher {
  return createFetcher({
    ...(quarantineFromBytes !== undefined ? { quarantineFromBytes } : {}),
    options: {
      root: replicaRoot,
      primaryUrl,
      credentials: { username: '', password: '', sshKeyFile: '' },
      concurrency: 4,
      gitTimeoutMs: 600_000,
      recloneAfterFailures: 3,
      readOnly: true,
      missingRepoGraceMs: 0,
      maintenanceIntervalMs: 0,
    },
    env: process.env,
    logger: silentLogger(),
  });
}

/**
 * A push deleting `count` branches of `name`: they are created on the primary and replicated,
 * deleted on the primary, then one syncRefs with the event's all-zero hints removes them. Returns
 * its time; the engine learns which are gone with one ls-remote instead of one fetch per ref.
 */
async function deleteMany(primary: string, fetcher: Fetcher, name: string, count: number): Promise<number> {
  const base = (await gitIn(primary, ['rev-parse', 'refs/heads/main'])).trim();
  const refs = Array.from({ length: count }, (_, i) => `refs/heads/gone-${counter}-${i}`);
  await gitIn(primary, ['update-ref', '--stdin'], refs.map((ref) => `create ${ref} ${base}\n`).join(''));
  await fetcher.syncRefs(name, refs);
  await gitIn(primary, ['update-ref', '--stdin'], refs.map((ref) => `delete ${ref} ${base}\n`).join(''));
  const zero = '0'.repeat(base.length);
  let result: Awaited<ReturnType<Fetcher['syncRefs']>> | undefined;
  const t = await timed(async () => {
    result = await fetcher.syncRefs(name, refs, { hints: Object.fromEntries(refs.map((ref) => [ref, zero])) });
  });
  if (result?.deleted.length !== count) throw new Error(`${name}: ${result?.deleted.length ?? 0} of ${count} refs deleted`);
  counter += 1;
  return t;
}

async function smallRepository(server: GitHttpServer, primaryRoot: string): Promise<void> {
  const primary = await makeBareRepo(primaryRoot, 'small.git');
  for (let i = 0; i < 50; i++) await commitOn(primary, i % 5 ? 'refs/heads/main' : `refs/heads/topic-${i}`);
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const fetcher = fetcherFor(`${server.url}/{repo}`, replicaRoot);
  await fetcher.syncRepository('small.git');
  // the same sync forced through the quarantine, to show why small repositories fetch directly
  const quarantined = fetcherFor(`${server.url}/{repo}`, await tempDir('pullrep-bench-replica-'), 0);
  await quarantined.syncRepository('small.git');
  const floorRepo = await tempDir('pullrep-bench-floor-');
  await gitIn(floorRepo, ['init', '--bare', '--quiet']);
  const url = `${server.url}/small.git`;
  const floor = () => gitIn(floorRepo, ['fetch', '--quiet', url, '+refs/heads/main:refs/heads/main']);
  await floor();
  const times = { floor: [] as number[], pullrep: [] as number[], quarantine: [] as number[] };
  for (let i = 0; i < SMALL_ROUNDS + 2; i++) {
    const oid = await commitOn(primary, 'refs/heads/main');
    const hints = { hints: { 'refs/heads/main': oid } };
    const runs: Array<[keyof typeof times, () => Promise<unknown>]> = [
      ['floor', floor],
      ['pullrep', () => fetcher.syncRefs('small.git', ['refs/heads/main'], hints)],
      ['quarantine', () => quarantined.syncRefs('small.git', ['refs/heads/main'], hints)],
    ];
    // rotate which goes first, so none always meets a warmer server
    for (let k = 0; k < runs.length; k++) {
      const run = runs[(i + k) % runs.length];
      if (!run) continue;
      const [name, work] = run;
      const t = await timed(work);
      if (i >= 2) times[name].push(t); // the first two rounds warm up
    }
  }
  const check = await fetcher.syncRefs('small.git', ['refs/heads/main']);
  if (check.upToDate.length !== 1) throw new Error('small replica did not converge');
  const deletion = await deleteMany(primary, fetcher, 'small.git', 200);
  await fetcher.close();
  await quarantined.close();
  const ratio = median(times.pullrep) / median(times.floor);
  console.log(`1. small repository, one changed ref, ${times.floor.length} rounds (median):`);
  console.log(`   git fetch of the ref (floor)  ${ms(median(times.floor))}`);
  console.log(`   pullrep syncRefs              ${ms(median(times.pullrep))}   ratio ${ratio.toFixed(2)}x  (target <= 1.3x) ${ratio <= 1.3 ? 'OK' : 'MISSED'}`);
  console.log(`   (same, forced through the quarantine: ${ms(median(times.quarantine))}, ${(median(times.quarantine) / median(times.floor)).toFixed(2)}x)`);
  console.log(`   a push deleting 200 branches, one syncRefs: ${ms(deletion)} (${(deletion / median(times.floor)).toFixed(1)}x one fetch)`);
}

async function manyRefs(server: GitHttpServer, primaryRoot: string): Promise<void> {
  const primary = await makeBareRepo(primaryRoot, 'big.git');
  const base = await commitOn(primary, 'refs/heads/main');
  // update-ref --stdin + pack-refs of 500,000 loose refs takes minutes here; writing the sorted
  // packed-refs file directly and letting `git pack-refs --all` rewrite it gives the same repository.
  const generated = await timed(async () => {
    const lines = ['# pack-refs with: peeled fully-peeled sorted \n'];
    for (let i = 0; i < REFS; i++) lines.push(`${base} refs/heads/b/${String(i).padStart(7, '0')}\n`);
    await writeFile(join(primary, 'packed-refs'), lines.join(''));
    await gitIn(primary, ['pack-refs', '--all']);
    const count = (await gitIn(primary, ['for-each-ref', '--format=x'])).length / 2;
    if (count !== REFS + 1) throw new Error(`generated ${count} refs, expected ${REFS + 1}`);
  });
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const replica = join(replicaRoot, 'big.git');
  await cp(primary, replica, { recursive: true });
  const spare = async (name: string): Promise<string> => {
    const dir = join(await tempDir('pullrep-bench-copy-'), name);
    await cp(replica, dir, { recursive: true });
    return dir;
  };
  const copies = { v0: await spare('v0.git'), push: await spare('push.git'), plain: await spare('plain.git') };
  console.log(`2. repository with ${REFS} refs (packed-refs generated and checked in ${ms(generated)}):`);

  const probe = `refs/heads/b/${String(Math.floor(REFS / 2)).padStart(7, '0')}`;
  const bisect: number[] = [];
  for (let i = 0; i < 20; i++) bisect.push(await timed(async () => readLocalRefs(replica, [probe])));
  const iso: number[] = [];
  for (let i = 0; i < 3; i++) iso.push(await timed(() => git.resolveRef({ fs, gitdir: replica, ref: probe })));
  console.log(`   read one local ref in-process: packed-refs bisection ${ms(median(bisect))}, isomorphic-git resolveRef ${ms(median(iso))}`);

  const fetcher = fetcherFor(`${server.url}/{repo}`, replicaRoot);
  const times: number[] = [];
  const changed: string[] = [];
  for (let i = 0; i < BIG_ROUNDS; i++) {
    const ref = `refs/heads/b/${String(Math.floor(Math.random() * REFS)).padStart(7, '0')}`;
    const oid = await commitOn(primary, ref);
    changed.push(ref);
    times.push(await timed(() => fetcher.syncRefs('big.git', [ref], { hints: { [ref]: oid } })));
  }
  const verify = await fetcher.syncRefs('big.git', changed);
  if (verify.upToDate.length !== changed.length) throw new Error('big replica did not converge');
  const deletion = await deleteMany(primary, fetcher, 'big.git', 200);
  await fetcher.close();
  const pullrep = median(times);
  console.log(`   pullrep syncRefs of one changed ref (median of ${BIG_ROUNDS}): ${ms(pullrep)}  [${times.map((t) => t.toFixed(0)).join(', ')}]`);
  console.log(`   a push deleting 200 branches, one syncRefs (lists every branch once): ${ms(deletion)}`);

  const url = `${server.url}/big.git`;
  const one = changed[0] ?? 'refs/heads/main';
  const plain = await timed(() =>
    gitIn(copies.plain, ['-c', 'protocol.version=2', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, `+${one}:${one}`]),
  );
  console.log(`   (plain git fetch of that one ref over v2 into the big replica: ${ms(plain)})`);
  const v0 = await timed(() => gitIn(copies.v0, ['-c', 'protocol.version=0', 'fetch', '--quiet', '--prune', url, '+refs/*:refs/*']));
  const push = await timed(() => gitIn(primary, ['push', '--quiet', '--mirror', copies.push]));
  const ok = (x: number): string => (x >= 10 ? 'OK' : 'MISSED');
  console.log(`   (a) full mirror fetch, protocol v0: ${ms(v0)}  -> pullrep is ${(v0 / pullrep).toFixed(1)}x faster ${ok(v0 / pullrep)}`);
  console.log(`   (b) git push --mirror:             ${ms(push)}  -> pullrep is ${(push / pullrep).toFixed(1)}x faster ${ok(push / pullrep)}`);
  console.log(`   target: pullrep under 1000 ms ${pullrep < 1000 ? 'OK' : 'MISSED'}`);
  for (const dir of [copies.v0, copies.push, copies.plain, replicaRoot]) await rm(dir, { recursive: true, force: true });
}

export default async function fetchBench(): Promise<void> {
  const primaryRoot = await tempDir('pullrep-bench-primary-');
  const server = await new GitHttpServer({ root: primaryRoot }).start();
  try {
    await smallRepository(server, primaryRoot);
    await manyRefs(server, primaryRoot);
  } finally {
    await server.stop();
    await rm(primaryRoot, { recursive: true, force: true });
  }
}
