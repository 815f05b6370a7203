import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/kafka/index.js';
import { encodeEvent } from '../../src/events/index.js';
import { compileSelection, shardOf } from '../../src/repos/selection.js';
import { HEADER, ladderTopics } from '../../src/retry/index.js';
import { killAgents, startAgent } from '../helpers/agent.js';
import { makeBareRepo, pushCommit, randomName, readRefs, tempDir } from '../helpers/git.js';
import { readTopic } from '../helpers/kafka.js';
import { freePort } from '../helpers/ports.js';
import { httpGet } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { execFileAsync, PULLREP_BIN, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

/**
 * A replica site split into shards (`replica.shard`), and repositories chosen by globs
 * (`replica.repos.include/exclude`), against the real broker, real git and a real
 * `pullrep primary`: each shard is its own replica (own name, group and root) and keeps exactly
 * its repositories; the events of the others are committed without a fetch; bootstrap, status,
 * verify and `sync --all` cover only what is selected, and a copy no longer selected is kept.
 */

const fixtures: ReplicaFixture[] = [];
afterEach(async () => {
  killAgents();
  await Promise.allSettled(fixtures.splice(0).map((f) => f.close()));
});

async function shardFixture(partitions = 3): Promise<ReplicaFixture> {
  const f = await replicaFixture({ partitions, overrides: { 'topics.catalog': randomName('catalog'), 'primary.scanIntervalMs': 1000, 'replica.verifyIntervalMs': 0 } });
  fixtures.push(f);
  return f;
}

/** `perShard` repository names for each shard of `count`, found by the documented hash (so no shard is empty by chance). */
function namesByShard(count: number, perShard: number): string[][] {
  const prefix = randomName('s');
  const shards: string[][] = Array.from({ length: count }, () => []);
  for (let i = 0; shards.some((names) => names.length < perShard); i++) {
    const name = `${prefix}/repo-${i}.git`;
    const names = shards[shardOf(name, count) - 1];
    if (names && names.length < perShard) names.push(name);
  }
  return shards;
}

/** The sum of a consumer group's committed offsets on a topic. */
async function committed(f: ReplicaFixture, group: string, topic: string): Promise<bigint> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
  } finally {
    await admin.disconnect();
  }
}

async function refsEqual(primary: string, replica: string): Promise<boolean> {
  const want = await readRefs(primary);
  const have = await readRefs(replica).catch(() => ({}));
  return Object.keys(want).length > 0 && JSON.stringify(Object.entries(want).sort()) === JSON.stringify(Object.entries(have).sort());
}

/** Runs the CLI with the fixture's configuration and these variables on top. */
async function cli(f: ReplicaFixture, env: Record<string, string>, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [PULLREP_BIN, ...args], { env: { ...f.env, ...env }, timeout: 60_000 });
}

describe('shards and repository selection', () => {
  it('three shards of one primary: every repository in exactly one shard, equal to the primary; every event committed by every shard, from the events topic and a retry stage', async () => {
    const f = await shardFixture(3);
    const byShard = namesByShard(3, 4);
    const names = byShard.flat();
    const repos = await Promise.all(names.map(async (name) => ({ name, primary: await makeBareRepo(f.primaryRoot, name) })));
    const base = randomName('site');
    const shards = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const name = `${base}-${i}`;
        const root = await tempDir(`pullrep-shard-${i}-`);
        const started = await f.startReplica({ 'replica.name': name, 'replica.root': root, 'replica.shard': `${i}/3`, 'http.port': i === 1 ? await freePort() : 0 });
        return { i, name, root, ...started };
      }),
    );

    for (const repo of repos) {
      const head = await pushCommit(repo.primary);
      await f.produce(f.refsEvent(repo.name, { 'refs/heads/main': head }), repo.name);
    }
    for (const shard of shards) {
      const mine = byShard[shard.i - 1] ?? [];
      for (const repo of repos) {
        if (mine.includes(repo.name)) await waitFor(() => refsEqual(repo.primary, join(shard.root, repo.name)), { what: `${repo.name} in shard ${shard.i}` });
      }
    }
    // Each shard's group committed every event, its own and the others' (12 on the events topic).
    for (const shard of shards) {
      await waitFor(async () => (await committed(f, shard.name, f.config.topics.events)) === BigInt(repos.length), { what: `shard ${shard.i} to commit every event` });
    }
    for (const shard of shards) {
      const mine = byShard[shard.i - 1] ?? [];
      for (const repo of repos) {
        // Exactly one shard holds each repository; the others never ran git for it nor recorded it.
        expect(existsSync(join(shard.root, repo.name)), `${repo.name} in shard ${shard.i}`).toBe(mine.includes(repo.name));
        if (!mine.includes(repo.name)) {
          expect(shard.fetcher.callsFor(repo.name)).toEqual([]);
          expect(shard.running.store.get(repo.name)).toBeUndefined();
        }
      }
      const skipped = `pullrep_events_skipped_total{reason="not-selected"} ${repos.length - mine.length}`;
      await waitFor(async () => (await shard.running.scrape()).includes(skipped), { what: `shard ${shard.i} to count ${skipped}` });
    }

    // A retry stage and a replay (a record due now in retry stage 1) of shard 1: the record of a
    // repository shard 1 does not keep is committed without a fetch, its own one is synced.
    const one = shards[0];
    const own = repos.find((r) => byShard[0]?.includes(r.name));
    const foreign = repos.find((r) => byShard[1]?.includes(r.name));
    if (!one || !own || !foreign) throw new Error('a shard without repositories');
    const stage1 = ladderTopics(f.config.topics.events, one.name, 2).retry[0] ?? '';
    const ownHead = await pushCommit(own.primary);
    const foreignHead = await pushCommit(foreign.primary);
    const replay = { [HEADER.dueAt]: String(Date.now()) };
    // The other shard's record comes first on the partition and is due only in an hour: it has no
    // delay of its own here, so it does not hold back the record behind it.
    const later = { [HEADER.dueAt]: String(Date.now() + 3600_000) };
    const partition = partitionOf(own.name, 3);
    await f.send({
      topic: stage1,
      messages: [
        { key: foreign.name, partition, value: encodeEvent(f.refsEvent(foreign.name, { 'refs/heads/main': foreignHead })), headers: later },
        { key: own.name, partition, value: encodeEvent(f.refsEvent(own.name, { 'refs/heads/main': ownHead })), headers: replay },
      ],
    });
    await waitFor(() => refsEqual(own.primary, join(one.root, own.name)), { what: 'the replayed event of shard 1 to be applied' });
    await waitFor(async () => (await committed(f, one.name, stage1)) === 2n, { what: 'shard 1 to commit both records of retry stage 1' });
    expect(one.fetcher.callsFor(foreign.name)).toEqual([]);
    expect(existsSync(join(one.root, foreign.name))).toBe(false);

    // A reader asking the wrong shard is told at once; the right one answers as always.
    const port = one.running.http?.port ?? 0;
    const wait = (repo: string, oid: string) => httpGet(port, `/v1/repos/${encodeURIComponent(repo)}/wait?ref=refs/heads/main&oid=${oid}&timeoutMs=5000`);
    const wrong = await wait(foreign.name, foreignHead);
    expect(wrong.status).toBe(404);
    expect(wrong.body).toContain('not selected by this replica (shard 1/3)');
    expect((await wait(own.name, ownHead)).status).toBe(200);
  }, 180_000);

  it('include/exclude globs and shards select what the bootstrap from the catalog replicates; status, verify and sync --all show and cover only what is selected; a copy no longer selected is kept', async () => {
    const f = await shardFixture(2);
    // A prefix that gives both halves of the shard split at least two repositories.
    const layout = ['team/a.git', 'team/sub/b.git', 'team/tmp-1.git', 'other/c.git', 'docs.git', 'other/d.git'];
    let prefix = randomName('g');
    const half = (p: string) => layout.filter((n) => shardOf(`${p}/${n}`, 2) === 1).length;
    while (half(prefix) < 2 || half(prefix) > layout.length - 2) prefix = randomName('g');
    const names = layout.map((n) => `${prefix}/${n}`);
    const repos = await Promise.all(names.map(async (name) => ({ name, primary: await makeBareRepo(f.primaryRoot, name) })));
    for (const repo of repos) await pushCommit(repo.primary);
    await startAgent({ configFile: f.configFile, spool: join(f.primaryRoot, '.pullrep-spool'), base: f.primaryRoot });
    await waitFor(async () => new Set((await readTopic(f.kafka, f.config.topics.catalog)).filter((r) => r.value !== null).map((r) => r.key)).size === names.length, {
      what: 'the catalog to list every repository',
    });

    const globs = { 'replica.repos.include': [`${prefix}/team/**`, `${prefix}/docs.git`], 'replica.repos.exclude': [`${prefix}/team/tmp-*`] };
    const picked = compileSelection({ shard: null, include: globs['replica.repos.include'], exclude: globs['replica.repos.exclude'] });
    const wanted = names.filter((n) => picked.selects(n));
    expect(wanted).toEqual([`${prefix}/team/a.git`, `${prefix}/team/sub/b.git`, `${prefix}/docs.git`]);
    const replicas = [
      { name: randomName('globs'), root: await tempDir('pullrep-globs-'), overrides: globs, selected: wanted },
      ...[1, 2].map((i) => ({ name: randomName(`half-${i}`), root: '', overrides: { 'replica.shard': `${i}/2` }, selected: names.filter((n) => shardOf(n, 2) === i) })),
    ];
    for (const r of replicas) if (!r.root) r.root = await tempDir('pullrep-half-');
    const started = await Promise.all(replicas.map((r) => f.startReplica({ 'replica.name': r.name, 'replica.root': r.root, ...r.overrides })));
    for (const [k, r] of replicas.entries()) {
      const running = started[k]?.running;
      if (!running) throw new Error('a replica did not start');
      await waitFor(() => running.store.meta('bootstrapped') !== undefined, { what: `${r.name} to finish its bootstrap` });
      expect(running.store.bootstrapProgress()).toEqual({ total: r.selected.length, done: r.selected.length });
      for (const repo of repos) {
        if (r.selected.includes(repo.name)) expect(await refsEqual(repo.primary, join(r.root, repo.name)), repo.name).toBe(true);
        else expect(existsSync(join(r.root, repo.name)), `${repo.name} in ${r.name}`).toBe(false);
        if (!r.selected.includes(repo.name)) expect(started[k]?.fetcher.callsFor(repo.name)).toEqual([]);
      }
    }
    // Nothing came through the events topic: the catalog alone did it.
    expect(await readTopic(f.kafka, f.config.topics.events, { timeoutMs: 2000 })).toHaveLength(0);

    // The glob replica's configuration changes: docs.git is no longer selected. Its copy stays,
    // its events are committed without a fetch, and the views say so.
    const globsReplica = replicas[0];
    const first = started[0];
    if (!globsReplica || !first) throw new Error('no glob replica');
    await first.service.close();
    const narrowed = { 'replica.repos.include': [`${prefix}/team/**`], 'replica.repos.exclude': [`${prefix}/team/tmp-*`] };
    const again = await f.startReplica({ 'replica.name': globsReplica.name, 'replica.root': globsReplica.root, ...narrowed });
    const docs = repos.find((r) => r.name.endsWith('/docs.git'));
    const teamA = repos.find((r) => r.name.endsWith('/team/a.git'));
    if (!docs || !teamA) throw new Error('missing repositories');
    const docsBefore = await readRefs(join(globsReplica.root, docs.name));
    const docsHead = await pushCommit(docs.primary);
    const teamHead = await pushCommit(teamA.primary);
    await f.produce(f.refsEvent(docs.name, { 'refs/heads/main': docsHead }), docs.name);
    await f.produce(f.refsEvent(teamA.name, { 'refs/heads/main': teamHead }), teamA.name);
    await waitFor(() => refsEqual(teamA.primary, join(globsReplica.root, teamA.name)), { what: 'team/a.git to follow its push' });
    await waitFor(async () => (await committed(f, globsReplica.name, f.config.topics.events)) === 2n, { what: 'both events to be committed' });
    expect(again.fetcher.callsFor(docs.name)).toEqual([]);
    expect(await readRefs(join(globsReplica.root, docs.name))).toEqual(docsBefore);

    const env = {
      PULLREP_REPLICA_NAME: globsReplica.name,
      PULLREP_REPLICA_ROOT: globsReplica.root,
      PULLREP_REPLICA_REPOS_INCLUDE: narrowed['replica.repos.include'].join(','),
      PULLREP_REPLICA_REPOS_EXCLUDE: narrowed['replica.repos.exclude'].join(','),
    };
    const listed = JSON.parse((await cli(f, env, ['status', '--repos', '--json'])).stdout) as Array<{ repo: string }>;
    expect(listed.map((v) => v.repo).sort()).toEqual([`${prefix}/team/a.git`, `${prefix}/team/sub/b.git`]);
    const one = JSON.parse((await cli(f, env, ['status', '--repo', docs.name, '--json'])).stdout) as { repo: string; selected: boolean };
    expect(one).toMatchObject({ repo: docs.name, selected: false });
    const summary = (await cli(f, env, ['status', '--replica'])).stdout;
    expect(summary).toContain(`selection: include ${prefix}/team/**, exclude ${prefix}/team/tmp-*`);
    expect(summary).toContain('repositories 2: 2 synced');
    expect(summary).toContain('not selected 1');
    const json = JSON.parse((await cli(f, env, ['status', '--replica', '--json'])).stdout) as { selection: { include: string[]; shard: string | null }; healing: { repositories: number; notSelected: number } };
    expect(json.selection).toMatchObject({ include: [`${prefix}/team/**`], shard: null });
    expect(json.healing).toMatchObject({ repositories: 2, notSelected: 1 });

    // verify --all: the selected ones compared (equal), the kept copy listed as not selected; exit 0.
    const verified = (await cli(f, env, ['verify', '--all', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { repo: string; equal: boolean; notSelected?: boolean });
    expect(verified.map((e) => [e.repo, e.notSelected === true ? 'not selected' : e.equal ? 'equal' : 'differs'])).toEqual([
      [docs.name, 'not selected'],
      [`${prefix}/team/a.git`, 'equal'],
      [`${prefix}/team/sub/b.git`, 'equal'],
    ]);

    // sync --all from the catalog into a new root: only shard 2 of 2.
    const fresh = await tempDir('pullrep-sync-all-');
    const synced = await cli(f, { PULLREP_REPLICA_NAME: randomName('sync'), PULLREP_REPLICA_ROOT: fresh, PULLREP_REPLICA_SHARD: '2/2' }, ['sync', '--all', '--json']);
    const second = names.filter((n) => shardOf(n, 2) === 2);
    expect(synced.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { repo: string }).repo).sort()).toEqual([...second].sort());
    for (const repo of repos) expect(existsSync(join(fresh, repo.name)), repo.name).toBe(second.includes(repo.name));
    // One repository named: refused when it is not selected, by sync and by verify.
    const outside = names.find((n) => shardOf(n, 2) === 1) ?? '';
    await expect(cli(f, { PULLREP_REPLICA_ROOT: fresh, PULLREP_REPLICA_SHARD: '2/2' }, ['sync', outside])).rejects.toThrow(/not selected by this replica \(shard 2\/2\)/);
    await expect(cli(f, { PULLREP_REPLICA_ROOT: fresh, PULLREP_REPLICA_SHARD: '2/2' }, ['verify', outside])).rejects.toThrow(/is not selected by this replica \(shard 2\/2\); verify it on the replica that keeps it/);
  }, 180_000);
});
