import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { portFree } from './helpers/ports.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A Docker engine answers only where DOCKER_HOST or the default socket exists. */
function dockerMayAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

async function fromTestcontainers(): Promise<{ brokers: string; stop: () => Promise<void> } | undefined> {
  if (!dockerMayAnswer()) return undefined;
  try {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    return {
      brokers: `${container.getHost()}:${container.getMappedPort(9093)}`,
      stop: async () => {
        await container.stop();
      },
    };
  } catch (err) {
    console.warn(`testcontainers could not start Kafka (${(err as Error).message}); using the local broker`);
    return undefined;
  }
}

/**
 * Free port pairs from 29092 on (in steps of 100) where the broker and its controller (port+1)
 * are free: below the kernel's ephemeral range, which the tests' own servers and connections use.
 */
async function* freeBrokerPorts(): AsyncGenerator<string> {
  for (let port = 29092; port < 30000; port += 100) {
    if ((await portFree(port)) && (await portFree(port + 1))) yield String(port);
  }
}

/**
 * The local KRaft broker from Apache Kafka's jars, on its own port so it never meets a user's
 * broker. A pair found free can be taken before the broker binds it (another test run starting at
 * the same moment): the next free pair is tried then, up to three.
 */
async function fromLocalBroker(): Promise<{ brokers: string; stop: () => Promise<void> }> {
  const script = join(repoRoot, 'scripts', 'kafka.sh');
  const fixed = process.env.PULLREP_TEST_KAFKA_PORT;
  let lastError: unknown = new Error('no free port pair for a local Kafka broker between 29092 and 30000');
  let tries = 0;
  for await (const port of fixed ? [fixed] : freeBrokerPorts()) {
    // The one plaintext broker the tests expect, whatever PULLREP_KAFKA_SECURITY or _NODES the shell has.
    const env = { ...process.env, PULLREP_KAFKA_PORT: port, PULLREP_KAFKA_SECURITY: 'plaintext', PULLREP_KAFKA_NODES: '1' };
    try {
      const { stdout } = await run('bash', [script, 'start'], { env, timeout: 10 * 60 * 1000 });
      const startedHere = !stdout.includes('already running');
      return {
        brokers: `127.0.0.1:${port}`,
        stop: async () => {
          if (startedHere) await run('bash', [script, 'stop'], { env });
        },
      };
    } catch (err) {
      lastError = err;
      if (++tries === 3) break;
    }
  }
  throw lastError;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.KAFKA_BROKERS;
  const broker = fromEnv
    ? { brokers: fromEnv, stop: async () => undefined }
    : ((await fromTestcontainers()) ?? (await fromLocalBroker()));
  project.provide('kafkaBrokers', broker.brokers);
  return broker.stop;
}
