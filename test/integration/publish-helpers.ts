import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decodeEvent, type RefEvent } from '../../src/events/index.js';
import type { Kafka } from 'kafkajs';
import { cliPath, pullrep, repoRoot, run, type RunResult } from '../helpers/cli.js';
import { gitEnv, makeBareRepo, randomName, tempDir } from '../helpers/git.js';
import { createTopic, readTopic, testBrokers, testKafka } from '../helpers/kafka.js';

/** Support for the primary-side integration tests: the real CLI, real hooks, real pushes. */
export { cliPath, pullrep, repoRoot, type RunResult };

/** An environment as bare as a git server gives its hooks: no node on PATH, no PULLREP_*. */
export function minimalEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const gitOnly = Object.fromEntries(Object.entries(gitEnv).filter(([k]) => k.startsWith('GIT_')));
  return { ...gitOnly, PATH: '/usr/bin:/bin', HOME: home, ...extra };
}

/** Runs git with stderr kept (the hook's output arrives there as "remote: …" lines). */
export function gitRun(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run('git', args, { cwd, env });
}

export interface Primary {
  base: string;
  root: string;
  topic: string;
  configFile: string;
}

/**
 * A primary.root, a random events topic and a configuration file naming them. The publish timeout
 * is generous so that a slow acknowledgement on a busy machine never spools an event; tests of a
 * broker that is down shorten it themselves.
 */
export async function makePrimary(brokers: string[], publish: Record<string, unknown> = {}): Promise<Primary> {
  const base = await tempDir('pullrep-primary-');
  const root = join(base, 'repos');
  const topic = randomName('events');
  const configFile = join(base, 'pullrep.json');
  const config = {
    kafka: { brokers },
    topics: { events: topic, partitions: 2 },
    primary: { name: 'primary-test', root },
    publish: { timeoutMs: 10_000, ...publish },
    log: { pretty: 'false' },
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  return { base, root, topic, configFile };
}

/**
 * `pullrep hook install`, which must succeed quietly: the direct hook (`pullrep publish` on every
 * push) unless `mode` is 'spool' (the hook that hands pushes to `pullrep primary`).
 */
export async function installHook(primary: Primary, target: string, type = 'post-receive', mode: 'direct' | 'spool' = 'direct'): Promise<RunResult> {
  const result = await pullrep(['--config', primary.configFile, 'hook', 'install', target, '--type', type, ...(mode === 'direct' ? ['--direct'] : [])]);
  if (result.code !== 0 || result.stderr !== '') throw new Error(`hook install failed: ${result.stderr}`);
  return result;
}

/** A primary on the test broker with its events topic created and one bare repository. */
export async function primaryWithRepo(name: string, publish: Record<string, unknown> = {}): Promise<{ primary: Primary; kafka: Kafka; bare: string }> {
  const primary = await makePrimary(testBrokers(), publish);
  const kafka = testKafka();
  await createTopic(kafka, primary.topic, 2);
  return { primary, kafka, bare: await makeBareRepo(primary.root, name) };
}

export interface TopicEvent {
  key: string | null;
  partition: number;
  bytes: number;
  event: RefEvent;
}

/** Every event on the topic, decoded (validated), in partition order. */
export async function topicEvents(kafka: Kafka, topic: string, atLeast?: number): Promise<TopicEvent[]> {
  const records = await readTopic(kafka, topic, atLeast === undefined ? {} : { atLeast });
  return records.map((r) => ({ key: r.key, partition: r.partition, bytes: Buffer.byteLength(r.value ?? ''), event: decodeEvent(r.value) }));
}

/** A TCP port nothing listens on (for a broker that is down). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Environment for a publish against a broker that is down, with the short publish timeout such a
 * test waits out (the configuration file's own is long, for a busy machine).
 */
export async function deadBrokerEnv(): Promise<{ PULLREP_KAFKA_BROKERS: string; PULLREP_PUBLISH_TIMEOUT_MS: string }> {
  return { PULLREP_KAFKA_BROKERS: `127.0.0.1:${await deadPort()}`, PULLREP_PUBLISH_TIMEOUT_MS: '1500' };
}

/** The lines pullrep wrote through git ("remote: pullrep: …"). */
export function pullrepLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^remote: (pullrep|\{)/.test(l));
}
