import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownBroker, type BrokerCredentials, type OwnBroker } from '../helpers/broker.js';
import { cliPath, pullrep, run } from '../helpers/cli.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { makeBareRepo, pushCommit, randomName, readRefs, tempDir } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';

/**
 * pullrep on a broker that takes clients over SASL_SSL only (scripts/kafka.sh with
 * PULLREP_KAFKA_SECURITY=sasl_ssl): TLS checked against kafka.ssl.ca, SCRAM-SHA-512 login with
 * kafka.sasl.*. Every refusal ends a command in one line naming the key, and no password reaches
 * a log, an error or stderr.
 */

let own: OwnBroker | undefined;
let credentials: BrokerCredentials;
const servers: GitHttpServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  own = await ownBroker({ security: 'sasl_ssl' });
  if (!own.credentials) throw new Error('the sasl_ssl broker printed no credentials');
  credentials = own.credentials;
}, 300_000);

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await own?.purge();
}, 60_000);

const REFUSED = "pullrep: Kafka refused the SASL credentials of kafka.sasl.username 'pullrep' (SCRAM-SHA-512): authentication failed\n";

interface Site {
  primaryRoot: string;
  replicaRoot: string;
  configFile: string;
  /** The environment of every pullrep process: the configuration file, and the password (never in the file). */
  env: NodeJS.ProcessEnv;
}

/** A primary served over HTTP, a replica root, and a configuration for the secured broker. */
async function site(): Promise<Site> {
  if (!own) throw new Error('no broker');
  const primaryRoot = await tempDir('pullrep-primary-');
  const replicaRoot = await tempDir('pullrep-replica-');
  const server = await new GitHttpServer({ root: primaryRoot }).start();
  servers.push(server);
  const config = {
    kafka: { brokers: own.brokers, ssl: { ca: credentials.ca }, sasl: { mechanism: credentials.mechanism, username: credentials.username } },
    topics: { events: randomName('events'), catalog: randomName('catalog'), partitions: 2 },
    primary: { root: primaryRoot, url: `${server.url}/{repo}` },
    replica: { name: randomName('rep'), root: replicaRoot, sessionTimeoutMs: 10_000, shutdownGraceMs: 5000 },
    retry: { stages: 1, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 10_000, maxRetryPeriodMs: 60_000 },
    publish: { timeoutMs: 10_000 },
    http: { port: 0 },
  };
  const configFile = join(await tempDir('pullrep-config-'), 'pullrep.json');
  await writeFile(configFile, JSON.stringify(config));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PULLREP_CONFIG: configFile, PULLREP_KAFKA_SASL_PASSWORD: credentials.password };
  return { primaryRoot, replicaRoot, configFile, env };
}

/** A long-running `pullrep` process; resolves its exit code once its output is complete. */
function spawnPullrep(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function converged(primary: string, replica: string): Promise<void> {
  await waitFor(
    async () => {
      const want = JSON.stringify(await readRefs(primary));
      return want !== '{}' && want === JSON.stringify(await readRefs(replica).catch(() => ({})));
    },
    { timeoutMs: 60_000, what: `${replica} to equal the primary` },
  );
}

describe('Kafka over SASL_SSL', () => {
  it('replicates a push end to end with kafka.ssl.ca and kafka.sasl.*, and logs no password at debug', async () => {
    const s = await site();
    const name = 'team/app.git';
    const primary = await makeBareRepo(s.primaryRoot, name);
    const ensured = await pullrep(['topics', 'ensure'], { env: s.env });
    expect(ensured.stderr).toBe('');
    expect(ensured.code).toBe(0);
    expect((await pullrep(['--config', s.configFile, 'hook', 'install', s.primaryRoot], { env: s.env })).code).toBe(0);
    const debug = { ...s.env, PULLREP_LOG_LEVEL: 'debug', PULLREP_LOG_PRETTY: 'false' };
    const agent = spawnPullrep(['primary'], debug);
    const replica = spawnPullrep(['replica'], debug);
    await pushCommit(primary, 'main');
    await converged(primary, join(s.replicaRoot, name));
    agent.child.kill('SIGTERM');
    replica.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await replica.exited).toBe(0);
    // The broker takes clients over SASL_SSL only (the tests below): both logged in, at debug,
    // and neither wrote the password.
    expect(agent.output()).toContain('primary agent stopped');
    expect(replica.output()).toContain('replica stopped');
    expect(agent.output() + replica.output()).not.toContain(credentials.password);
  }, 180_000);

  it('stops a command, the replica and the primary on a wrong password with one line naming kafka.sasl.username', async () => {
    const s = await site();
    const wrong = `${randomName('wrong')}-password`;
    const env = { ...s.env, PULLREP_KAFKA_SASL_PASSWORD: wrong };
    const results = await Promise.all([
      pullrep(['topics', 'ensure'], { env }),
      pullrep(['status'], { env }),
      pullrep(['replica'], { env }),
      pullrep(['primary'], { env }),
    ]);
    for (const result of results) {
      expect(result.stderr).toBe(REFUSED);
      expect(result.code).toBe(1);
      expect(result.stdout).not.toContain(wrong);
    }
    // Even at debug, where the client's own lines are kept, the password stays out.
    const debug = await pullrep(['replica'], { env: { ...env, PULLREP_LOG_LEVEL: 'debug', PULLREP_LOG_PRETTY: 'false' } });
    expect(debug.code).toBe(1);
    expect(debug.stderr.endsWith(REFUSED)).toBe(true);
    expect(debug.stderr + debug.stdout).not.toContain(wrong);
  }, 120_000);

  it('names kafka.ssl.ca when the broker\'s certificate is not trusted, or TLS is off', async () => {
    const s = await site();
    const port = own?.port;
    // A CA of its own, which did not sign the broker's certificate.
    const dir = await tempDir('pullrep-other-ca-');
    const otherCa = join(dir, 'ca.pem');
    await promisify(execFile)('openssl', ['req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=another CA', '-keyout', join(dir, 'ca.key'), '-out', otherCa]);
    const [other, systemCas, noTls] = await Promise.all([
      pullrep(['topics', 'list'], { env: { ...s.env, PULLREP_KAFKA_SSL_CA: otherCa } }),
      // The old switch: TLS with Node.js's own CAs.
      pullrep(['topics', 'list'], { env: { ...s.env, PULLREP_KAFKA_SSL_CA: '', PULLREP_KAFKA_SSL: 'true' } }),
      pullrep(['topics', 'list'], { env: { ...s.env, PULLREP_KAFKA_SSL_CA: '' } }),
    ]);
    expect(other.stderr).toBe(
      `pullrep: TLS to Kafka at 127.0.0.1:${port} failed: its certificate is not signed by the CA of kafka.ssl.ca (${otherCa}) (self-signed certificate in certificate chain)\n`,
    );
    expect(systemCas.stderr).toBe(
      `pullrep: TLS to Kafka at 127.0.0.1:${port} failed: its certificate is not signed by a CA Node.js trusts; set kafka.ssl.ca to the PEM file of the CA that signed it (self-signed certificate in certificate chain)\n`,
    );
    expect(noTls.stderr).toBe(`pullrep: Kafka at 127.0.0.1:${port} closed the connection without answering: if its listener wants TLS, set kafka.ssl.ca (or kafka.ssl.enabled)\n`);
    for (const result of [other, systemCas, noTls]) expect(result.code).toBe(1);
    // A file that is no CA certificate stops the command before it connects.
    const notPem = await pullrep(['topics', 'list'], { env: { ...s.env, PULLREP_KAFKA_SSL_CA: s.configFile } });
    expect(notPem.stderr).toBe(`pullrep: kafka.ssl.ca: ${s.configFile} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block)\n`);
    expect(notPem.code).toBe(1);
  }, 120_000);

  it('serves no plaintext client, and shows the configuration without the password', async () => {
    if (!own) throw new Error('no broker');
    // kcat, an independent client, gets no metadata from the client port without TLS.
    const kcat = await run('kcat', ['-b', own.brokers.join(','), '-L', '-m', '5']);
    expect(kcat.code).not.toBe(0);
    expect(kcat.stdout).not.toContain('Metadata for');
    const s = await site();
    const printed = await pullrep(['config', 'print'], { env: s.env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toContain(credentials.password);
    const kafka = (JSON.parse(printed.stdout) as { kafka: { ssl: unknown; sasl: { username: string } } }).kafka;
    expect(kafka.ssl).toEqual({ enabled: false, ca: credentials.ca });
    expect(kafka.sasl.username).toBe('pullrep');
    const checked = await pullrep(['config', 'check'], { env: s.env });
    expect(checked.stdout).toBe('configuration is valid\n');
  }, 60_000);
});
