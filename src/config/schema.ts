import convict from 'convict';

/**
 * Every configuration key pullrep knows. Each key is also an environment variable:
 * `PULLREP_` + the key in upper snake case (`kafka.brokers` → `PULLREP_KAFKA_BROKERS`).
 * Keys marked `sensitive` are never printed or logged.
 */

const duration = (doc: string, def: number) => ({ doc, format: 'nat', default: def });

const definition = {
  kafka: {
    brokers: {
      doc: 'Kafka bootstrap brokers, host:port, comma separated',
      format: 'broker-list',
      default: ['127.0.0.1:9092'] as string[],
    },
    clientId: { doc: 'Kafka client id', format: String, default: 'pullrep' },
    connectionTimeoutMs: duration('Time allowed to open a connection to a broker', 3000),
    requestTimeoutMs: duration('Time allowed for one broker request', 30000),
    sasl: {
      mechanism: {
        doc: 'SASL mechanism (empty for none)',
        format: ['', 'plain', 'scram-sha-256', 'scram-sha-512'],
        default: '' as '' | 'plain' | 'scram-sha-256' | 'scram-sha-512',
      },
      username: { doc: 'SASL user name', format: String, default: '' },
      password: { doc: 'SASL password', format: String, default: '', sensitive: true },
    },
    ssl: {
      enabled: { doc: 'Use TLS to reach the brokers (kafka.ssl.ca turns it on too)', format: 'switch', default: false },
      ca: {
        doc: "PEM file of the CA certificate(s) the brokers' certificates are checked against (empty = Node.js's trusted CAs); setting it turns TLS on",
        format: String,
        default: '',
      },
    },
  },
  topics: {
    events: {
      doc: 'The topic of ref-update events, shared by all replicas',
      format: 'topic-name',
      default: 'git.ref-updates',
    },
    partitions: { doc: 'Partition count of the events topic when pullrep creates it', format: 'pos-int', default: 12 },
    replicationFactor: {
      doc: 'Replication factor of topics pullrep creates (fewer when the cluster has fewer brokers; min.insync.replicas is one less; -1 = the brokers\' defaults)',
      format: 'replication-factor',
      default: 3,
    },
    failedRetentionMs: duration('Retention of the failed topic (default 90 days)', 90 * 24 * 3600 * 1000),
    catalog: {
      doc: 'The compacted topic of every repository on the primary, with its ref checksum (docs/catalog.md)',
      format: 'topic-name',
      default: 'git.repositories',
    },
  },
  primary: {
    name: { doc: 'Name of this primary, carried in every event', format: String, default: 'primary' },
    root: { doc: "Directory holding the primary's bare repositories", format: String, default: '' },
    url: {
      doc: 'Fetch URL template with {repo}, e.g. https://git.example.com/{repo}',
      format: String,
      default: '',
    },
    username: { doc: 'User name for HTTP fetches from the primary', format: String, default: '' },
    password: {
      doc: 'Password or token for HTTP fetches from the primary',
      format: String,
      default: '',
      sensitive: true,
    },
    sshKeyFile: { doc: 'Private key file for ssh fetches from the primary', format: String, default: '', sensitive: true },
    sshKnownHostsFile: {
      doc: "known_hosts file for ssh fetches from the primary (default: ssh's, in the account's home directory)",
      format: String,
      default: '',
    },
    scanIntervalMs: duration(
      'Interval of the primary agent\'s scan of primary.root, which catches repositories created, changed or deleted without a hook; 0 = off',
      60 * 1000,
    ),
  },
  publish: {
    timeoutMs: duration('How long publish waits for Kafka before spooling the event', 2000),
    spoolDir: {
      doc: 'Directory of the publish spool (default: <primary.root>/.pullrep-spool)',
      format: String,
      default: '',
    },
    maxEventBytes: {
      doc: 'Largest encoded event; bigger pushes are split into several events',
      format: 'pos-int',
      default: 256 * 1024,
    },
  },
  replica: {
    name: { doc: 'Name of this replica; also its consumer group', format: 'replica-name', default: 'replica' },
    root: { doc: "Directory holding the replica's bare repositories", format: String, default: '' },
    shard: {
      doc: 'This replica is shard "i/n" of a site: it keeps only the repositories whose name hashes to shard i (README "Shards"); empty = no sharding',
      format: 'shard',
      default: '',
    },
    repos: {
      include: {
        doc: 'Repository-name globs this replica keeps (* within a path segment, ** across "/", ? one character); empty = every repository',
        format: 'repo-globs',
        default: [] as string[],
      },
      exclude: {
        doc: 'Repository-name globs this replica does not keep, even when included',
        format: 'repo-globs',
        default: [] as string[],
      },
    },
    applyDeletes: {
      doc: 'Delete a repository on the replica when the primary deletes it',
      format: 'switch',
      default: false,
    },
    readOnly: {
      doc: "Every replica repository refuses pushes (a pre-receive hook naming the primary, receive.hideRefs); false removes pullrep's own setup",
      format: 'switch',
      default: true,
    },
    fetchConcurrency: { doc: 'Repositories synced in parallel', format: 'pos-int', default: 4 },
    fetchTimeoutMs: duration('Time limit of one git process', 10 * 60 * 1000),
    recloneAfterFailures: {
      doc: 'Consecutive failed incremental syncs of a repository before it is cloned afresh',
      format: 'pos-int',
      default: 3,
    },
    missingRepoGraceMs: duration(
      'How long "repository not found on the primary" counts as transient after an event was published',
      10 * 60 * 1000,
    ),
    shutdownGraceMs: duration('How long shutdown waits for running syncs', 30000),
    transactions: {
      doc: 'Hand events to the next stage and commit the offset in one Kafka transaction',
      format: 'switch',
      default: false,
    },
    partitionsConsumedConcurrently: {
      doc: 'Partitions each consumer processes at the same time',
      format: 'pos-int',
      default: 4,
    },
    sessionTimeoutMs: duration('Consumer group session timeout: a process that stops heartbeating (kill -9, a lost host) hands its partitions over after this long; it heartbeats every tenth of it', 6000),
    maintenanceIntervalMs: duration('Interval of scheduled housekeeping (git maintenance); 0 = off', 6 * 3600 * 1000),
    verifyIntervalMs: duration('Every repository is verified against the catalog at least once per this interval; 0 = off', 3600 * 1000),
    verifyConcurrency: { doc: 'Repositories verified at the same time', format: 'pos-int', default: 1 },
    verifyRatePerSecond: { doc: 'Most repository verifications started per second', format: 'pos-int', default: 20 },
    refs: {
      include: {
        doc: 'Ref patterns this replica replicates (full names under refs/, at most one *, which matches across "/" as in git refspecs); empty = every ref',
        format: 'ref-globs',
        default: [] as string[],
      },
      exclude: {
        doc: 'Ref patterns this replica never fetches, even when included (e.g. refs/changes/*)',
        format: 'ref-globs',
        default: [] as string[],
      },
    },
  },
  retry: {
    stages: { doc: 'Number of retry stages (retry topics)', format: 'retry-stages', default: 4 },
    initialDelayMs: duration('Delay of the first retry stage', 30 * 1000),
    multiplier: { doc: 'Factor between the delays of consecutive stages', format: 'multiplier', default: 10 },
    maxDelayMs: duration('Largest delay of any stage', 3 * 3600 * 1000),
    maxRetryPeriodMs: duration('Longest time an event may spend in the retry ladder', 6 * 3600 * 1000),
  },
  http: {
    host: { doc: 'Address of the metrics and health endpoint', format: String, default: '127.0.0.1' },
    port: { doc: 'Port of the metrics and health endpoint (0 = off)', format: 'port', default: 9464 },
    slowRepoLagMs: duration('Replica: a repository lagging more than this gets its own series in /metrics', 5 * 60 * 1000),
    readyMaxLagMs: duration('Replica: /readyz answers 503 while the worst lag of any repository is above this (0 = lag does not count)', 0),
  },
  log: {
    level: {
      doc: 'Log level',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    pretty: {
      doc: 'Human-readable logs (auto = when stderr is a terminal)',
      format: ['auto', 'true', 'false'],
      default: 'auto' as 'auto' | 'true' | 'false',
    },
  },
};

/** The value type of a schema node: a leaf's default type, or an object of its children's. */
type ValueOf<Node> = Node extends { default: infer D; doc: string } ? Widen<D> : { [K in keyof Node]: ValueOf<Node[K]> };
type Widen<T> = T extends boolean ? boolean : T extends number ? number : T;

/** The effective configuration: derived from the schema above, so a key is added in one place. */
export type Config = ValueOf<typeof definition>;

/** `kafka.clientId` → `PULLREP_KAFKA_CLIENT_ID`. */
export function envName(key: string): string {
  return (
    'PULLREP_' +
    key
      .split('.')
      .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

/** Every key of the schema, dotted (`kafka.brokers`), in schema order. */
export const CONFIG_KEYS: readonly string[] = leafKeys(definition);

function leafKeys(node: object, path: string[] = []): string[] {
  return Object.entries(node).flatMap(([key, child]: [string, unknown]) => {
    if (child === null || typeof child !== 'object') return [];
    return 'default' in child && 'doc' in child ? [[...path, key].join('.')] : leafKeys(child, [...path, key]);
  });
}

/** The schema with each leaf's environment variable, as convict takes it. */
export function convictSchema(): convict.Schema<Config> {
  const withEnv = (node: object, path: string[]): unknown =>
    Object.fromEntries(
      Object.entries(node).map(([key, child]: [string, unknown]) => {
        const here = [...path, key];
        if (child === null || typeof child !== 'object') return [key, child];
        if ('default' in child && 'doc' in child) return [key, { ...child, env: envName(here.join('.')) }];
        return [key, withEnv(child, here)];
      }),
    );
  return withEnv(definition, []) as convict.Schema<Config>;
}
