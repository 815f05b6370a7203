import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath } from '../helpers/cli.js';
import type { Kafka, Producer, ProducerRecord } from 'kafkajs';
import { compileOptions, loadConfig, type Config } from '../../src/config/index.js';
import { encodeEvent, makeEvent, type RefEvent } from '../../src/events/index.js';
import { TransientFetchError, type Fetcher } from '../../src/fetch/index.js';
import type { KafkaClient } from '../../src/kafka/index.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { startReplica, type RunningReplica } from '../../src/replica/compose.js';
import type { ReplicaService } from '../../src/replica/service.js';
import { replicaTopics } from '../../src/replica/topics.js';
import type { LadderTopics } from '../../src/retry/index.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { makeBareRepo, randomName, readRefs, tempDir } from '../helpers/git.js';
import { createTopic, testBrokers, testClient, testKafka } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';

/** bin/pullrep.js of this checkout (run `npm run build` first). */
export const PULLREP_BIN = cliPath;
export const execFileAsync = promisify(execFile);

/** Runs the real CLI with the fixture's configuration; resolves its stdout. */
export async function pullrep(f: { env: NodeJS.ProcessEnv }, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [PULLREP_BIN, ...args], { env: f.env, timeout: 60_000 });
  return stdout;
}

/** The sum of the replica group's committed offsets on a topic (all partitions). */
export async function committedOffsets(f: { kafka: Kafka; config: Config }, topic: string): Promise<bigint> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: f.config.replica.name, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
  } finally {
    await admin.disconnect();
  }
}

/** How many processes the replica's group has while it is stable (0 while it rebalances). */
export async function groupMembers(f: { kafka: Kafka; config: Config }): Promise<number> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([f.config.replica.name]);
    return groups[0]?.state === 'Stable' ? (groups[0]?.members.length ?? 0) : 0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every sync the replica ran, with when it started: the real fetcher underneath, recorded.
 * `delayMs` makes each sync slower (a big fetch), honouring the abort signal as git would.
 */
export class RecordingFetcher implements Fetcher {
  readonly calls: Array<{ repo: string; at: number; kind: string }> = [];
  constructor(
    private readonly inner: Fetcher,
    private readonly delayMs: number | ((repo: string) => number) = 0,
  ) {}
  syncRefs: Fetcher['syncRefs'] = (repo, refs, o) => this.slow(repo, 'refs', o?.signal, () => this.inner.syncRefs(repo, refs, o));
  syncRepository: Fetcher['syncRepository'] = (repo, o) => this.slow(repo, 'repository', o?.signal, () => this.inner.syncRepository(repo, o));
  deleteRepository: Fetcher['deleteRepository'] = (repo, o) => this.slow(repo, 'delete', o?.signal, () => this.inner.deleteRepository(repo, o));
  close = () => this.inner.close();
  private async slow<T>(repo: string, kind: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    this.calls.push({ repo, at: Date.now(), kind });
    const delay = typeof this.delayMs === 'number' ? this.delayMs : this.delayMs(repo);
    if (delay > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, delay);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new TransientFetchError('the sync was aborted', 'aborted'));
        });
      });
    }
    return run();
  }
  callsFor(repo: string) {
    return this.calls.filter((c) => c.repo === repo);
  }
}

export interface ReplicaFixture {
  server: GitHttpServer;
  primaryRoot: string;
  replicaRoot: string;
  config: Config;
  topics: LadderTopics;
  kafka: Kafka;
  /** A configuration file with the same settings, for the CLI and hooks. */
  configFile: string;
  /** The environment for `pullrep` child processes. */
  env: NodeJS.ProcessEnv;
  newRepo(): Promise<{ name: string; primary: string; replica: string }>;
  produce(event: RefEvent | Buffer, key: string, partition?: number): Promise<void>;
  /** Any records, sent as given (crafted ones, other topics), by the fixture's producer. */
  send(record: ProducerRecord): Promise<void>;
  refsEvent(repo: string, refs: Record<string, string>): RefEvent;
  startReplica(
    overrides?: Record<string, unknown>,
    syncDelayMs?: number | ((repo: string) => number),
    /** The Kafka client the replica uses (a wrapper that watches its calls); pullrep's client of the test broker by default. */
    kafka?: KafkaClient,
  ): Promise<{ service: ReplicaService; fetcher: RecordingFetcher; running: RunningReplica }>;
  converged(repo: { primary: string; replica: string }, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Settings of every replica test: short delays, small session timeout. */
export const TEST_RETRY = { stages: 2, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 10_000, maxRetryPeriodMs: 60_000 };

export async function replicaFixture(options: { partitions?: number; overrides?: Record<string, unknown>; brokers?: string[] } = {}): Promise<ReplicaFixture> {
  const brokers = options.brokers ?? testBrokers();
  const primaryRoot = await tempDir('pullrep-primary-');
  const replicaRoot = await tempDir('pullrep-replica-');
  const server = await new GitHttpServer({ root: primaryRoot }).start();
  const events = randomName('events');
  const replica = randomName('rep');
  const settings: Record<string, unknown> = {
    'kafka.brokers': brokers,
    'topics.events': events,
    'topics.partitions': options.partitions ?? 2,
    'primary.root': primaryRoot,
    'primary.url': `${server.url}/{repo}`,
    'replica.name': replica,
    'replica.root': replicaRoot,
    'replica.sessionTimeoutMs': 10_000,
    'replica.shutdownGraceMs': 5000,
    'http.port': 0,
    // Hooks publish with this file: a slow acknowledgement must not leave an event in the spool.
    'publish.timeoutMs': 10_000,
    'log.level': 'silent',
    ...Object.fromEntries(Object.entries(TEST_RETRY).map(([k, v]) => [`retry.${k}`, v])),
    ...options.overrides,
  };
  const config = loadConfig({ overrides: settings }).config;
  const kafka = testKafka(brokers);
  await createTopic(kafka, events, config.topics.partitions);
  const configFile = join(await tempDir('pullrep-config-'), 'pullrep.json');
  await writeFile(configFile, JSON.stringify(nest(settings)));
  const producer: Producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const services: ReplicaService[] = [];
  return {
    server,
    primaryRoot,
    replicaRoot,
    config,
    topics: replicaTopics(compileOptions(config).topics),
    kafka,
    configFile,
    env: { ...process.env, PULLREP_CONFIG: configFile },
    async newRepo() {
      const name = `r/${randomName('repo')}.git`;
      const primary = await makeBareRepo(primaryRoot, name);
      return { name, primary, replica: join(replicaRoot, name) };
    },
    async send(record) {
      await producer.send(record);
    },
    async produce(event, key, partition) {
      const value = Buffer.isBuffer(event) ? event : encodeEvent(event);
      await producer.send({ topic: events, messages: [{ key, value, ...(partition === undefined ? {} : { partition }) }] });
    },
    refsEvent(repo, refs) {
      const zero = '0'.repeat(40);
      return makeEvent<RefEvent>({ kind: 'refs-updated', repo, origin: 'primary', refs: Object.entries(refs).map(([ref, n]) => ({ ref, old: zero, new: n })) } as never);
    },
    async startReplica(overrides = {}, syncDelayMs = 0, kafka = testClient(brokers)) {
      const c = Object.keys(overrides).length ? loadConfig({ overrides: { ...settings, ...overrides } }).config : config;
      let fetcher: RecordingFetcher | undefined;
      const running = await startReplica({
        options: compileOptions(c),
        kafka,
        logger: process.env.PULLREP_TEST_LOG ? createLogger({ level: 'debug', pretty: false } as never) : silentLogger(),
        env: process.env,
        wrapFetcher: (engine) => (fetcher = new RecordingFetcher(engine, syncDelayMs)),
      });
      const { service } = running;
      services.push(service);
      if (!fetcher) throw new Error('the replica was built without its fetcher');
      await waitFor(() => service.ready, { timeoutMs: 30_000, what: 'the replica to join its group' });
      return { service, fetcher, running };
    },
    async converged(repo, timeoutMs = 30_000) {
      await waitFor(
        async () => {
          const want = await readRefs(repo.primary);
          const have = await readRefs(repo.replica).catch(() => ({}));
          return Object.keys(want).length > 0 && JSON.stringify(sorted(want)) === JSON.stringify(sorted(have));
        },
        { timeoutMs, what: `${repo.replica} to equal the primary` },
      );
    },
    async close() {
      await Promise.allSettled(services.map((s) => s.close()));
      await producer.disconnect();
      await server.stop();
    },
  };
}

function sorted(refs: Record<string, string>): Array<[string, string]> {
  return Object.entries(refs).sort(([a], [b]) => a.localeCompare(b));
}

/** { 'a.b': 1 } → { a: { b: 1 } } for a configuration file. */
function nest(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] ?? key] = value;
  }
  return out;
}
