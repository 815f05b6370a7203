import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { pushCommit, readRefs } from '../helpers/git.js';
import { freePort } from '../helpers/ports.js';
import { httpGet } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { cliPath } from '../helpers/cli.js';
import { replicaFixture, type ReplicaFixture } from './replica-fixture.js';

/**
 * Per-repository visibility against the real broker and real git: exact lag per repository,
 * `status --repo/--repos`, the per-repository metrics, and `pullrep wait` (CLI and HTTP).
 */

const run = promisify(execFile);
const fixtures: ReplicaFixture[] = [];
afterEach(async () => {
  await Promise.allSettled(fixtures.splice(0).map((f) => f.close()));
});

async function fixture(overrides: Record<string, unknown> = {}): Promise<ReplicaFixture> {
  const f = await replicaFixture({ overrides: { 'replica.verifyIntervalMs': 0, ...overrides } });
  fixtures.push(f);
  return f;
}

interface View {
  repo: string;
  state: string;
  stage: number | null;
  lagMs: number;
  lastEventId: string | null;
  lastSyncAt: string | null;
  lastFailure: { errorClass: string; stage: number | null } | null;
}

async function status(f: ReplicaFixture, args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [cliPath, 'status', ...args, '--json'], { env: f.env, timeout: 30_000 });
  return JSON.parse(stdout) as unknown;
}

describe('per-repository visibility', () => {
  it('lag is 0 when caught up, grows during a primary outage for the affected repository only, and returns to 0; status --repo shows retrying with the stage, then synced', async () => {
    // Stage 2 waits 10 s: the outage below ends well within the ladder, however slow the machine.
    const f = await fixture({ 'retry.multiplier': 10, 'retry.maxDelayMs': 20_000 });
    const [hit, calm] = [await f.newRepo(), await f.newRepo()];
    const { running } = await f.startReplica();
    for (const repo of [hit, calm]) {
      const oid = await pushCommit(repo.primary);
      await f.produce(f.refsEvent(repo.name, { 'refs/heads/main': oid }), repo.name);
      await f.converged(repo);
    }
    await waitFor(async () => ((await status(f, ['--repo', hit.name])) as View).state === 'synced', { what: 'synced' });
    expect(((await status(f, ['--repo', hit.name])) as View).lagMs).toBe(0);

    f.server.failWith = 503;
    const oid = await pushCommit(hit.primary);
    await f.produce(f.refsEvent(hit.name, { 'refs/heads/main': oid }), hit.name);
    const during = (await waitFor(
      async () => {
        const v = (await status(f, ['--repo', hit.name])) as View;
        return v.state === 'retrying' && v.lagMs >= 1000 ? v : undefined;
      },
      { timeoutMs: 20_000, what: 'retrying with a lag' },
    )) as View;
    expect(during.stage).toBeGreaterThanOrEqual(1);
    expect(during.lastFailure?.errorClass).toBe('TransientFetchError');
    const views = (await status(f, ['--repos', '--sort', 'lag'])) as View[];
    expect(views[0]?.repo).toBe(hit.name);
    expect(views.find((v) => v.repo === calm.name)).toMatchObject({ state: 'synced', lagMs: 0 });
    const later = (await status(f, ['--repo', hit.name])) as View;
    expect(later.lagMs).toBeGreaterThanOrEqual(during.lagMs);
    expect(await running.scrape()).toMatch(/pullrep_replication_lag_seconds [1-9]/);
    // The summary: counts per state and the worst lag.
    const summary = (await status(f, [])) as { healing: { states: Record<string, number>; worstLagRepo: string | null } };
    // Retrying, or syncing at this moment (a retry stage's attempt running).
    expect((summary.healing.states.retrying ?? 0) + (summary.healing.states.syncing ?? 0)).toBe(1);
    expect(summary.healing.states.synced).toBe(1);
    expect(summary.healing.worstLagRepo).toBe(hit.name);

    f.server.failWith = undefined;
    await f.converged(hit, 30_000);
    await waitFor(async () => ((await status(f, ['--repo', hit.name])) as View).state === 'synced', { timeoutMs: 30_000, what: 'synced again' });
    const after = (await status(f, ['--repo', hit.name])) as View;
    expect(after.lagMs).toBe(0);
    expect(after.stage).toBeNull();
    const metrics = await running.scrape();
    expect(metrics).toMatch(/pullrep_replication_lag_seconds 0/);
    expect(metrics).toMatch(/pullrep_end_to_end_latency_seconds_count [3-9]/);
    expect(metrics).toMatch(/pullrep_repositories\{state="synced"\} 2/);
    // The table form for people.
    const { stdout } = await run(process.execPath, [cliPath, 'status', '--repos'], { env: f.env });
    expect(stdout).toMatch(/REPOSITORY\s+STATE\s+LAG/);
    expect(stdout).toContain(hit.name);
  });

  it('pullrep wait returns as soon as a push arrives, and times out with a non-zero exit on an oid that never comes', async () => {
    const f = await fixture();
    const repo = await f.newRepo();
    const first = await pushCommit(repo.primary);
    await f.produce(f.refsEvent(repo.name, { 'refs/heads/main': first }), repo.name);
    const { running } = await f.startReplica({ 'http.port': await freePort() });
    await f.converged(repo);
    const port = running.http?.port;
    if (!port) throw new Error('no HTTP endpoint');
    const env = { ...f.env, PULLREP_HTTP_PORT: String(port) };

    // Already there: at once.
    const now = await run(process.execPath, [cliPath, 'wait', repo.name, 'refs/heads/main', first], { env });
    expect(now.stdout).toContain(`at ${first}`);

    // A wait started before the push reaches the replica returns once the sync lands.
    const next = await pushCommit(repo.primary);
    const waiting = run(process.execPath, [cliPath, 'wait', repo.name, 'refs/heads/main', next, '--timeout', '30s'], { env });
    await waitFor(() => running.waiters.size === 1, { what: 'the wait to be registered' });
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe(first);
    await f.produce(f.refsEvent(repo.name, { 'refs/heads/main': next }), repo.name);
    const done = await waiting;
    expect(done.stdout).toContain(`at ${next}`);
    expect((await readRefs(repo.replica))['refs/heads/main']).toBe(next);

    // --or-newer: an older oid is satisfied by its descendant.
    const older = await run(process.execPath, [cliPath, 'wait', repo.name, 'refs/heads/main', first, '--or-newer', '--timeout', '1s'], { env });
    expect(older.stdout).toContain(`at ${next}`);

    // An oid that never comes: exit 1 with the current value.
    const never = 'f'.repeat(40);
    const timedOut = run(process.execPath, [cliPath, 'wait', repo.name, 'refs/heads/main', never, '--timeout', '700ms'], { env });
    await expect(timedOut).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`is at ${next} on this replica, not at ${never}`) });

    // The same over HTTP; bad input is a 400.
    const answer = await httpGet(port, `/v1/repos/${encodeURIComponent(repo.name)}/wait?ref=refs/heads/main&oid=${next}&timeoutMs=1000`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ matched: true, current: next });
    expect((await httpGet(port, `/v1/repos/${encodeURIComponent('../etc')}/wait?ref=refs/heads/main&oid=${next}`)).status).toBe(400);
    expect((await httpGet(port, `/v1/repos/${encodeURIComponent(repo.name)}/wait?ref=main&oid=${next}`)).status).toBe(400);

    // A client that goes away leaves no waiter behind.
    const gone = request({ host: '127.0.0.1', port, path: `/v1/repos/${encodeURIComponent(repo.name)}/wait?ref=refs/heads/main&oid=${never}&timeoutMs=60000` });
    gone.on('error', () => undefined);
    gone.end();
    await waitFor(() => running.waiters.size === 1, { what: 'the wait to be registered' });
    gone.destroy();
    await waitFor(() => running.waiters.size === 0, { what: 'the wait of a client that went away to end' });

    // A request target URL parsing refuses is a 400, not the end of the process.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await httpGet(port, '/healthz')).status).toBe(200);
  });

  it('10,000 repositories do not make /metrics bigger than the slow-only bound', async () => {
    const f = await fixture({ 'http.slowRepoLagMs': 60_000 });
    const { running } = await f.startReplica();
    const now = Date.now();
    for (let i = 0; i < 10_000; i++) running.store.syncSucceeded(`g/r-${i}.git`, { at: now, durationMs: 1 });
    // 3 repositories lag above http.slowRepoLagMs, 50 below it.
    for (let i = 0; i < 53; i++) running.store.eventsSeen(`g/r-${i}.git`, [{ id: `e${i}`, publishedAt: now - (i < 3 ? 120_000 : 1000) }]);
    const text = await running.scrape();
    const slow = text.split('\n').filter((l) => l.startsWith('pullrep_slow_repository_lag_seconds{'));
    expect(slow).toHaveLength(3);
    expect(text.split('\n').filter((l) => l.includes('g/r-')).length).toBe(3);
    expect(text).toMatch(/pullrep_repository_lag_seconds_count 10000/);
    expect(text).toMatch(/pullrep_repository_lag_seconds_bucket\{le="1"\} 9947/);
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
  });
});

describe('one owner per repository', () => {
  it('gives events[p] and every retry.n[p] to the same process of a replica: three processes, two partitions', async () => {
    const f = await fixture();
    const { testClient } = await import('../helpers/kafka.js');
    const latest = new Map<number, Record<string, number[]>>();
    const watched = (id: number) => {
      const real = testClient();
      return {
        ...real,
        batchSource: (options: Parameters<typeof real.batchSource>[0]) => {
          const source = real.batchSource(options);
          source.onJoin((assignment) => latest.set(id, assignment));
          return source;
        },
      };
    };
    for (const id of [1, 2, 3]) await f.startReplica({}, 0, watched(id));
    const topics = [f.topics.events, ...f.topics.retry];
    // Settled: every partition of every topic assigned once, and each member's partition numbers equal across topics.
    await waitFor(
      () => {
        if (latest.size < 3) return false;
        const owners = new Map<string, number>();
        for (const assignment of latest.values()) {
          const numbers = topics.map((t) => JSON.stringify([...(assignment[t] ?? [])].sort()));
          if (new Set(numbers).size !== 1) return false;
          for (const t of topics) for (const p of assignment[t] ?? []) owners.set(`${t}:${p}`, (owners.get(`${t}:${p}`) ?? 0) + 1);
        }
        return owners.size === topics.length * 2 && [...owners.values()].every((n) => n === 1);
      },
      { timeoutMs: 60_000, what: `a co-partitioned assignment; latest: ${JSON.stringify([...latest])}` },
    );
  });
});
