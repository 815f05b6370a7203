// pullrep verify on a repository with BENCH_REFS refs (default 500,000), against a baseline
// measured in the same run: `git for-each-ref | sha1sum` (git lists the refs, one hash over the
// whole listing: the floor of any checksum that asks git). Also shown: the in-process reading
// of packed-refs that was considered instead of for-each-ref, the primary's side over HTTP with
// protocol v2, a whole `verify` of the repository, and peak memory.
import { execFile } from 'node:child_process';
import { readFile, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gitEnvironment } from '../src/fetch/git-env.js';
import { silentLogger } from '../src/log/index.js';
import { RefChecksum, createVerifier } from '../src/verify/index.js';
import { localListing, remoteListing } from '../src/verify/ref-listing.js';
import { GitHttpServer } from '../test/helpers/git-server.js';
import { gitEnv, makeBareRepo, tempDir } from '../test/helpers/git.js';
import { median } from './stats.js';

const exec = promisify(execFile);
const REFS = Number(process.env.BENCH_REFS ?? 500_000);
const ROUNDS = 5;
const env = { ...gitEnv, LC_ALL: 'C' };
const FORMAT = '--format=%(objectname) %(refname)';

const ms = (n: number): string => `${n.toFixed(0)} ms`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Time of `work` and the growth of this process's RSS above where it started (sampled). */
async function measure(work: () => Promise<unknown>): Promise<{ ms: number; rss: number; result: unknown }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
  const began = process.hrtime.bigint();
  const result = await work();
  const took = Number(process.hrtime.bigint() - began) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { ms: took, rss: peak - start, result };
}

async function rounds(work: () => Promise<unknown>): Promise<{ ms: number; rss: number; times: number[]; result: unknown }> {
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await measure(work));
  const times = runs.map((r) => r.ms);
  return { ms: median(times), rss: Math.max(...runs.map((r) => r.rss)), times, result: runs[0]?.result };
}

async function bigRepository(root: string): Promise<string> {
  const repo = await makeBareRepo(root, 'big.git');
  const tree = (await exec('git', ['hash-object', '-w', '-t', 'tree', '/dev/null'], { cwd: repo, env })).stdout.trim();
  const commit = (await exec('git', ['commit-tree', tree, '-m', 'base'], { cwd: repo, env })).stdout.trim();
  const lines = ['# pack-refs with: peeled fully-peeled sorted \n'];
  for (let i = 0; i < REFS; i++) lines.push(`${commit} refs/heads/b/${String(i).padStart(7, '0')}\n`);
  await writeFile(join(repo, 'packed-refs'), lines.join(''));
  await exec('git', ['update-ref', 'refs/heads/main', commit], { cwd: repo, env });
  await exec('git', ['pack-refs', '--all'], { cwd: repo, env });
  return repo;
}

/** The alternative to for-each-ref: read packed-refs in-process (loose refs not handled here). */
async function packedRefsChecksum(repo: string): Promise<string> {
  const sum = new RefChecksum();
  for (const line of (await readFile(join(repo, 'packed-refs'), 'utf8')).split('\n')) {
    if (line.length > 41 && line[0] !== '#' && line[0] !== '^') sum.addLine(line);
  }
  return sum.hex();
}

export default async function verifyBench(): Promise<void> {
  const primaryRoot = await tempDir('pullrep-bench-primary-');
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const repo = await bigRepository(primaryRoot);
  await cp(repo, join(replicaRoot, 'big.git'), { recursive: true });
  const server = await new GitHttpServer({ root: primaryRoot }).start();
  const url = `${server.url}/{repo}`;
  const credentials = { username: '', password: '', sshKeyFile: '' };
  const deps = { env: gitEnvironment(process.env, url, credentials), timeoutMs: 300_000 };
  try {
    const baseline = await rounds(() => exec('sh', ['-c', `git for-each-ref '${FORMAT}' | sha1sum`], { cwd: repo, env }));
    const local = await rounds(() => localListing(repo, deps));
    const packed = await rounds(() => packedRefsChecksum(repo));
    const forEachRef = await rounds(() => exec('sh', ['-c', `git for-each-ref '${FORMAT}' >/dev/null`], { cwd: repo, env }));
    const showRef = await rounds(() => exec('sh', ['-c', 'git show-ref >/dev/null'], { cwd: repo, env }));
    const gitRss = async (cmd: string): Promise<string> => (await exec('/usr/bin/time', ['-f', '%M', 'sh', '-c', `${cmd} >/dev/null`], { cwd: repo, env })).stderr.trim().split('\n').pop() ?? '?';
    const before = server.requests.length;
    const remote = await rounds(() => remoteListing(`${server.url}/big.git`, deps));
    const v2 = server.requests.slice(before).every((r) => r.gitProtocol === 'version=2');
    // The replica is a copy of the primary, not a repository pullrep made read-only.
    const options = { primaryUrl: url, primaryRoot, replicaRoot, credentials, gitTimeoutMs: 300_000, concurrency: 1, readOnly: false };
    const verifier = createVerifier({ options, logger: silentLogger(), env: process.env });
    const whole = await rounds(() => verifier.verify('big.git'));
    const listing = local.result as Awaited<ReturnType<typeof localListing>>;
    const verdict = whole.result as Awaited<ReturnType<typeof verifier.verify>>;
    if (listing.refs !== REFS + 1 || listing.checksum !== (await packedRefsChecksum(repo)) || !verdict.equal) {
      throw new Error('the checksums disagree');
    }
    const cliRun = async (extra: string[]): Promise<string> => {
      const bin = join(import.meta.dirname, '..', 'bin', 'pullrep.js');
      const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PULLREP_PRIMARY_URL: url, PULLREP_PRIMARY_ROOT: primaryRoot, PULLREP_REPLICA_ROOT: replicaRoot, PULLREP_REPLICA_READ_ONLY: 'false', PULLREP_LOG_LEVEL: 'warn' };
      const { stderr } = await exec('/usr/bin/time', ['-f', '%e %M', process.execPath, bin, 'verify', ...extra, 'big.git'], { env: cliEnv });
      const [seconds, kb] = stderr.trim().split('\n').pop()?.split(' ') ?? [];
      return `${seconds ?? '?'} s, peak RSS ${((Number(kb) || 0) / 1024).toFixed(1)} MB`;
    };
    const overHttp = await cliRun([]);
    const onPrimary = await cliRun(['--local-primary']);
    console.log(`checksum of a repository with ${REFS + 1} refs, median of ${ROUNDS} rounds (RSS: growth of this process, max of the rounds):`);
    console.log(`   baseline: git for-each-ref | sha1sum          ${ms(baseline.ms)}`);
    console.log(`   pullrep replica side (show-ref, streamed)     ${ms(local.ms)}  ratio ${(local.ms / baseline.ms).toFixed(2)}x  RSS +${mb(local.rss)}  [${local.times.map((t) => t.toFixed(0)).join(', ')}]`);
    console.log(`   git alone: for-each-ref ${ms(forEachRef.ms)} (peak RSS ${await gitRss(`git for-each-ref '${FORMAT}'`)} KB), show-ref ${ms(showRef.ms)} (peak RSS ${await gitRss('git show-ref')} KB)`);
    console.log(`   in-process packed-refs read (not chosen)      ${ms(packed.ms)}  ratio ${(packed.ms / baseline.ms).toFixed(2)}x  RSS +${mb(packed.rss)}`);
    console.log(`   pullrep primary side (ls-remote over HTTP)    ${ms(remote.ms)}  ratio ${(remote.ms / baseline.ms).toFixed(2)}x  RSS +${mb(remote.rss)}  protocol v2: ${v2 ? 'yes' : 'NO'}`);
    console.log(`   verifier.verify (both sides at once)          ${ms(whole.ms)}  ratio ${(whole.ms / baseline.ms).toFixed(2)}x  RSS +${mb(whole.rss)}`);
    console.log(`   pullrep verify big.git (whole CLI process, largest process of its tree): ${overHttp}; with --local-primary: ${onPrimary}`);
  } finally {
    await server.stop();
  }
}
