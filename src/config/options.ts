import type { Config } from './schema.js';
import { envName } from './schema.js';
import { ConfigError } from './errors.js';
import type { RefSelectionOptions } from '../refs/selection.js';
import { parseShard, type SelectionOptions } from '../repos/selection.js';

/**
 * Raw → defaulted → compiled: the schema gives the defaulted configuration; this module turns it
 * into the options object each feature takes, in one place. Features never read `Config`.
 */

/** What a role cannot run without. */
export const ROLE_KEYS = {
  /** The hook, publish, backfill, spool and the primary's own commands. */
  primary: ['primary.root'],
  /** `pullrep replica`, sync and verify against the primary over the network. */
  replica: ['replica.root', 'primary.url'],
} as const;

export type Role = keyof typeof ROLE_KEYS;

/** Throws one ConfigError naming every key in `keys` that is empty: `replica.root must be set (PULLREP_REPLICA_ROOT)`. */
export function requireKeys(config: Config, keys: readonly string[]): void {
  const missing = keys.filter((key) => isEmpty(valueAt(config, key)));
  if (missing.length) throw new ConfigError(missing.map((key) => `${key} must be set (${envName(key)})`).join('; '));
}

export function requireRole(config: Config, role: Role): void {
  requireKeys(config, ROLE_KEYS[role]);
}

function valueAt(config: Config, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

export type KafkaOptions = Config['kafka'];

export interface PrimaryCredentials {
  username: string;
  password: string;
  sshKeyFile: string;
  sshKnownHostsFile?: string;
}

/** The fetch engine (src/fetch). */
export interface FetchOptions {
  /** replica.root */
  root: string;
  /** primary.url, a template with {repo} */
  primaryUrl: string;
  credentials: PrimaryCredentials;
  concurrency: number;
  /** Time limit of one git process. */
  gitTimeoutMs: number;
  recloneAfterFailures: number;
  /** replica.readOnly: every repository refuses pushes; off, pullrep takes its own setup out. */
  readOnly: boolean;
  missingRepoGraceMs: number;
  /** Interval of scheduled housekeeping; 0 = none. */
  maintenanceIntervalMs: number;
  /** replica.refs.include/exclude: the refs this replica replicates; absent = every ref. */
  refs?: RefSelectionOptions;
}

/** The retry policy of the ladder (src/retry). */
export interface LadderOptions {
  stages: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  maxRetryPeriodMs: number;
}

/** The topics a replica uses and creates (src/replica/topics.ts). */
export interface TopicOptions {
  events: string;
  replica: string;
  stages: number;
  partitions: number;
  replicationFactor: number;
  failedRetentionMs: number;
  /** Retention of the retry topics: retry.maxRetryPeriodMs plus a margin, so no waiting event expires. */
  retryRetentionMs: number;
}

/** The replica's consumer (src/consumer). */
export interface ConsumerOptions {
  replica: string;
  applyDeletes: boolean;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  transactions: boolean;
  shutdownGraceMs: number;
}

/** The primary's publishing side (src/publish). */
export interface PublishOptions {
  /** primary.root; may be empty where a command does not need it. */
  root: string;
  /** The spool directory: publish.spoolDir, else <primary.root>/.pullrep-spool; empty when neither is set. */
  spoolDir: string;
  /** primary.name, carried in every event. */
  origin: string;
  topic: string;
  partitions: number;
  replicationFactor: number;
  timeoutMs: number;
  maxEventBytes: number;
}

/** `pullrep primary`, the primary agent (src/primary). */
export interface PrimaryOptions {
  publish: PublishOptions;
  /** topics.catalog */
  catalogTopic: string;
  /** 0 = no scan. */
  scanIntervalMs: number;
  /** replica.fetchTimeoutMs: the time limit of one git process, here a ref listing. */
  gitTimeoutMs: number;
}

/** `pullrep verify` (src/verify). */
export interface VerifyOptions {
  primaryUrl: string;
  primaryRoot: string;
  replicaRoot: string;
  credentials: PrimaryCredentials;
  gitTimeoutMs: number;
  concurrency: number;
  /** replica.readOnly: a replica repository that accepts pushes is reported. */
  readOnly: boolean;
  /** replica.refs.include/exclude: both sides' checksums cover these refs only; absent = every ref. */
  refs?: RefSelectionOptions;
}

/** The replica's self-healing (src/heal). */
export interface HealOptions {
  /** topics.catalog */
  catalogTopic: string;
  /** 0 = no continuous verification. */
  verifyIntervalMs: number;
  verifyConcurrency: number;
  verifyRatePerSecond: number;
  /** Full syncs at once for bootstrap and gaps: one fewer than replica.fetchConcurrency (at least 1). */
  resyncConcurrency: number;
}

/** How much longer than retry.maxRetryPeriodMs the retry topics keep records. */
export const RETRY_RETENTION_MARGIN_MS = 24 * 3600 * 1000;

export interface HttpOptions {
  host: string;
  /** 0 = no endpoint. */
  port: number;
  /** A repository lagging more than this gets its own series. */
  slowRepoLagMs: number;
  /** /readyz is 503 while the worst lag is above this; 0 = off. */
  readyMaxLagMs: number;
}

export interface Options {
  kafka: KafkaOptions;
  fetch: FetchOptions;
  ladder: LadderOptions;
  topics: TopicOptions;
  consumer: ConsumerOptions;
  publish: PublishOptions;
  primary: PrimaryOptions;
  verify: VerifyOptions;
  heal: HealOptions;
  http: HttpOptions;
  /** Which repositories this replica keeps: replica.shard, replica.repos.include/exclude. */
  selection: SelectionOptions;
}

/** Name of the spool directory under primary.root; repository names never start with '.'. */
export const DEFAULT_SPOOL_NAME = '.pullrep-spool';

export function compileOptions(config: Config): Options {
  const { primary, replica, retry, topics, publish } = config;
  const credentials = { username: primary.username, password: primary.password, sshKeyFile: primary.sshKeyFile, sshKnownHostsFile: primary.sshKnownHostsFile };
  const spoolDir = publish.spoolDir || (primary.root ? `${primary.root.replace(/\/+$/, '')}/${DEFAULT_SPOOL_NAME}` : '');
  const publishing: PublishOptions = {
    root: primary.root,
    spoolDir,
    origin: primary.name,
    topic: topics.events,
    partitions: topics.partitions,
    replicationFactor: topics.replicationFactor,
    timeoutMs: publish.timeoutMs,
    maxEventBytes: publish.maxEventBytes,
  };
  return {
    // kafka.ssl.ca implies TLS.
    kafka: { ...config.kafka, ssl: { ...config.kafka.ssl, enabled: config.kafka.ssl.enabled || config.kafka.ssl.ca !== '' } },
    fetch: {
      root: replica.root,
      primaryUrl: primary.url,
      credentials,
      concurrency: replica.fetchConcurrency,
      gitTimeoutMs: replica.fetchTimeoutMs,
      recloneAfterFailures: replica.recloneAfterFailures,
      readOnly: replica.readOnly,
      missingRepoGraceMs: replica.missingRepoGraceMs,
      maintenanceIntervalMs: replica.maintenanceIntervalMs,
      refs: refSelectionOptions(replica.refs),
    },
    ladder: { ...retry },
    topics: {
      events: topics.events,
      replica: replica.name,
      stages: retry.stages,
      partitions: topics.partitions,
      replicationFactor: topics.replicationFactor,
      failedRetentionMs: topics.failedRetentionMs,
      retryRetentionMs: retry.maxRetryPeriodMs + RETRY_RETENTION_MARGIN_MS,
    },
    consumer: {
      replica: replica.name,
      applyDeletes: replica.applyDeletes,
      partitionsConsumedConcurrently: replica.partitionsConsumedConcurrently,
      sessionTimeoutMs: replica.sessionTimeoutMs,
      transactions: replica.transactions,
      shutdownGraceMs: replica.shutdownGraceMs,
    },
    publish: publishing,
    primary: {
      publish: publishing,
      catalogTopic: topics.catalog,
      scanIntervalMs: primary.scanIntervalMs,
      gitTimeoutMs: replica.fetchTimeoutMs,
    },
    verify: {
      primaryUrl: primary.url,
      primaryRoot: primary.root,
      replicaRoot: replica.root,
      credentials,
      gitTimeoutMs: replica.fetchTimeoutMs,
      concurrency: replica.fetchConcurrency,
      readOnly: replica.readOnly,
      refs: refSelectionOptions(replica.refs),
    },
    heal: {
      catalogTopic: topics.catalog,
      verifyIntervalMs: replica.verifyIntervalMs,
      verifyConcurrency: replica.verifyConcurrency,
      verifyRatePerSecond: replica.verifyRatePerSecond,
      resyncConcurrency: Math.max(1, replica.fetchConcurrency - 1),
    },
    http: { ...config.http },
    selection: { shard: parseShard(replica.shard), include: [...replica.repos.include], exclude: [...replica.repos.exclude] },
  };
}

function refSelectionOptions(refs: Config['replica']['refs']): RefSelectionOptions {
  return { include: [...refs.include], exclude: [...refs.exclude] };
}
