import { mkdir, readFile, unlink, writeFile, rename } from 'node:fs/promises';
import { setTimeout as wait } from 'node:timers/promises';
import { join } from 'node:path';
import { decodeCatalogRecord, type CatalogRecord } from '../catalog/record.js';
import type { Options } from '../config/index.js';
import { gitEnvironment } from '../fetch/index.js';
import { createMetricsRegistry, scrape, type Registry } from '../http/metrics-registry.js';
import { startHttpEndpoint, type HttpEndpoint } from '../http/server.js';
import { checkReachable, replicationWarnings, type KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { AGENT_PID_FILE } from '../publish/hook-script.js';
import { spoolDirOf, spoolOf } from '../publish/setup.js';
import { spooledAtOf } from '../publish/push-entry.js';
import { backoffMs } from './backoff.js';
import { SpoolLock } from '../publish/spool-lock.js';
import { localListing } from '../verify/ref-listing.js';
import { CatalogKeeper, type Listed } from './catalog-keeper.js';
import { CatalogWriter } from './catalog-writer.js';
import { createPrimaryMetrics, type PrimaryMetrics } from './metrics.js';
import { Relay } from './relay.js';
import { Scanner, ScanStoppedError, type ScanStats } from './scanner.js';

/** The file where the agent tells `pullrep status` how it is doing, in the spool directory. */
export const AGENT_STATUS_FILE = '.agent.json';
/** The catalog keeps the latest record per repository, for as long as the topic exists. */
const CATALOG_TOPIC_CONFIG = { 'cleanup.policy': 'compact' };

/** How long a repository must go without pushes before an uncertain checksum is settled by a listing. */
const QUIET_MS = 1000;

/** The drain lock of the spool (shared with `pullrep publish` and `spool flush`). */
export const DRAIN_LOCK_FILE = '.drain.lock';

export interface AgentStatus {
  pid: number;
  startedAt: string;
  updatedAt: string;
  /** Whether the last sends of spool files and catalog records succeeded. */
  kafka: 'ok' | 'failing';
  error?: string;
  /** A spool file that cannot be sent now (it stays, and is tried again). */
  spoolProblem?: string;
  catalog: 'loading' | 'ready';
  lastScan?: ScanStats & { finishedAtIso: string };
}

export interface PrimaryAgentDeps {
  options: Options;
  kafka: KafkaClient;
  logger: Logger;
  /** The environment git inherits PATH and HOME from. */
  env: NodeJS.ProcessEnv;
  now?: () => number;
  /** Aborts a start still under way (a signal while another process holds the spool's lock). */
  signal?: AbortSignal;
}

export interface RunningPrimary {
  readonly ready: boolean;
  registry: Registry;
  metrics: PrimaryMetrics;
  scrape(): Promise<string>;
  http: HttpEndpoint | undefined;
  /** Runs one scan now (after the one under way). */
  scan(): Promise<ScanStats>;
  status(): AgentStatus;
  close(): Promise<void>;
}

/** Waits `ms`, or less when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => wait(ms, undefined, { signal }).catch(() => undefined);

/**
 * `pullrep primary`: relays the spool to Kafka, keeps the catalog, scans primary.root, serves
 * metrics and health. It starts while Kafka is down (pushes keep waiting in the spool) and
 * catches up once it answers.
 */
export async function startPrimary(deps: PrimaryAgentDeps): Promise<RunningPrimary> {
  const { options, kafka, logger } = deps;
  const now = deps.now ?? Date.now;
  const { publish } = options.primary;
  const spoolDir = spoolDirOf(publish);
  await mkdir(spoolDir, { recursive: true, mode: 0o750 });
  const stopping = new AbortController();
  deps.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  const registry = createMetricsRegistry();
  const spool = spoolOf(publish, now);
  const lock = new SpoolLock({ path: join(spoolDir, DRAIN_LOCK_FILE), staleMs: 60_000, now });
  const producer = kafka.boundedProducer({ topics: [publish.topic], partitions: publish.partitions, replicationFactor: publish.replicationFactor, now });
  // Its own producer: a catalog topic it has to create is compacted, whoever gets there first.
  const catalogProducer = kafka.boundedProducer({
    topics: [options.primary.catalogTopic],
    partitions: publish.partitions,
    replicationFactor: publish.replicationFactor,
    topicConfig: CATALOG_TOPIC_CONFIG,
    now,
  });
  let catalogHealthy = true;
  let catalogState: AgentStatus['catalog'] = 'loading';
  let lastScan: ScanStats | undefined;
  const startedAt = new Date(now()).toISOString();

  // eslint-disable-next-line prefer-const -- assigned once the metrics exist
  let metrics: PrimaryMetrics;
  const writer = new CatalogWriter({
    topic: options.primary.catalogTopic,
    producer: catalogProducer,
    logger,
    timeoutMs: publish.timeoutMs,
    now,
    onWritten: (kind, count) => metrics.catalogRecords.inc({ kind }, count),
    onHealth: (ok) => (catalogHealthy = ok),
  });
  const keeper = new CatalogKeeper({ origin: publish.origin, output: writer, logger, now, onCorrection: () => metrics.catalogCorrections.inc() });
  const env = gitEnvironment(deps.env, '', { username: '', password: '', sshKeyFile: '' });
  const list = async (gitDir: string): Promise<Listed> => {
    const listing = await localListing(gitDir, { env, timeoutMs: options.primary.gitTimeoutMs, signal: stopping.signal });
    const { outcome } = listing;
    if (outcome.code !== 0) {
      const why = outcome.stderr.trim().split('\n').pop() || (outcome.timedOut ? 'timed out' : outcome.aborted ? 'stopped' : `exit status ${outcome.code ?? outcome.signal ?? '?'}`);
      throw new Error(`git show-ref failed: ${why}`);
    }
    if (listing.badLine !== undefined) throw new Error(`git show-ref printed an unexpected line: ${JSON.stringify(listing.badLine)}`);
    return { checksum: listing.checksum, refs: listing.refs };
  };
  const scanner = new Scanner({ root: publish.root, keeper, list, logger, now });
  const relay = new Relay({
    spool,
    lock,
    producer,
    logger,
    timeoutMs: publish.timeoutMs,
    now,
    onInvalid: (count) => metrics.invalid.inc(count),
    onDelivered: (file) => {
      metrics.published.inc();
      if (Number.isFinite(file.writtenAt)) metrics.publishLatency.observe(Math.max(0, now() - file.writtenAt) / 1000);
      if (!file.repo) return;
      const gitDir = join(publish.root, file.repo);
      void scanner.serial(file.repo, async () => {
        const outcome = keeper.applyEvents(file.repo, file.events, file.writtenAt);
        if (outcome === 'needs-listing') await scanner.listRepo(file.repo, gitDir);
        else if (outcome === 'list-when-quiet') scanner.listWhenQuiet(file.repo, gitDir, QUIET_MS);
      });
    },
  });
  metrics = createPrimaryMetrics(registry, {
    spool: async () => {
      const names = await spool.names();
      return { entries: names.length, oldestAt: names[0] ? spooledAtOf(names[0]) : Number.NaN };
    },
    catalogWaiting: () => writer.waiting,
    kafkaUp: () => relay.healthy && catalogHealthy,
  });

  const status = (): AgentStatus => {
    const error = relay.error?.message;
    const spoolProblem = relay.spoolProblem?.message;
    return {
      pid: process.pid,
      startedAt,
      updatedAt: new Date(now()).toISOString(),
      kafka: relay.healthy && catalogHealthy ? 'ok' : 'failing',
      ...(error ? { error } : {}),
      ...(spoolProblem ? { spoolProblem } : {}),
      catalog: catalogState,
      ...(lastScan ? { lastScan: { ...lastScan, finishedAtIso: new Date(lastScan.finishedAt).toISOString() } } : {}),
    };
  };
  const writeStatus = async () => {
    const path = join(spoolDir, AGENT_STATUS_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(status(), null, 2) + '\n')
      .then(() => rename(`${path}.tmp`, path))
      .catch((err: Error) => logger.debug({ err: err.message }, 'cannot write the agent status file'));
  };

  let http: HttpEndpoint | undefined;
  if (options.http.port !== 0) {
    http = await startHttpEndpoint({ ...options.http, logger, metrics: () => scrape(registry), ready: () => relay.healthy && catalogHealthy && catalogState === 'ready' });
  }
  try {
    await relay.start(stopping.signal);
  } catch (err) {
    await http?.close();
    throw err;
  }
  await writeFile(join(spoolDir, AGENT_PID_FILE), `${process.pid}\n`);
  logger.info({ spool: spoolDir, root: publish.root, topic: publish.topic, catalog: options.primary.catalogTopic }, 'primary agent started');
  const heartbeat = setInterval(() => void writeStatus(), 5000);
  void writeStatus();

  let scanning: Promise<ScanStats> | undefined;
  const scan = (): Promise<ScanStats> => {
    const run = async (): Promise<ScanStats> => {
      const stats = await scanner.scanOnce();
      lastScan = stats;
      metrics.scanDuration.observe(stats.durationMs / 1000);
      metrics.scanRepositories.set(stats.repositories);
      metrics.scanListed.set(stats.listed);
      metrics.lastScan.set(stats.finishedAt / 1000);
      logger.info({ ...stats }, 'scan of primary.root finished');
      await writeStatus();
      return stats;
    };
    const next = (scanning ?? Promise.resolve()).catch(() => undefined).then(run);
    scanning = next;
    return next;
  };

  // Loads the catalog (retrying while Kafka is down), then scans: at once, and every interval.
  const background = (async () => {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      try {
        // Says at once, in one line, when no broker answers at all; the client would retry for seconds.
        await checkReachable(options.kafka.brokers, options.kafka.connectionTimeoutMs);
        await setUpCatalog(kafka, options, keeper, logger);
        catalogState = 'ready';
        writer.release();
        break;
      } catch (err) {
        if (attempt === 0) logger.warn(`${(err as Error).message}; pushes wait in the spool; retrying`);
        await sleep(backoffMs(attempt + 1), stopping.signal);
      }
    }
    while (!stopping.signal.aborted && options.primary.scanIntervalMs > 0) {
      const stats = await scan().catch((err: unknown) => {
        if (!(err instanceof ScanStoppedError)) logger.error({ err: (err as Error).message }, 'scan of primary.root failed');
      });
      // Paced: scanning takes at most a tenth of the time, however many repositories there are.
      await sleep(Math.max(options.primary.scanIntervalMs, 9 * (stats?.durationMs ?? 0)), stopping.signal);
    }
  })();

  return {
    get ready() {
      return relay.healthy && catalogHealthy && catalogState === 'ready';
    },
    registry,
    metrics,
    scrape: () => scrape(registry),
    http,
    scan,
    status,
    async close() {
      stopping.abort();
      clearInterval(heartbeat);
      // The relay first: what it delivers meanwhile may still ask the scanner for listings.
      await relay.stop();
      scanner.stop();
      await background.catch(() => undefined);
      await scanning?.catch(() => undefined);
      await writer.settle(now() + publish.timeoutMs);
      writer.close();
      await producer.close(1000);
      await catalogProducer.close(1000);
      await http?.close();
      const pidFile = join(spoolDir, AGENT_PID_FILE);
      if ((await readFile(pidFile, 'utf8').catch(() => '')).trim() === String(process.pid)) await unlink(pidFile).catch(() => undefined);
      await writeStatus(); // the last scan stays visible to `pullrep status`
      logger.info('primary agent stopped');
    },
  };
}

/** Creates the events and catalog topics if missing, and reads the catalog into the keeper. */
async function setUpCatalog(kafka: KafkaClient, options: Options, keeper: CatalogKeeper, logger: Logger): Promise<void> {
  const { publish, catalogTopic } = options.primary;
  const admin = await kafka.admin();
  try {
    await admin.createMissingTopics([
      { topic: publish.topic, numPartitions: publish.partitions, replicationFactor: publish.replicationFactor },
      { topic: catalogTopic, numPartitions: publish.partitions, replicationFactor: publish.replicationFactor, config: CATALOG_TOPIC_CONFIG },
    ]);
    const states = await admin.describeTopics([publish.topic, catalogTopic]);
    for (const warning of replicationWarnings(states.values(), await admin.brokerCount(), publish.replicationFactor)) logger.warn(warning);
    const policy = (await admin.topicConfigs([catalogTopic], ['cleanup.policy'])).get(catalogTopic)?.get('cleanup.policy');
    if (policy !== undefined && !policy.split(',').includes('compact')) {
      logger.error({ topic: catalogTopic, 'cleanup.policy': policy }, 'the catalog topic is not compacted: its records expire with the retention; set cleanup.policy=compact on it');
    }
  } finally {
    await admin.disconnect();
  }
  const latest = new Map<string, CatalogRecord | null>();
  await kafka.readToEnd(catalogTopic, (_partition, message) => {
    const key = message.key?.toString('utf8') ?? '';
    try {
      latest.set(key, decodeCatalogRecord(key, message.value));
    } catch (err) {
      logger.warn({ key: key.slice(0, 200), err: (err as Error).message }, 'catalog record ignored');
    }
  });
  keeper.seed([...latest.values()].filter((r): r is CatalogRecord => r !== null));
}
