import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './cli.js';
import { freePortRun } from './ports.js';

const run = promisify(execFile);
const script = join(repoRoot, 'scripts', 'kafka.sh');

/** A local broker of one test file's own (scripts/kafka.sh on a free port pair), which it may stop and start. */
export interface OwnBroker {
  port: number;
  /** The bootstrap list of every node, `127.0.0.1:port,…`. */
  brokers: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Starts one node of a cluster (1-based). */
  startNode(node: number): Promise<void>;
  /** Stops one node of a cluster cleanly. */
  stopNode(node: number): Promise<void>;
  /** The client port of one node. */
  nodePort(node: number): number;
  /** Stops it and removes its data. */
  purge(): Promise<void>;
  /** With `security: 'sasl_ssl'`: what a client needs, as the script printed it. */
  credentials?: BrokerCredentials;
}

/** The CA and the client user of a sasl_ssl broker (scripts/kafka.sh prints where they are). */
export interface BrokerCredentials {
  /** PEM file of the CA certificate that signed the broker's (kafka.ssl.ca). */
  ca: string;
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
  passwordFile: string;
}

export interface OwnBrokerOptions {
  /** KRaft nodes (node i on port + 2(i−1)); 1 by default. */
  nodes?: number;
  /** PULLREP_KAFKA_SECURITY of the script; plaintext by default. */
  security?: 'plaintext' | 'sasl_ssl';
}

/** The KEY=value lines the script's start prints (KAFKA_BROKERS=…, KAFKA_SSL_CA=…). */
function printed(stdout: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^(KAFKA_[A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) lines.set(match[1], match[2]);
  }
  return lines;
}

async function credentialsOf(lines: Map<string, string>): Promise<BrokerCredentials> {
  const [ca, username, passwordFile] = ['KAFKA_SSL_CA', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE'].map((key) => {
    const value = lines.get(key);
    if (!value) throw new Error(`scripts/kafka.sh start printed no ${key}=`);
    return value;
  }) as [string, string, string];
  return { ca, mechanism: 'scram-sha-512', username, password: await readFile(passwordFile, 'utf8'), passwordFile };
}

/**
 * A broker of the test's own, a cluster of KRaft nodes (`ownBroker(3)` or `{ nodes: 3 }`), or one
 * whose clients log in over TLS (`{ security: 'sasl_ssl' }`).
 */
export async function ownBroker(options: number | OwnBrokerOptions = {}): Promise<OwnBroker> {
  const { nodes = 1, security = 'plaintext' } = typeof options === 'number' ? { nodes: options } : options;
  let port = 0;
  const broker = async (...args: string[]) => {
    const env = { ...process.env, PULLREP_KAFKA_PORT: String(port), PULLREP_KAFKA_NODES: String(nodes), PULLREP_KAFKA_SECURITY: security };
    return (await run('bash', [script, ...args], { env, timeout: 180_000 })).stdout;
  };
  let started: string;
  // A run of ports that was free can still be taken before the nodes bind it: try another then.
  for (let attempt = 1; ; attempt++) {
    port = await freePortRun(2 * nodes);
    try {
      started = await broker('start');
      break;
    } catch (err) {
      await broker('purge').catch(() => undefined);
      if (attempt === 3) throw err;
    }
  }
  const nodePort = (node: number) => port + 2 * (node - 1);
  const done = async (...args: string[]) => void (await broker(...args));
  return {
    port,
    brokers: Array.from({ length: nodes }, (_, i) => `127.0.0.1:${nodePort(i + 1)}`),
    start: () => done('start'),
    stop: () => done('stop'),
    startNode: (node) => done('start', '--node', String(node)),
    stopNode: (node) => done('stop', '--node', String(node)),
    nodePort,
    purge: () => done('purge'),
    ...(security === 'sasl_ssl' ? { credentials: await credentialsOf(printed(started)) } : {}),
  };
}
