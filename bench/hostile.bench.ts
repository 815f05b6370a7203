// A replica draining a topic full of hostile records, against the same replica idle, in the same
// run: its resident memory (peak, sampled from its own /metrics) and the latency of ordinary
// events (produced → the replica holds the ref) meanwhile. The hostile records: gzip bombs
// (100 MB of zeros each, about 100 KB on the wire), records with 25,000 header names, events too
// large to hand on with pullrep's headers, and junk. The replica is `pullrep replica`, a process
// of its own, on the broker of KAFKA_BROKERS (default 127.0.0.1:9092).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CompressionTypes, type Producer } from 'kafkajs';
import { encodeEvent, makeEvent, type RefEvent } from '../src/events/index.js';
import { GitHttpServer } from '../test/helpers/git-server.js';
import { makeBareRepo, pushCommit, randomName, readRefs, tempDir } from '../test/helpers/git.js';
import { waitFor } from '../test/helpers/wait.js';
import { benchBrokers, benchKafka } from './kafka.js';
import { median } from './stats.js';

const PARTITIONS = 4;
const PROBES = 15;
const BOMBS = 12;
const HEADER_RECORDS = 12;
const OVERSIZED = 8;
const JUNK = 2000;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (n: number) => `${n.toFixed(0)} ms`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function rssOf(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Produced → the replica's ref equals it, for one new commit of `repo` each time. */
async function probe(producer: Producer, topic: string, primaryRoot: string, replicaRoot: string, name: string): Promise<number> {
  const head = await pushCommit(join(primaryRoot, name), 'main');
  const event = makeEvent<RefEvent>({ kind: 'refs-updated', repo: name, origin: 'primary', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: head }] } as never);
  const started = performance.now();
  await producer.send({ topic, messages: [{ key: name, value: encodeEvent(event) }] });
  await waitFor(async () => (await readRefs(join(replicaRoot, name)).catch(() => ({}) as Record<string, string>))['refs/heads/main'] === head, {
    timeoutMs: 120_000,
    intervalMs: 5,
    what: `${name} to reach the replica`,
  });
  return performance.now() - started;
}

async function run(hostile: boolean): Promise<{ latency: number[]; peakRss: number; drainMs: number }> {
  const primaryRoot = await tempDir('pullrep-bench-hostile-primary-');
  const replicaRoot = await tempDir('pullrep-bench-hostile-replica-');
  const server = await new GitHttpServer({ root: primaryRoot }).start();
  const topic = randomName('bench-hostile');
  const port = await freePort();
  const config = join(await tempDir('pullrep-bench-hostile-config-'), 'pullrep.json');
  await writeFile(
    config,
    JSON.stringify({
      kafka: { brokers: benchBrokers() },
      topics: { events: topic, partitions: PARTITIONS },
      primary: { url: `${server.url}/{repo}` },
      replica: { name: randomName('r'), root: replicaRoot },
      http: { port },
      log: { level: 'error' },
    }),
  );
  const kafka = benchKafka('bench-hostile');
  const producer = kafka.producer();
  await producer.connect();
  const names = Array.from({ length: PROBES }, (_, i) => `b/probe-${i}.git`);
  for (const name of names) await makeBareRepo(primaryRoot, name);
  const bin = join(import.meta.dirname, '..', 'bin', 'pullrep.js');
  const child: ChildProcess = spawn(process.execPath, [bin, '--config', config, 'replica'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000, what: 'the replica to be ready' });
    sampler = setInterval(() => void rssOf(port).then((r) => (peakRss = Math.max(peakRss, r)), () => undefined), 50);
    const drainStarted = performance.now();
    if (hostile) {
      for (let i = 0; i < BOMBS; i++) await producer.send({ topic, compression: CompressionTypes.GZIP, messages: [{ key: `bomb-${i}`, value: Buffer.alloc(100 * 1024 * 1024) }] });
      const headers = Object.fromEntries(Array.from({ length: 25_000 }, (_, i) => [`h${i}`, 'v']));
      for (let i = 0; i < HEADER_RECORDS; i++) await producer.send({ topic, messages: [{ key: `headers-${i}`, value: '{"v":1}', headers }] });
      for (let i = 0; i < OVERSIZED; i++) await producer.send({ topic, messages: [{ key: `huge-${i}`, value: Buffer.alloc(1_048_400, 'x') }] });
      await producer.send({ topic, messages: Array.from({ length: JUNK }, (_, i) => ({ key: `junk-${i}`, value: `junk ${i}` })) });
    }
    const latency: number[] = [];
    for (const name of names) latency.push(await probe(producer, topic, primaryRoot, replicaRoot, name));
    const drainMs = performance.now() - drainStarted;
    await new Promise((r) => setTimeout(r, 200));
    return { latency, peakRss, drainMs };
  } finally {
    if (sampler) clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await producer.disconnect();
    await server.stop();
  }
}

export default async function hostileBench(): Promise<void> {
  console.log(
    `hostile records: ${BOMBS} gzip bombs (100 MB each), ${HEADER_RECORDS} records with 25,000 headers, ${OVERSIZED} events of 1,048,400 bytes, ${JUNK} junk records; ${PROBES} ordinary events after them, ${PARTITIONS} partitions`,
  );
  const idle = await run(false);
  const busy = await run(true);
  const row = (label: string, r: typeof idle) =>
    console.log(`${label.padEnd(30)} peak RSS ${mb(r.peakRss).padStart(7)}  event latency p50 ${ms(median(r.latency)).padStart(7)}  max ${ms(Math.max(...r.latency)).padStart(7)}  all done in ${ms(r.drainMs)}`);
  row('idle replica (baseline)', idle);
  row('draining hostile records', busy);
  console.log(`ratios (hostile / idle): peak RSS ${(busy.peakRss / idle.peakRss).toFixed(2)}x, event latency p50 ${(median(busy.latency) / median(idle.latency)).toFixed(2)}x`);
}
