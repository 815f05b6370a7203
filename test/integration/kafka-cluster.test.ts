import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownBroker, type OwnBroker } from '../helpers/broker.js';
import { killAgents, startAgent } from '../helpers/agent.js';
import { pushCommit, randomName } from '../helpers/git.js';
import { readTopic, testKafka } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { execFileAsync, PULLREP_BIN, pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

/**
 * pullrep on a three-node KRaft cluster (scripts/kafka.sh with PULLREP_KAFKA_NODES=3): replicated
 * topics, and a broker failover in the middle of a burst of pushes.
 */

let cluster: OwnBroker;
beforeAll(async () => {
  cluster = await ownBroker(3);
}, 240_000);
afterAll(async () => {
  await cluster?.purge();
}, 120_000);

const fixtures: ReplicaFixture[] = [];
afterEach(async () => {
  killAgents();
  await Promise.allSettled(fixtures.splice(0).map((f) => f.close()));
  // A test that stopped a node leaves the cluster whole for the next one.
  await cluster.start();
}, 120_000);

async function clusterFixture(overrides: Record<string, unknown> = {}, partitions = 2): Promise<ReplicaFixture> {
  const f = await replicaFixture({ brokers: cluster.brokers, partitions, overrides: { 'topics.catalog': randomName('catalog'), ...overrides } });
  fixtures.push(f);
  return f;
}

/** Replicas, in-sync replicas and leader of each partition of a topic. */
async function placement(kafka: Kafka, topic: string): Promise<Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? []).map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }));
  } finally {
    await admin.disconnect();
  }
}

async function minInsync(kafka: Kafka, topics: string[]): Promise<Map<string, string | undefined>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })) });
    return new Map(resources.map((r) => [r.resourceName, r.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe('a three-node Kafka cluster', () => {
  it('creates every topic with replication factor 3 and min.insync.replicas 2, and `topics list` shows it', async () => {
    // A fresh events topic: the fixture's own is made by the test helper.
    const f = await clusterFixture();
    const env = { ...f.env, PULLREP_TOPICS_EVENTS: randomName('events') };
    await execFileAsync(process.execPath, [PULLREP_BIN, 'topics', 'ensure'], { env, timeout: 60_000 });
    const { stdout } = await execFileAsync(process.execPath, [PULLREP_BIN, 'topics', 'list', '--json'], { env, timeout: 60_000 });
    const rows = JSON.parse(stdout) as Array<{ topic: string; partitions: number; replicationFactor: number }>;
    expect(rows.length).toBe(1 + f.config.retry.stages + 1);
    for (const row of rows) expect(row, row.topic).toMatchObject({ replicationFactor: 3 });
    const isr = await minInsync(f.kafka, rows.map((r) => r.topic));
    for (const row of rows) expect(isr.get(row.topic), row.topic).toBe('2');
    for (const row of rows) {
      for (const p of await placement(f.kafka, row.topic)) expect(new Set(p.replicas).size).toBe(3);
    }
    const table = await execFileAsync(process.execPath, [PULLREP_BIN, 'topics', 'list'], { env, timeout: 60_000 });
    expect(table.stdout).toMatch(/TOPIC\s+PARTITIONS\s+REPLICATION/);
    expect(table.stderr).not.toContain('warning');
  });

  it('warns about an existing topic with one replica in a multi-broker cluster', async () => {
    const f = await clusterFixture();
    const events = randomName('events');
    const admin = f.kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: events, numPartitions: 2, replicationFactor: 1 }] });
    await admin.disconnect();
    const env = { ...f.env, PULLREP_TOPICS_EVENTS: events };
    try {
      const ensured = await execFileAsync(process.execPath, [PULLREP_BIN, 'topics', 'ensure'], { env, timeout: 60_000 });
      expect(ensured.stderr).toContain(`warning: ${events} has a replication factor of 1 in a cluster of 3 brokers`);
      const listed = await execFileAsync(process.execPath, [PULLREP_BIN, 'topics', 'list'], { env, timeout: 60_000 });
      expect(listed.stdout).toMatch(new RegExp(`${events}\\s+2\\s+1`));
      expect(listed.stderr).toContain(`${events} has a replication factor of 1`);
    } finally {
      // Gone before a node stops: kafkajs cannot list the topics of a cluster while one is offline.
      const cleanup = f.kafka.admin();
      await cleanup.connect();
      await cleanup.deleteTopics({ topics: [events] });
      await cleanup.disconnect();
    }
  });

  it('loses no event when the leader of the events topic stops in the middle of a burst of pushes, and every repository converges', async () => {
    const f = await clusterFixture({ 'primary.scanIntervalMs': 0 });
    const repos = await Promise.all(Array.from({ length: 4 }, () => f.newRepo()));
    await pullrep(f, ['hook', 'install', f.primaryRoot]);
    const agent = await startAgent({ configFile: f.configFile, spool: join(f.primaryRoot, '.pullrep-spool'), base: f.primaryRoot });
    await f.startReplica();
    const events = f.config.topics.events;
    await waitFor(async () => (await placement(f.kafka, events)).every((p) => p.isr.length === 3), { what: 'every replica of the events topic in sync' });
    const leader = (await placement(f.kafka, events))[0]?.leader ?? 0;
    expect(leader).toBeGreaterThan(0);

    const pushed: Array<{ repo: string; tip: string; during: boolean }> = [];
    const pushRound = async (during: () => boolean) => {
      for (const repo of repos) {
        const at = during();
        pushed.push({ repo: repo.name, tip: await pushCommit(repo.primary), during: at });
      }
    };
    await pushRound(() => false);
    // The leader stops while the pushes go on: they meet its controlled shutdown and the election.
    let stopped = false;
    const stopping = cluster.stopNode(leader).then(() => (stopped = true));
    while (!stopped) await pushRound(() => !stopped);
    await stopping;
    for (let round = 0; round < 2; round++) await pushRound(() => false);
    expect(pushed.filter((p) => p.during).length, 'pushes made while the leader was stopping').toBeGreaterThan(0);
    const after = await placement(testKafka(cluster.brokers.filter((_, i) => i + 1 !== leader)), events);
    expect(after.every((p) => p.leader !== leader && p.leader > 0), JSON.stringify(after)).toBe(true);
    for (const repo of repos) await f.converged(repo, 60_000);

    // Every push's event is on the topic, from the two nodes still up.
    const survivors = testKafka(cluster.brokers.filter((_, i) => i + 1 !== leader));
    const records = await readTopic(survivors, events);
    const tips = new Set(
      records.flatMap((r) => {
        const event = JSON.parse(r.value ?? '{}') as { repo?: string; refs?: Array<{ new: string }> };
        return (event.refs ?? []).map((ref) => `${event.repo}@${ref.new}`);
      }),
    );
    for (const push of pushed) expect(tips.has(`${push.repo}@${push.tip}`), `the event of ${push.repo} ${push.tip}`).toBe(true);
    // Nothing was left waiting in the spool: two in-sync replicas took every write.
    const status = JSON.parse(await pullrep(f, ['status', '--primary', '--json'])) as { spool: { waiting: number } };
    expect(status.spool.waiting).toBe(0);
    expect(agent.child.exitCode).toBeNull();
  }, 240_000);
});
