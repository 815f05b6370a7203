import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { git, pushCommit, WorkClone } from '../helpers/git.js';
import { readTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { execFileAsync, PULLREP_BIN, replicaFixture, groupMembers, type ReplicaFixture } from './replica-fixture.js';

const run = execFileAsync;
const bin = PULLREP_BIN;

let fx: ReplicaFixture | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await fx?.close();
  fx = undefined;
});

/** A `pullrep replica` child process; resolves its exit code once its output is complete. */
function startReplica(f: ReplicaFixture, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, 'replica'], { env: { ...f.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('pullrep replica processes', () => {
  it('replicates pushes published by the hook, serves metrics and stops cleanly on SIGTERM', async () => {
    fx = await replicaFixture();
    const port = await freePort();
    const repo = await fx.newRepo();
    await run(process.execPath, [bin, '--config', fx.configFile, 'hook', 'install', '--direct', fx.primaryRoot], { env: fx.env });
    const replica = startReplica(fx, { PULLREP_HTTP_PORT: String(port), PULLREP_LOG_LEVEL: 'info' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 30_000, what: 'readiness' });
    await pushCommit(repo.primary, 'main');
    await pushCommit(repo.primary, 'topic');
    await fx.converged(repo);
    // The counters follow the sync that converged the repository.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^pullrep_syncs_total\{result="ok"\} [1-9]/m.test(text) && text;
      },
      { what: 'a successful sync in the metrics' },
    );
    expect(metrics).toContain('pullrep_sync_duration_seconds_bucket');
    expect(metrics).toMatch(/^pullrep_replica_ready 1$/m);
    // Two pushes, two events, each published on the primary and applied here.
    expect(metrics).toMatch(/^pullrep_end_to_end_latency_seconds_count [2-9]$/m);
    // Everything committed: the lag of the events topic comes down to 0 (refreshed every 15 s).
    const eventsTopic = fx.config.topics.events;
    await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return new RegExp(`^pullrep_consumer_lag_records\\{topic="${eventsTopic.replace(/\./g, '\\.')}"\\} 0$`, 'm').test(text);
    }, { timeoutMs: 40_000, what: 'the lag of the events topic at 0' });
    // prom-client's process and Node.js metrics beside pullrep's.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'process_open_fds']) {
      expect(metrics).toContain(`# TYPE ${name} `);
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    replica.child.kill('SIGTERM');
    expect(await replica.exited).toBe(0);
    expect(replica.stderr()).toContain('replica stopped');
  }, 180_000);

  it('loses nothing when killed with SIGKILL in the middle of a fetch', async () => {
    fx = await replicaFixture();
    const repo = await fx.newRepo();
    const work = await WorkClone.of(repo.primary);
    await writeFile(join(work.dir, 'big.bin'), randomBytes(30 * 1024 * 1024));
    await git(['add', 'big.bin'], { cwd: work.dir });
    const head = await work.commit('big');
    await work.push('HEAD:refs/heads/main');
    const first = startReplica(fx);
    const f = fx;
    await waitFor(async () => (await groupMembers(f)) === 1, { timeoutMs: 30_000, what: 'the replica to join' });
    const before = fx.server.requests.length;
    await fx.produce(fx.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    await waitFor(() => f.server.requests.slice(before).some((r) => r.path.endsWith('git-upload-pack') && r.method === 'POST'), { what: 'the fetch to start' });
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startReplica(fx);
    await fx.converged(repo, 60_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('hands a dead process\'s partitions and pending retries to the surviving one', async () => {
    fx = await replicaFixture({ partitions: 2, overrides: { 'retry.initialDelayMs': 4000, 'retry.maxRetryPeriodMs': 120_000 } });
    const repos = [await fx.newRepo(), await fx.newRepo(), await fx.newRepo(), await fx.newRepo()];
    const heads = await Promise.all(repos.map((r) => pushCommit(r.primary, 'main')));
    const a = startReplica(fx);
    const b = startReplica(fx);
    const f = fx;
    await waitFor(async () => (await groupMembers(f)) === 2, { timeoutMs: 30_000, what: 'both processes to join' });
    // The primary is down (answers 503); the port stays ours.
    fx.server.failWith = 503;
    for (const [i, r] of repos.entries()) await fx.produce(fx.refsEvent(r.name, { 'refs/heads/main': heads[i] ?? '' }), r.name, i % 2);
    // Every event is waiting on stage 1, on both partitions.
    const pending = await readTopic(fx.kafka, fx.topics.retry[0] ?? '', { atLeast: 4 });
    expect(new Set(pending.map((r) => r.partition))).toEqual(new Set([0, 1]));
    a.child.kill('SIGKILL');
    await a.exited;
    fx.server.failWith = undefined;
    for (const r of repos) await fx.converged(r, 60_000);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 180_000);
});
