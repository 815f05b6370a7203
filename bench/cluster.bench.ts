// Scale-out and high availability, on brokers of its own (scripts/kafka.sh): a three-node KRaft
// cluster (topics with replication factor 3, min.insync.replicas 2) and one broker, both on this
// machine, with the primary served over smart HTTP by git http-backend:
//  1. Catch-up throughput: BENCH_CATCHUP_EVENTS (default 2,000) events over BENCH_CATCHUP_REPOS
//     (default 100) repositories, produced before the replica starts; events per second until
//     every one is committed and every repository equals the primary. Cluster vs one broker.
//  2. Leader failover: a steady stream of events (one every 50 ms) while the leader of the events
//     topic's partitions is stopped. The replication pause (the longest time from an event
//     produced to the replica holding its tip) and the longest produce call, vs the same before.
//  3. Take-over: two `pullrep replica` processes of one replica, a steady stream of events, then
//     one process is killed with SIGKILL, or stopped with SIGTERM: the time until every
//     repository is replicated again (its tip produced after the kill is on the replica). The
//     default session timeout vs the former 30 s, in the same run.
// BENCH_CLUSTER_PARTS (default "catchup,failover,takeover") picks some of them.
// BENCH_CLUSTER_PORT (default 24100) is the first port of the cluster's six; the single broker
// takes the pair 20 above it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import kafkajs, { type Kafka } from 'kafkajs';
import { compileOptions, loadConfig } from '../src/config/index.js';
import { encodeEvent, makeEvent, type RefEvent } from '../src/events/index.js';
import { createKafka, partitionOf } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';
import { startReplica } from '../src/replica/compose.js';
import { ensureTopics } from '../src/replica/topics.js';
import { cliPath } from '../test/helpers/cli.js';
import { GitHttpServer } from '../test/helpers/git-server.js';
import { gitEnv, makeBareRepo, randomName, tempDir, WorkClone } from '../test/helpers/git.js';
import { median, until } from './stats.js';

const run = promisify(execFile);
const here = join(import.meta.dirname, '..');
const CLUSTER_PORT = Number(process.env.BENCH_CLUSTER_PORT ?? 24100);
const SINGLE_PORT = CLUSTER_PORT + 20;
const CATCHUP_EVENTS = Number(process.env.BENCH_CATCHUP_EVENTS ?? 2000);
const CATCHUP_REPOS = Number(process.env.BENCH_CATCHUP_REPOS ?? 100);
const ZERO = '0'.repeat(40);
const PARTS = new Set((process.env.BENCH_CLUSTER_PARTS ?? 'catchup,failover,takeover').split(','));
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface Brokers {
  name: string;
  list: string[];
  nodes: number;
  port: number;
}

async function kafkaSh(b: Pick<Brokers, 'port' | 'nodes'>, ...args: string[]): Promise<void> {
  await run('bash', [join(here, 'scripts', 'kafka.sh'), ...args], { env: { ...process.env, PULLREP_KAFKA_PORT: String(b.port), PULLREP_KAFKA_NODES: String(b.nodes) }, timeout: 300_000 });
}

function kafkaOf(b: Brokers): Kafka {
  return new kafkajs.Kafka({ clientId: randomName('bench-cluster'), brokers: b.list, logLevel: kafkajs.logLevel.NOTHING });
}

/** pullrep's own client of these brokers. */
function clientOf(b: Brokers) {
  const { kafka } = loadConfig({ env: {} }).config;
  return createKafka({ ...kafka, brokers: b.list, clientId: randomName('bench-cluster'), logger: silentLogger() });
}

/** The events topic, made as pullrep makes topics: replication factor 3 (or fewer brokers), min.insync.replicas one less. */
async function eventsTopic(b: Brokers, partitions: number): Promise<string> {
  const topic = randomName('bench-events');
  const admin = await clientOf(b).admin();
  await admin.createMissingTopics([{ topic, numPartitions: partitions, replicationFactor: 3 }]);
  await admin.disconnect();
  return topic;
}

async function template(): Promise<string> {
  const root = await tempDir('pullrep-bench-template-');
  const repo = await makeBareRepo(root, 'template.git');
  const work = await WorkClone.of(repo);
  await work.commit();
  await work.push('HEAD:refs/heads/main');
  return repo;
}

async function advance(repo: string): Promise<string> {
  const { stdout: tree } = await run('git', ['--git-dir', repo, 'rev-parse', 'main^{tree}'], { env: gitEnv });
  const { stdout: commit } = await run('git', ['--git-dir', repo, 'commit-tree', tree.trim(), '-p', 'main', '-m', `advance ${process.hrtime.bigint()}`], { env: gitEnv });
  await run('git', ['--git-dir', repo, 'update-ref', 'refs/heads/main', commit.trim()], { env: gitEnv });
  return commit.trim();
}

function event(repo: string, tip: string): Buffer {
  return encodeEvent(makeEvent<RefEvent>({ kind: 'refs-updated', repo, origin: 'primary', refs: [{ ref: 'refs/heads/main', old: ZERO, new: tip }] } as never));
}

/** The tip of main in a replica repository: its loose ref, else packed-refs (no git process). */
async function tipOf(gitDir: string): Promise<string | undefined> {
  const loose = await readFile(join(gitDir, 'refs', 'heads', 'main'), 'utf8').catch(() => undefined);
  if (loose) return loose.trim();
  const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
  return /^([0-9a-f]{40}) refs\/heads\/main$/m.exec(packed)?.[1];
}

interface Primary {
  root: string;
  /** The repository every one of them started as. */
  template: string;
  server: GitHttpServer;
  names: string[];
}

async function primary(count: number): Promise<Primary> {
  const source = await template();
  const root = await tempDir('pullrep-bench-primary-');
  const names = Array.from({ length: count }, (_, i) => `c${i % 10}/repo-${i}.git`);
  for (const name of names) await cp(source, join(root, name), { recursive: true });
  return { root, names, template: source, server: await new GitHttpServer({ root }).start() };
}

function replicaSettings(b: Brokers, p: Primary, events: string, replicaRoot: string, name: string): Record<string, unknown> {
  return {
    'kafka.brokers': b.list,
    'topics.events': events,
    'topics.catalog': randomName('bench-catalog'),
    'primary.url': `${p.server.url}/{repo}`,
    'replica.name': name,
    'replica.root': replicaRoot,
    'replica.maintenanceIntervalMs': 0,
    'replica.verifyIntervalMs': 0,
    'retry.initialDelayMs': 1000,
    'retry.maxRetryPeriodMs': 120_000,
    'http.port': 0,
  };
}

async function committed(kafka: Kafka, group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, x) => sum + Math.max(0, Number(x.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** 1. Events per second of a replica catching up on a backlog. */
async function catchUp(b: Brokers, p: Primary, tips: Map<string, string[]>): Promise<number> {
  const events = await eventsTopic(b, 12);
  const kafka = kafkaOf(b);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const messages = [...tips].flatMap(([name, list]) => list.map((tip) => ({ key: name, value: event(name, tip) })));
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: events, acks: -1, messages: messages.slice(i, i + 500) });
  await producer.disconnect();
  // The replica holds every repository as it was before the backlog (a copy of the template), and
  // its topics exist: the clock runs from the start of the process to the last commit.
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  for (const name of tips.keys()) await cp(p.template, join(replicaRoot, name), { recursive: true });
  const group = randomName('bench-rep');
  const options = compileOptions(loadConfig({ overrides: replicaSettings(b, p, events, replicaRoot, group) }).config);
  const admin = await clientOf(b).admin();
  await ensureTopics(admin, options.topics);
  await admin.disconnect();
  const started = Date.now();
  const running = await startReplica({ options, kafka: clientOf(b), logger: silentLogger(), env: process.env });
  await until(async () => (await committed(kafka, group, events)) >= messages.length, 600_000, 20);
  for (const [name, list] of tips) await until(async () => (await tipOf(join(replicaRoot, name))) === list.at(-1), 60_000, 5);
  const elapsed = Date.now() - started;
  await running.service.close();
  return (messages.length / elapsed) * 1000;
}

/** A steady stream of events, one every `everyMs`, round the repositories; each one's produce and apply times. */
class Stream {
  readonly sent: Array<{ name: string; tip: string; at: number; sendMs: number }> = [];
  private going = true;
  private done: Promise<void> | undefined;
  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly p: Primary,
    private readonly names: string[],
    private readonly everyMs = 50,
  ) {}

  start(): void {
    this.done = (async () => {
      const producer = this.kafka.producer({ idempotent: true });
      await producer.connect();
      for (let i = 0; this.going; i++) {
        const name = this.names[i % this.names.length] ?? '';
        const tip = await advance(join(this.p.root, name));
        const at = Date.now();
        await producer.send({ topic: this.topic, acks: -1, messages: [{ key: name, value: event(name, tip) }] });
        this.sent.push({ name, tip, at, sendMs: Date.now() - at });
        await sleep(this.everyMs);
      }
      await producer.disconnect();
    })();
  }

  async stop(): Promise<void> {
    this.going = false;
    await this.done;
  }
}

/** Watches the replica's tips; `appliedAt(tip)` is when it was first seen there. */
class Watcher {
  private readonly seen = new Map<string, number>();
  private going = true;
  private readonly done: Promise<void>;
  constructor(root: string, names: string[]) {
    this.done = (async () => {
      while (this.going) {
        for (const name of names) {
          const tip = await tipOf(join(root, name));
          if (tip && !this.seen.has(tip)) this.seen.set(tip, Date.now());
        }
        await sleep(5);
      }
    })();
  }
  appliedAt(tip: string): number | undefined {
    return this.seen.get(tip);
  }
  async stop(): Promise<void> {
    this.going = false;
    await this.done;
  }
}

/**
 * When every repository has again a tip produced after `at` on the replica: a repository holds an
 * event's tip once a sync after it ran (later tips supersede it, so the first later one seen counts).
 */
function resumedAfter(stream: Stream, watcher: Watcher, names: string[], at: number): number | undefined {
  let latest = 0;
  for (const name of names) {
    const applied = stream.sent.filter((e) => e.name === name && e.at >= at).map((e) => watcher.appliedAt(e.tip)).filter((x): x is number => x !== undefined);
    if (applied.length === 0) return undefined;
    latest = Math.max(latest, Math.min(...applied));
  }
  return latest - at;
}

/** The longest time from an event produced to the replica holding it or a later tip of its repository, over events in [from, to). */
function worstLatency(stream: Stream, watcher: Watcher, from: number, to: number): number {
  let worst = 0;
  for (const [i, e] of stream.sent.entries()) {
    if (e.at < from || e.at >= to) continue;
    const later = stream.sent.slice(i).filter((x) => x.name === e.name).map((x) => watcher.appliedAt(x.tip)).filter((x): x is number => x !== undefined);
    if (later.length) worst = Math.max(worst, Math.min(...later) - e.at);
  }
  return worst;
}

/** 2. The replication pause while the leader of the events topic's partitions stops. */
async function failover(b: Brokers, p: Primary): Promise<void> {
  const names = p.names.slice(0, 6);
  const events = await eventsTopic(b, 6);
  const kafka = kafkaOf(b);
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const running = await startReplica({ options: compileOptions(loadConfig({ overrides: replicaSettings(b, p, events, replicaRoot, randomName('bench-rep')) }).config), kafka: clientOf(b), logger: silentLogger(), env: process.env });
  const watcher = new Watcher(replicaRoot, names);
  const stream = new Stream(kafka, events, p, names);
  stream.start();
  await sleep(8000);
  const admin = kafka.admin();
  await admin.connect();
  const { topics } = await admin.fetchTopicMetadata({ topics: [events] });
  await admin.disconnect();
  // The node that leads the most partitions of the events topic.
  const leaders = (topics[0]?.partitions ?? []).map((x) => x.leader);
  const counts = new Map<number, number>();
  for (const l of leaders) counts.set(l, (counts.get(l) ?? 0) + 1);
  const [leader, led] = [...counts].sort((x, y) => y[1] - x[1])[0] ?? [1, 0];
  const stopAt = Date.now();
  await kafkaSh(b, 'stop', '--node', String(leader));
  const stoppedAt = Date.now();
  await sleep(12_000);
  await stream.stop();
  await until(() => stream.sent.every((e) => watcher.appliedAt(e.tip) !== undefined || stream.sent.some((x) => x.name === e.name && x.at > e.at && watcher.appliedAt(x.tip) !== undefined)), 60_000, 20);
  await watcher.stop();
  await running.service.close();
  // Every event sent is on the topic (read back from the nodes up), its tip in its record.
  const onTopic = new Set<string>();
  const reader = clientOf(b);
  await reader.readToEnd(events, (_partition, message) => {
    const e = JSON.parse(message.value?.toString() ?? '{}') as { repo?: string; refs?: Array<{ new: string }> };
    for (const ref of e.refs ?? []) onTopic.add(`${e.repo}@${ref.new}`);
  });
  const lost = stream.sent.filter((e) => !onTopic.has(`${e.name}@${e.tip}`)).length;
  // Before: events whose whole way ended well before the stop; during: from a second before it on.
  const before = worstLatency(stream, watcher, 0, stopAt - 3000);
  const during = worstLatency(stream, watcher, stopAt - 1000, Infinity);
  const sendBefore = Math.max(...stream.sent.filter((e) => e.at < stopAt - 3000).map((e) => e.sendMs));
  const sendDuring = Math.max(...stream.sent.filter((e) => e.at >= stopAt - 1000).map((e) => e.sendMs));
  const typical = median(stream.sent.filter((e) => e.at < stopAt - 3000).map((e) => (watcher.appliedAt(e.tip) ?? e.at) - e.at));
  await kafkaSh(b, 'start', '--node', String(leader));
  console.log(`leader failover (node ${leader}, leader of ${led} of ${leaders.length} partitions, stopped in ${s(stoppedAt - stopAt)}), one event every 50 ms:`);
  console.log(`  replication pause (worst event -> on the replica): ${s(during)}; before the failover: ${s(before)} (typical ${typical.toFixed(0)} ms)`);
  console.log(`  longest produce call: ${s(sendDuring)}; before: ${s(sendBefore)}; events missing from the topic afterwards: ${lost} of ${stream.sent.length}`);
}

/** 3. Take-over: `signal` one of two processes; how long until every repository replicates again. */
async function takeover(b: Brokers, p: Primary, signal: 'SIGKILL' | 'SIGTERM', sessionTimeoutMs: number | undefined): Promise<number> {
  const events = await eventsTopic(b, 6);
  // One repository on each partition, so both processes own some.
  const names: string[] = [];
  for (const name of p.names) if (!names.some((n) => partitionOf(n, 6) === partitionOf(name, 6))) names.push(name);
  const kafka = kafkaOf(b);
  const replicaRoot = await tempDir('pullrep-bench-replica-');
  const group = randomName('bench-rep');
  const settings = replicaSettings(b, p, events, replicaRoot, group);
  if (sessionTimeoutMs !== undefined) settings['replica.sessionTimeoutMs'] = sessionTimeoutMs;
  const env: NodeJS.ProcessEnv = { ...process.env, PULLREP_LOG_LEVEL: 'silent' };
  for (const [key, value] of Object.entries(settings)) env[`PULLREP_${key.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`] = Array.isArray(value) ? value.join(',') : String(value);
  const children: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, [cliPath, 'replica'], { env, stdio: 'ignore' }));
  const members = async () => {
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([group]);
    await admin.disconnect();
    return groups[0]?.state === 'Stable' ? (groups[0]?.members.length ?? 0) : 0;
  };
  await until(async () => (await members()) === 2, 120_000, 100);
  const watcher = new Watcher(replicaRoot, names);
  const stream = new Stream(kafka, events, p, names, 20);
  stream.start();
  await sleep(4000);
  const victim = children[0];
  const at = Date.now();
  victim?.kill(signal);
  await until(() => resumedAfter(stream, watcher, names, at) !== undefined, 120_000, 20);
  const took = resumedAfter(stream, watcher, names, at) ?? 0;
  await stream.stop();
  await watcher.stop();
  for (const child of children) child.kill('SIGKILL');
  return took;
}

export default async function bench(): Promise<void> {
  const cluster: Brokers = { name: '3-node cluster', list: [0, 1, 2].map((i) => `127.0.0.1:${CLUSTER_PORT + 2 * i}`), nodes: 3, port: CLUSTER_PORT };
  const single: Brokers = { name: 'one broker', list: [`127.0.0.1:${SINGLE_PORT}`], nodes: 1, port: SINGLE_PORT };
  console.log('starting a three-node cluster and one broker (scripts/kafka.sh)');
  await Promise.all([kafkaSh(cluster, 'start'), kafkaSh(single, 'start')]);
  try {
    const p = await primary(CATCHUP_REPOS);
    const perRepo = Math.ceil(CATCHUP_EVENTS / CATCHUP_REPOS);
    const tips = new Map<string, string[]>();
    for (const name of p.names) {
      const list: string[] = [];
      for (let i = 0; i < perRepo; i++) list.push(await advance(join(p.root, name)));
      tips.set(name, list);
    }
    const events = perRepo * CATCHUP_REPOS;
    if (PARTS.has('catchup')) {
      const one = await catchUp(single, p, tips);
      const three = await catchUp(cluster, p, tips);
      console.log(`catch-up of ${events} events over ${CATCHUP_REPOS} repositories: ${three.toFixed(0)} events/s on the ${cluster.name}, ${one.toFixed(0)} events/s on ${single.name} (${(three / one).toFixed(2)}x)`);
    }

    if (PARTS.has('failover')) await failover(cluster, p);

    for (const signal of PARTS.has('takeover') ? (['SIGKILL', 'SIGTERM'] as const) : []) {
      const now = await takeover(single, p, signal, undefined);
      const before = signal === 'SIGKILL' ? await takeover(single, p, signal, 30_000) : undefined;
      console.log(
        `take-over after ${signal} of one of two processes: every repository replicating again ${s(now)} after it (default session timeout ${s(compileOptions(loadConfig({ env: {} }).config).consumer.sessionTimeoutMs)})` +
          (before === undefined ? '' : `; with the former 30 s session timeout: ${s(before)} (${(before / now).toFixed(1)}x faster)`),
      );
    }
    await p.server.stop();
  } finally {
    await Promise.allSettled([kafkaSh(cluster, 'purge'), kafkaSh(single, 'purge')]);
  }
}
