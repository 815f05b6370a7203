import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Options } from '../config/index.js';
import { systemClock, type Clock } from '../consumer/clock.js';
import { produceThenCommit, transactionalHandOff, type HandOff } from '../consumer/handoff.js';
import { createReplicaMetrics, type ReplicaMetrics } from '../consumer/metrics.js';
import { PartitionPauser } from '../consumer/pauser.js';
import { PartitionWork } from '../consumer/partition-work.js';
import { BatchProcessor } from '../consumer/processor.js';
import { ReplicaConsumer } from '../consumer/replica-consumer.js';
import { createFetcher, scheduleMaintenance, type Fetcher, type ReplicaFetcher } from '../fetch/index.js';
import { createMetricsRegistry, scrape, type Registry } from '../http/metrics-registry.js';
import { startHttpEndpoint, type HttpEndpoint } from '../http/server.js';
import { pollLag } from './lag.js';
import type { KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { refSelectionOf } from '../refs/selection.js';
import { compileSelection } from '../repos/selection.js';
import { consumedTopics, ladderDelays } from '../retry/index.js';
import { claimMemberSlot, runningProcess, type MemberSlot } from './member-slot.js';
import { ReplicaService } from './service.js';
import { CatalogView } from '../catalog/view.js';
import { createHealMetrics } from '../heal/metrics.js';
import { SelfHealing } from '../heal/self-healing.js';
import { createSides } from '../heal/sides.js';
import { safeRecorder } from '../state/recorder.js';
import { SyncStateStore } from '../state/store.js';
import { BrokerProbe, notReadyBecause } from './readiness.js';
import { registerRepoMetrics } from './repo-metrics.js';
import { notifyingFetcher, RefWaiters } from './wait.js';
import { waitRoute } from './wait-route.js';
import { ensureTopics } from './topics.js';

/**
 * The replica's composition root: the one place that builds every part of `pullrep replica`
 * (Kafka source and sink, fetcher, metrics, clock, hand-off, partition work, HTTP endpoint,
 * housekeeping) and hands each its collaborators. Nothing below it constructs a collaborator.
 */
export interface ReplicaSetup {
  options: Options;
  kafka: KafkaClient;
  logger: Logger;
  /** The environment git inherits (PATH, HOME, proxies); the CLI entry passes the process's. */
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Wraps the fetch engine built from options.fetch (tests record or slow its calls). */
  wrapFetcher?: (fetcher: ReplicaFetcher) => Fetcher;
  /** Called once when the replica fails on its own (the consumer crashed for good). */
  onFailed?: (err: unknown) => void;
  /** This host's name, for the member identity; os.hostname() by default. */
  host?: string;
}

/**
 * Longest a fetch waits on the broker for new records; idle cost is one fetch request per broker
 * per period (see docs/retry.md for the measurements).
 */
const FETCH_MAX_WAIT_MS = 100;

/**
 * How long the client waits for a batch before it runs on in the background (PartitionWork): a
 * one-ref sync (about 15 ms) is done within it, so its partition is fetched again at once and the
 * next event of it arrives without waiting out the fetch in flight; other partitions of the same
 * fetch wait at most this long.
 */
const INLINE_BATCH_MS = 50;

/** Bounds of one fetch response: all partitions, and per partition. */
const FETCH_MAX_BYTES = 8 * 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;

/**
 * How long before its due time a held partition resumes. The client fetches a resumed partition
 * only once the fetch in flight returns (up to FETCH_MAX_WAIT_MS, or a pause of that length when
 * every partition was paused), plus a round trip; the records then wait in memory for the rest.
 */
const RESUME_LEAD_MS = FETCH_MAX_WAIT_MS + 50;

/**
 * The transactional id of one member of a replica: stable across restarts of that member (its
 * host and member slot), so that a restarted process fences its dead predecessor and the broker
 * aborts the transaction it left open at once, instead of after the transaction timeout.
 */
export function transactionalIdFor(replica: string, host: string, slot: number): string {
  return `pullrep-${replica}-${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${slot}`;
}

/** A running replica and what tests and the CLI look at. */
export interface RunningReplica {
  service: ReplicaService;
  metrics: ReplicaMetrics;
  registry: Registry;
  /** What /metrics serves: the replica's metrics and the process's. */
  scrape(): Promise<string>;
  http: HttpEndpoint | undefined;
  /** Bootstrap, gap repair and continuous verification. */
  healing: SelfHealing;
  /** The replica's per-repository state. */
  store: SyncStateStore;
  catalog: CatalogView;
  /** Readers waiting for a ref value (`pullrep wait`). */
  waiters: RefWaiters;
  /** What /readyz answers, and why not. */
  ready(): boolean;
  whyNotReady(): string | undefined;
}

/**
 * Heartbeats go out every tenth of the session timeout, from the consumer's loop and from the
 * syncs that hold a batch: nine may be lost (a busy event loop, a slow broker) before the group
 * gives the process's partitions away.
 */
const heartbeatIntervalMs = (sessionTimeoutMs: number) => Math.max(100, Math.floor(sessionTimeoutMs / 10));

/** Ensures the topics, builds every part, starts consuming. On failure, whatever was started is closed. */
export async function startReplica(setup: ReplicaSetup): Promise<RunningReplica> {
  const { options, kafka, logger } = setup;
  const clock = setup.clock ?? systemClock;
  const { consumer: consumerOptions } = options;
  const admin = await kafka.admin();
  const ensured = await ensureTopics(admin, options.topics).finally(() => admin.disconnect());
  if (ensured.created.length) logger.info({ created: ensured.created }, 'created topics');
  for (const warning of ensured.warnings) logger.warn(warning);
  const topics = ensured.topics;

  const engine = createFetcher({ options: options.fetch, logger, env: setup.env, clock: () => clock.now() });
  const waiters = new RefWaiters({ root: options.fetch.root, env: setup.env });
  const fetcher = notifyingFetcher(setup.wrapFetcher ? setup.wrapFetcher(engine) : engine, waiters);
  const registry = createMetricsRegistry();
  const source = kafka.batchSource({
    groupId: consumerOptions.replica,
    sessionTimeoutMs: consumerOptions.sessionTimeoutMs,
    heartbeatIntervalMs: heartbeatIntervalMs(consumerOptions.sessionTimeoutMs),
    rebalanceTimeoutMs: Math.max(60_000, consumerOptions.sessionTimeoutMs * 2),
    maxWaitTimeMs: FETCH_MAX_WAIT_MS,
    // What one fetch may bring into memory, compressed; decompression is bounded per batch
    // (src/kafka/record-batch.ts), and no event over 1 MiB is decoded (src/events/).
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
  });
  const pauser = new PartitionPauser({ control: source, clock, leadMs: RESUME_LEAD_MS });
  let service: ReplicaService | undefined;
  const store = SyncStateStore.open(options.fetch.root);
  // Which repositories this replica keeps: one memoized function of the name, shared by every part.
  const selection = compileSelection(options.selection);
  const selects = selection.all ? undefined : (repo: string) => selection.selects(repo);
  const repoMetrics = registerRepoMetrics(registry, { store, slowLagMs: options.http.slowRepoLagMs, now: () => clock.now(), selects });
  const probe = new BrokerProbe({ brokers: options.kafka.brokers, logger });
  let consumerRef: ReplicaConsumer | undefined;
  const whyNotReady = () =>
    notReadyBecause({
      running: service?.state === 'running',
      joined: consumerRef?.inGroup ?? false,
      crashed: consumerRef?.crashed ?? false,
      brokers: probe.reachable,
      worstLagMs: options.http.readyMaxLagMs > 0 ? repoMetrics.worstLagMs() : 0,
      maxLagMs: options.http.readyMaxLagMs,
    });
  const ready = () => whyNotReady() === undefined;
  const metrics = createReplicaMetrics(registry, () => pauser.size, ready);

  let slot: MemberSlot | undefined;
  let handOff: HandOff | undefined;
  let http: HttpEndpoint | undefined;
  const catalog = new CatalogView(logger.child({ component: 'catalog' }));
  let healing: SelfHealing | undefined;
  try {
    if (consumerOptions.transactions) {
      const host = setup.host ?? hostname();
      const self = runningProcess(process.pid) ?? { pid: process.pid, start: '' };
      slot = await claimMemberSlot({ dir: join(options.fetch.root, '.pullrep-members', consumerOptions.replica), host, self, running: runningProcess });
      const transactionalId = transactionalIdFor(consumerOptions.replica, host, slot.slot);
      handOff = transactionalHandOff({ sink: await kafka.transactionalSink(transactionalId), groupId: consumerOptions.replica });
      logger.info({ transactionalId }, 'transactional hand-off');
    } else {
      handOff = produceThenCommit({ sink: await kafka.sink(), committer: source });
    }
    const stopSyncs = new AbortController();
    const processor = new BatchProcessor({
      fetcher,
      handOff,
      policy: options.ladder,
      topics,
      replica: consumerOptions.replica,
      applyDeletes: consumerOptions.applyDeletes,
      clock,
      logger,
      metrics,
      heartbeatMs: heartbeatIntervalMs(consumerOptions.sessionTimeoutMs),
      abort: stopSyncs.signal,
      state: safeRecorder(store, logger),
      selects,
    });
    const work = new PartitionWork({ consumer: source, processor, pauser, clock, logger, limit: consumerOptions.partitionsConsumedConcurrently, inlineMs: INLINE_BATCH_MS });
    const consumer = new ReplicaConsumer({
      source,
      work,
      pauser,
      handOff,
      stopSyncs,
      topics: consumedTopics(topics),
      concurrency: consumerOptions.partitionsConsumedConcurrently,
      logger,
      onFatal: (err) => service?.fail(err, setup.onFailed),
    });
    consumerRef = consumer;
    if (options.http.port !== 0) {
      http = await startHttpEndpoint({ ...options.http, logger, metrics: () => scrape(registry), ready, notReadyBecause: whyNotReady, route: waitRoute(waiters, logger, selection.all ? undefined : selection, refSelectionOf(options.fetch.refs)) });
    }
    const maintenance =
      options.fetch.maintenanceIntervalMs > 0
        ? scheduleMaintenance({
            intervalMs: options.fetch.maintenanceIntervalMs,
            logger,
            listRepositories: () => engine.listRepositories(),
            maintain: (repo, o) => engine.maintain(repo, o),
          })
        : undefined;
    const healMetrics = createHealMetrics(registry, {
      bootstrapPending: () => {
        const { total, done } = store.bootstrapProgress();
        return total - done;
      },
      catalog: () => catalog.size,
      skipped: () => catalog.skipped,
    });
    const selfHealing = new SelfHealing({
      kafka,
      catalogTopic: options.heal.catalogTopic,
      group: consumerOptions.replica,
      eventsTopic: topics.events,
      consumed: consumedTopics(topics),
      partitions: ensured.partitions,
      catalog,
      store,
      selects,
      repair: { fetcher, sides: createSides(options.fetch, setup.env), applyDeletes: consumerOptions.applyDeletes },
      listLocal: () => engine.listRepositories(),
      options: options.heal,
      clock,
      logger: logger.child({ component: 'heal' }),
      metrics: healMetrics,
    });
    healing = selfHealing;
    source.onJoin((assignment) => selfHealing.assign(assignment));
    const heldSlot = slot;
    const lag = pollLag({ kafka, group: consumerOptions.replica, topics: consumedTopics(topics), gauge: metrics.lag, logger });
    service = new ReplicaService({
      consumer,
      fetcher,
      logger,
      shutdownGraceMs: consumerOptions.shutdownGraceMs,
      http,
      maintenance,
      lag,
      healing: selfHealing,
      probe,
      waiters,
      release: async () => {
        store.close();
        await heldSlot?.release();
      },
    });
  } catch (err) {
    store.close();
    await handOff?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await slot?.release().catch(() => undefined);
    await fetcher.close().catch(() => undefined);
    throw err;
  }
  await healing.prime().catch((err: unknown) => logger.warn({ err }, 'could not read the committed positions before starting; a retention gap will be found without its size'));
  healing.start();
  probe.start();
  await service.start();
  logger.info({ replica: consumerOptions.replica, topics, delaysMs: ladderDelays(options.ladder), selection: selection.describe() }, 'replica running');
  return { service, metrics, registry, scrape: () => scrape(registry), http, healing, store, catalog, waiters, ready, whyNotReady };
}
