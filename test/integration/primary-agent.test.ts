import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { git, makeBareRepo, randomName, readRefs, tempDir, WorkClone } from '../helpers/git.js';
import { createTopic, readTopic, testBrokers, testClient, testKafka } from '../helpers/kafka.js';
import { freePortPair } from '../helpers/ports.js';
import { killAgents, spawnAgent, startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { gitRun, installHook, makePrimary, minimalEnv, pullrep, topicEvents, type Primary } from './publish-helpers.js';

/**
 * `pullrep primary` as a real process, pushes through the installed spooling hook, the real
 * broker: what reaches the events topic and the catalog.
 */

afterEach(() => killAgents());

interface AgentPrimary extends Primary {
  catalog: string;
  spool: string;
}

async function agentPrimary(scanIntervalMs = 60_000): Promise<AgentPrimary> {
  const primary = await makePrimary(testBrokers());
  const catalog = randomName('catalog');
  const config = JSON.parse(await readFile(primary.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
  config.topics = { ...config.topics, catalog };
  config.primary = { ...config.primary, scanIntervalMs };
  config.http = { port: 0 };
  await writeFile(primary.configFile, JSON.stringify(config, null, 2));
  // The agent creates it too, but a reader subscribing first would find no topic.
  await createTopic(testKafka(), primary.topic, 2);
  return { ...primary, catalog, spool: join(primary.root, '.pullrep-spool') };
}

async function push(work: WorkClone, primary: Primary, branch = 'main'): Promise<{ commit: string; stderr: string }> {
  const commit = await work.commit();
  const r = await gitRun(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], work.dir, minimalEnv(primary.base));
  expect(r.code, r.stderr).toBe(0);
  return { commit, stderr: r.stderr };
}

/** The newest value of every key of the catalog: the record, or null for a tombstone. */
async function catalogOf(primary: AgentPrimary): Promise<Map<string, Record<string, unknown> | null>> {
  const latest = new Map<string, Record<string, unknown> | null>();
  for (const r of await readTopic(testKafka(), primary.catalog)) {
    latest.set(r.key ?? '', r.value === null ? null : (JSON.parse(r.value) as Record<string, unknown>));
  }
  return latest;
}

/** `pullrep verify --all --local-primary --json`: the primary's checksum of every repository. */
async function verifiedChecksums(primary: AgentPrimary): Promise<Map<string, string>> {
  const replicaRoot = await tempDir('pullrep-empty-replica-');
  const r = await pullrep(['--config', primary.configFile, 'verify', '--all', '--local-primary', '--json'], { env: { PULLREP_REPLICA_ROOT: replicaRoot } });
  const entries = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { repo: string; primary: string | null });
  expect(entries.length, r.stderr).toBeGreaterThan(0);
  return new Map(entries.map((e) => [e.repo, e.primary ?? '']));
}

async function refsUpdated(primary: Primary, atLeast: number): Promise<Array<{ repo: string; refs: RefsUpdatedEvent['refs'] }>> {
  const events = await topicEvents(testKafka(), primary.topic, atLeast);
  return events.map((e) => ({ repo: e.event.repo, refs: (e.event as RefsUpdatedEvent).refs }));
}

describe('pullrep primary', () => {
  it('publishes every push the hook spools, one event per push, in order per repository, and keeps each catalog record', async () => {
    const primary = await agentPrimary();
    const repos = ['alpha.git', 'team/beta.git'];
    const works = new Map<string, WorkClone>();
    for (const name of repos) works.set(name, await WorkClone.of(await makeBareRepo(primary.root, name)));
    await installHook(primary, primary.root, 'post-receive', 'spool');
    const agent = await startAgent(primary);
    const pushed = new Map<string, string[]>();
    await Promise.all(
      repos.map(async (repo) => {
        const work = works.get(repo) as WorkClone;
        const commits: string[] = [];
        for (let i = 0; i < 5; i++) {
          const { commit, stderr } = await push(work, primary);
          expect(stderr).toBe(''); // the agent runs: nothing to tell the pusher
          commits.push(commit);
        }
        pushed.set(repo, commits);
      }),
    );
    const events = await refsUpdated(primary, 10);
    expect(events).toHaveLength(10);
    for (const repo of repos) {
      const mine = events.filter((e) => e.repo === repo).map((e) => e.refs.map((r) => r.new));
      expect(mine).toEqual((pushed.get(repo) ?? []).map((c) => [c]));
    }
    // The spool is empty once everything is acknowledged.
    await waitFor(async () => (await readdir(primary.spool)).filter((f) => f.endsWith('.push')).length === 0, { what: 'an empty spool' });
    // Each repository's catalog record holds the checksum `pullrep verify` computes.
    const verified = await verifiedChecksums(primary);
    await waitFor(async () => {
      const catalog = await catalogOf(primary);
      return repos.every((repo) => catalog.get(repo)?.checksum === verified.get(repo) && catalog.get(repo)?.refs === 1) ? catalog : undefined;
    }, { what: 'catalog records equal to verify' });
    const record = (await catalogOf(primary)).get('alpha.git');
    expect(record).toMatchObject({ v: 1, repo: 'alpha.git', refs: 1, primary: 'primary-test' });
    // From a push, or from the listing that settled one pushed while it ran (docs/catalog.md).
    expect(['push', 'scan']).toContain(record?.source);
    expect(Number.isNaN(Date.parse(String(record?.updatedAt)))).toBe(false);
    // One more push, on a new branch: its record follows, still equal to verify.
    await push(works.get('alpha.git') as WorkClone, primary, 'topic');
    const verifiedAgain = await verifiedChecksums(primary);
    await waitFor(async () => {
      const r = (await catalogOf(primary)).get('alpha.git');
      return r?.refs === 2 && r.checksum === verifiedAgain.get('alpha.git');
    }, { what: 'the record of the second branch' });
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await readdir(primary.spool)).toEqual(['.agent.json']); // its last status, for `pullrep status`
  });

  it('as a reference-transaction hook, spools committed transactions only, local ones included, and keeps a chained hook\'s veto', async () => {
    const primary = await agentPrimary();
    const bare = await makeBareRepo(primary.root, 'local.git');
    const seen = join(primary.base, 'seen.txt');
    await writeFile(
      join(bare, 'hooks', 'reference-transaction'),
      `#!/bin/sh\n[ "$1" = prepared ] || { cat >> '${seen}'; exit 0; }\nwhile read old new ref; do [ "$ref" = refs/heads/forbidden ] && exit 1; done\nexit 0\n`,
      { mode: 0o755 },
    );
    await installHook(primary, bare, 'reference-transaction', 'spool');
    const agent = await startAgent(primary);
    const work = await WorkClone.of(bare);
    const { commit } = await push(work, primary);
    const env = minimalEnv(primary.base);
    const vetoed = await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/forbidden'], work.dir, env);
    expect(vetoed.code).not.toBe(0);
    expect((await gitRun(['update-ref', 'refs/heads/local', commit], bare, env)).code).toBe(0);
    const Z = '0'.repeat(40);
    const events = await refsUpdated(primary, 2);
    expect(events).toEqual([
      { repo: 'local.git', refs: [{ ref: 'refs/heads/main', old: Z, new: commit }] },
      { repo: 'local.git', refs: [{ ref: 'refs/heads/local', old: Z, new: commit }] },
    ]);
    expect(await readRefs(bare)).toEqual({ 'refs/heads/main': commit, 'refs/heads/local': commit });
    // The chained hook saw the committed transactions too.
    expect(await readFile(seen, 'utf8')).toContain(`${Z} ${commit} refs/heads/local`);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('leaves the direct hook\'s events to the agent: they are sent, and the push does not wait out publish.timeoutMs', async () => {
    const primary = await agentPrimary();
    const bare = await makeBareRepo(primary.root, 'direct.git');
    await installHook(primary, bare, 'post-receive', 'direct');
    const agent = await startAgent(primary);
    const { commit, stderr } = await push(await WorkClone.of(bare), primary);
    expect(stderr).toBe(''); // delivered (by the agent), so nothing was left spooled
    expect(await refsUpdated(primary, 1)).toEqual([{ repo: 'direct.git', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }] }]);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('loses no push when killed with SIGKILL in the middle of a burst: the restarted agent sends what waited', async () => {
    const primary = await agentPrimary();
    const bare = await makeBareRepo(primary.root, 'burst.git');
    const work = await WorkClone.of(bare);
    await installHook(primary, bare, 'post-receive', 'spool');
    let agent = await startAgent(primary);
    const commits: string[] = [];
    for (let i = 0; i < 12; i++) {
      if (i === 4) agent.child.kill('SIGKILL');
      commits.push((await push(work, primary)).commit);
    }
    await agent.exited;
    agent = await startAgent(primary);
    const expected = new Set(commits);
    const events = await waitFor(async () => {
      const all = await refsUpdated(primary, 1);
      const seen = new Set(all.flatMap((e) => e.refs.map((r) => r.new)));
      return [...expected].every((c) => seen.has(c)) ? all : undefined;
    }, { timeoutMs: 60_000, what: 'every pushed commit on the topic' });
    // In order: a duplicate may repeat an earlier push, but never goes back past a later one.
    const firstSeen = events.map((e) => e.refs[0]?.new).filter((c, i, all) => all.indexOf(c) === i);
    expect(firstSeen).toEqual(commits);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('never fails a push while the agent is not running: the pusher is told, and the agent sends it when it starts', async () => {
    const primary = await agentPrimary();
    const bare = await makeBareRepo(primary.root, 'waiting.git');
    const work = await WorkClone.of(bare);
    await installHook(primary, bare, 'post-receive', 'spool');
    const { commit, stderr } = await push(work, primary);
    expect(stderr.trim()).toBe(`remote: pullrep: pullrep primary is not running: this update waits in the spool ${primary.spool} and is published when it starts`);
    expect(await readRefs(bare)).toEqual({ 'refs/heads/main': commit });
    // What waits is visible.
    const list = await pullrep(['--config', primary.configFile, 'spool', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ repo: 'waiting.git', kind: 'push', refs: 1 }]);
    const down = await pullrep(['--config', primary.configFile, 'status']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^primary agent {2}not running: pushes wait in the spool until 'pullrep primary' runs$/m);
    expect(down.stdout).toMatch(/^spool {10}1 push waiting, oldest \d+s \(since 20\d\d-/m);
    const agent = await startAgent(primary);
    expect(await refsUpdated(primary, 1)).toEqual([{ repo: 'waiting.git', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: commit }] }]);
    const up = await waitFor(async () => {
      const r = await pullrep(['--config', primary.configFile, 'status', '--json']);
      const s = JSON.parse(r.stdout) as { agent: { running: boolean; kafka?: string }; spool: { waiting: number }; lastScan: { repositories: number } | null };
      return s.agent.running && s.spool.waiting === 0 && s.lastScan !== null ? s : undefined;
    }, { what: 'status to show the agent running, an empty spool and a scan' });
    expect(up).toMatchObject({ agent: { running: true, pid: agent.child.pid, kafka: 'ok', catalog: 'ready' }, spool: { waiting: 0, oldestAgeMs: null }, lastScan: { repositories: 1 } });
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const after = await pullrep(['--config', primary.configFile, 'status']);
    expect(after.stdout).toMatch(/^primary agent {2}not running \(last seen 20\d\d-.*\): pushes wait/m);
    // Listed by the scan, or already by the relayed push when the scan reached it (then 0 listed).
    expect(after.stdout).toMatch(/^last scan {6}20\d\d-\S+ in \d+ ms: 1 repository, [01] listed, 0 removed$/m);
    expect(after.stdout).toMatch(/^hooks {10}1 repository: 1 spooling$/m);
  });

  it('catalogs repositories made before pullrep and behind the hooks\' back, and tombstones deleted ones, at the next scan', async () => {
    const primary = await agentPrimary(300);
    const old = await makeBareRepo(primary.root, 'before-pullrep.git');
    const oldWork = await WorkClone.of(old);
    await oldWork.commit();
    await oldWork.push('HEAD:refs/heads/main', 'HEAD:refs/heads/other');
    await makeBareRepo(primary.root, 'group/empty.git');
    const agent = await startAgent(primary);
    const first = await waitFor(async () => {
      const c = await catalogOf(primary);
      return c.size === 2 ? c : undefined;
    }, { what: 'both repositories in the catalog' });
    const verified = await verifiedChecksums(primary);
    expect(first.get('before-pullrep.git')).toMatchObject({ checksum: verified.get('before-pullrep.git'), refs: 2, source: 'scan' });
    expect(first.get('group/empty.git')).toMatchObject({ checksum: '0'.repeat(40), refs: 0 });

    // Behind the hooks' back (no hook installed): a new repository, a ref moved, a repository deleted.
    const sneaky = await makeBareRepo(primary.root, 'sneaky.git');
    await git(['update-ref', 'refs/heads/other', '-d'], { cwd: old });
    await rm(join(primary.root, 'group', 'empty.git'), { recursive: true });
    const after = await waitFor(async () => {
      const c = await catalogOf(primary);
      return c.has('sneaky.git') && c.get('group/empty.git') === null && c.get('before-pullrep.git')?.refs === 1 ? c : undefined;
    }, { what: 'the scan to catch up' });
    const verifiedAfter = await verifiedChecksums(primary);
    expect(after.get('before-pullrep.git')?.checksum).toBe(verifiedAfter.get('before-pullrep.git'));
    expect(after.get('sneaky.git')).toMatchObject({ refs: 0 });
    expect(sneaky).toContain('sneaky.git');
    expect(agent.log()).toContain('catalog corrected');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('refuses a hostile spool file or repository name with one log line, and goes on', async () => {
    const primary = await agentPrimary(300);
    const bare = await makeBareRepo(primary.root, 'fine.git');
    const work = await WorkClone.of(bare);
    await installHook(primary, bare, 'post-receive', 'spool');
    const outside = await makeBareRepo(await tempDir('pullrep-outside-'), 'outside.git');
    await makeBareRepo(primary.root, '-rf.git');
    const Z = '0'.repeat(40);
    const hostile = {
      '000000000000001-1-1.push': `pullrep-push 1\nhook post-receive\ncwd ${outside}\ngit-dir .\n${Z} ${'a'.repeat(40)} refs/heads/main\n`,
      '000000000000002-1-1.push': `pullrep-push 1\nhook post-receive\ncwd ${bare}\ngit-dir .\n${Z} ${'a'.repeat(40)} refs/heads/../../x\n`,
      '000000000000003-1-1.push': 'not a push at all',
    };
    await (await import('node:fs/promises')).mkdir(primary.spool, { recursive: true });
    for (const [name, text] of Object.entries(hostile)) await writeFile(join(primary.spool, name), text);
    const agent = await startAgent(primary);
    const { commit } = await push(work, primary);
    expect(await refsUpdated(primary, 1)).toEqual([{ repo: 'fine.git', refs: [{ ref: 'refs/heads/main', old: Z, new: commit }] }]);
    await waitFor(async () => (await catalogOf(primary)).get('fine.git')?.refs === 1, { what: 'the catalog record of fine.git' });
    const aside = (await readdir(primary.spool)).filter((f) => f.endsWith('.invalid')).sort();
    expect(aside).toEqual(Object.keys(hostile).map((n) => `${n}.invalid`));
    await waitFor(() => agent.log().includes('repository name refused'), { what: 'the log line of the refused name' });
    const log = agent.log();
    expect(log).toMatch(/is outside primary\.root/);
    expect(log).toMatch(/spooled push 000000000000002-1-1\.push is invalid: stdin line 1: ref name/);
    expect(log).toContain('does not start with');
    expect((await catalogOf(primary)).has('-rf.git')).toBe(false);
    // The files moved aside are in spool list and status, never sent.
    const list = JSON.parse((await pullrep(['--config', primary.configFile, 'spool', 'list', '--json'])).stdout) as Array<{ name: string; problem?: string }>;
    expect(list.filter((i) => i.problem?.startsWith('refused as invalid')).map((i) => i.name)).toEqual(aside);
    const status = JSON.parse((await pullrep(['--config', primary.configFile, 'status', '--json'])).stdout) as { spool: { waiting: number; invalid: number } };
    expect(status.spool).toMatchObject({ waiting: 0, invalid: 3 });
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('keeps a push it cannot place now (its path does not resolve) and goes on, Kafka counted as fine', async () => {
    const primary = await agentPrimary();
    const bare = await makeBareRepo(primary.root, 'later.git');
    await installHook(primary, bare, 'post-receive', 'spool');
    await writeFile(join(primary.root, 'not-a-dir'), 'x');
    const Z = '0'.repeat(40);
    const stuck = '000000000000001-1-1.push';
    await (await import('node:fs/promises')).mkdir(primary.spool, { recursive: true });
    await writeFile(join(primary.spool, stuck), `pullrep-push 1\nhook post-receive\ncwd ${join(primary.root, 'not-a-dir', 'x.git')}\ngit-dir .\n${Z} ${'a'.repeat(40)} refs/heads/main\n`);
    const agent = await startAgent(primary);
    const { commit } = await push(await WorkClone.of(bare), primary);
    expect(await refsUpdated(primary, 1)).toEqual([{ repo: 'later.git', refs: [{ ref: 'refs/heads/main', old: Z, new: commit }] }]);
    const status = await waitFor(async () => {
      const s = JSON.parse((await pullrep(['--config', primary.configFile, 'status', '--json'])).stdout) as { agent: { kafka?: string; spoolProblem?: string }; spool: { waiting: number } };
      return s.agent.spoolProblem ? s : undefined;
    }, { what: 'the stuck file in status' });
    expect(status.agent.kafka).toBe('ok');
    expect(status.agent.spoolProblem).toMatch(/cannot be sent now: repository .* cannot be resolved: ENOTDIR/);
    expect(status.spool.waiting).toBe(1);
    expect(await readdir(primary.spool)).toContain(stuck);
    // Logged once, not on every pass.
    expect(agent.log().split('\n').filter((l) => l.includes('spool file cannot be sent now')), agent.log()).toHaveLength(1);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('stops at once on SIGTERM while another agent holds the spool', async () => {
    const primary = await agentPrimary();
    const first = await startAgent(primary);
    const second = spawnAgent(primary);
    await waitFor(() => second.log().includes('another process drains the spool'), { what: 'the second agent to wait for the lock' });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // The first one still holds the spool.
    expect((await readFile(join(primary.spool, '.agent.pid'), 'utf8')).trim()).toBe(String(first.child.pid));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('is not ready while Kafka does not answer, and shows what waits', async () => {
    const primary = await agentPrimary();
    const port = await freePortPair();
    const dead = await freePortPair();
    const bare = await makeBareRepo(primary.root, 'stuck.git');
    await installHook(primary, bare, 'post-receive', 'spool');
    const agent = await startAgent(primary, { PULLREP_HTTP_PORT: String(port), PULLREP_KAFKA_BROKERS: `127.0.0.1:${dead}`, PULLREP_PUBLISH_TIMEOUT_MS: '500' });
    const { stderr } = await push(await WorkClone.of(bare), primary);
    expect(stderr).toBe('');
    const text = await waitFor(async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^pullrep_primary_kafka_up 0$/m.test(body) ? body : undefined;
    }, { what: 'Kafka counted as down' });
    expect(text).toMatch(/^pullrep_primary_spool_entries 1$/m);
    expect(Number(/^pullrep_primary_spool_oldest_age_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect((await readdir(primary.spool)).filter((f) => f.endsWith('.push'))).toHaveLength(1);
  });

  it('serves metrics, and is ready once the catalog is loaded', async () => {
    const primary = await agentPrimary();
    const port = await freePortPair();
    const bare = await makeBareRepo(primary.root, 'metrics.git');
    await installHook(primary, bare, 'post-receive', 'spool');
    const agent = await startAgent(primary, { PULLREP_HTTP_PORT: String(port) });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { what: 'readiness' });
    await push(await WorkClone.of(bare), primary);
    const text = await waitFor(async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^pullrep_primary_pushes_published_total 1$/m.test(body) ? body : undefined;
    }, { what: 'the push counted' });
    expect(text).toMatch(/^pullrep_primary_publish_latency_seconds_count 1$/m);
    expect(text).toMatch(/^pullrep_primary_spool_entries 0$/m);
    expect(text).toMatch(/^pullrep_primary_scan_repositories 1$/m);
    expect(text).toMatch(/^pullrep_primary_catalog_records_total\{kind="record"\} [1-9]/m);
    // The catalog topic is compacted, whichever producer connected first.
    const admin = await testClient().admin();
    const configs = await admin.topicConfigs([primary.catalog], ['cleanup.policy']).finally(() => admin.disconnect());
    expect(configs.get(primary.catalog)?.get('cleanup.policy')).toBe('compact');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});
