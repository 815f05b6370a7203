// Precision and cost of the retry ladder: 200 events spread over 4 partitions fail once or twice
// (half of them reach stage 2) and then succeed. For every retry attempt: actual start minus the
// scheduled due time (append time on the stage + the stage delay); CPU of this process while every
// record waits for stage 1. The same ladder runs through kafkajs-async-retry (a kafkajs plugin
// with an eachMessage wrapper) in the same run as the baseline.
// Target: p99 within 100 ms of schedule, near-zero CPU while waiting.
import type { Kafka } from 'kafkajs';
import { compileOptions, loadConfig } from '../src/config/index.js';
import { TransientFetchError, type Fetcher, type SyncResult } from '../src/fetch/index.js';
import type { KafkaClient } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';
import { encodeEvent, makeEvent, type RefEvent } from '../src/events/index.js';
import { benchClient, benchKafka } from './kafka.js';
import { startReplica } from '../src/replica/compose.js';
import { replicaTopics } from '../src/replica/topics.js';
import { delayFor, type RetryPolicy } from '../src/retry/index.js';
import { randomName, tempDir } from '../test/helpers/git.js';
import { waitFor } from '../test/helpers/wait.js';

const RECORDS = 200;
const PARTITIONS = 4;
const DELAYS_MS = [3000, 6000];
/** CPU is sampled over this window, while every record waits for its stage-1 due time. */
const IDLE_WINDOW_MS = 2000;
const RUN_LIMIT_MS = 90_000;

const policy: RetryPolicy = { stages: 2, initialDelayMs: DELAYS_MS[0] ?? 3000, multiplier: 2, maxDelayMs: 60_000, maxRetryPeriodMs: 600_000 };
const failuresOf = (i: number) => 1 + (i % 2);

interface RunResult {
  lateness: number[];
  idleCpuPercent: number;
  wallMs: number;
}

/** Attempt times per repository; fails a repository's first `failuresOf(i)` attempts. */
class Attempts {
  readonly times = new Map<string, number[]>();
  attempt(repo: string): boolean {
    const list = this.times.get(repo) ?? [];
    list.push(Date.now());
    this.times.set(repo, list);
    return list.length > failuresOf(Number(repo.split('/')[1]));
  }
  count(pred: (n: number, i: number) => boolean): number {
    let c = 0;
    for (let i = 0; i < RECORDS; i++) if (pred(this.times.get(`bench/${i}`)?.length ?? 0, i)) c++;
    return c;
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

async function idleCpu(attempts: Attempts): Promise<number> {
  await waitFor(() => attempts.count((n) => n >= 1) === RECORDS, { timeoutMs: RUN_LIMIT_MS, what: 'first attempts' });
  await new Promise((r) => setTimeout(r, 200));
  const before = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  const used = process.cpuUsage(before);
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  return ((used.user + used.system) / wallUs) * 100;
}

async function allDone(attempts: Attempts): Promise<void> {
  await waitFor(() => attempts.count((n, i) => n > failuresOf(i)) === RECORDS, { timeoutMs: RUN_LIMIT_MS, intervalMs: 50, what: 'every record to succeed' });
}

async function produceEvents(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const messages = Array.from({ length: RECORDS }, (_, i) => {
    const repo = `bench/${i}`;
    const event = makeEvent<RefEvent>({ kind: 'refs-updated', repo, origin: 'p', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: 'a'.repeat(40) }] } as never);
    return { key: repo, value: encodeEvent(event), partition: i % PARTITIONS };
  });
  await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
}

async function runPullrep(kafka: Kafka, client: KafkaClient): Promise<RunResult> {
  const events = randomName('bench-ladder');
  const replica = randomName('r');
  const settings: Record<string, unknown> = {
    'topics.events': events,
    'topics.partitions': PARTITIONS,
    'replica.name': replica,
    'replica.root': await tempDir('pullrep-bench-ladder-'),
    'primary.url': 'https://primary.invalid/{repo}',
    'http.port': 0,
    ...Object.fromEntries(Object.entries(policy).map(([k, v]) => [`retry.${k}`, v])),
  };
  const options = compileOptions(loadConfig({ overrides: settings }).config);
  const topics = replicaTopics(options.topics);
  const attempts = new Attempts();
  const ok = (repo: string): SyncResult => ({ repo, fetched: [], deleted: [], upToDate: [], created: false, recloned: false, durationMs: 0 });
  // The scheduler is what is measured: every sync is a stand-in that fails as planned, instantly.
  const fetcher: Fetcher = {
    syncRefs: async (repo) => {
      if (!attempts.attempt(repo)) throw new TransientFetchError('primary unreachable', 'connection');
      return ok(repo);
    },
    syncRepository: async (repo) => ok(repo),
    deleteRepository: async () => ({ deleted: false }),
    close: async () => undefined,
  };
  const { service } = await startReplica({ options, kafka: client, logger: silentLogger(), env: process.env, wrapFetcher: () => fetcher });
  const started = Date.now();
  await produceEvents(kafka, events);
  const idleCpuPercent = await idleCpu(attempts);
  await allDone(attempts);
  const wallMs = Date.now() - started;
  await service.close();
  const lateness: number[] = [];
  for (const [index, topic] of topics.retry.entries()) {
    const stage = index + 1;
    await client.readToEnd(topic, (_p, m) => {
      const at = attempts.times.get(m.key?.toString() ?? '')?.[stage];
      if (at !== undefined) lateness.push(at - (Number(m.timestamp) + delayFor(stage, policy)));
    });
  }
  return { lateness, idleCpuPercent, wallMs };
}

async function runAsyncRetry(kafka: Kafka, client: KafkaClient): Promise<RunResult> {
  const mod = (await import('kafkajs-async-retry')) as unknown as { default: { default?: unknown } };
  type Helper = import('kafkajs-async-retry').default;
  const HelperClass = (mod.default.default ?? mod.default) as new (config: import('kafkajs-async-retry').AsyncRetryConfig) => Helper;
  const events = randomName('bench-async');
  const groupId = randomName('g');
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const helper = new HelperClass({ producer, groupId, retryDelays: [3, 6], maxRetries: 2, maxWaitTime: 7000 });
  const admin = await client.admin();
  await admin.createMissingTopics([events, ...helper.retryTopics, `${groupId}-dlq`].map((topic) => ({ topic, numPartitions: PARTITIONS })));
  await admin.disconnect();
  const attempts = new Attempts();
  const lateness: number[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.CRASH, (e) => console.log(`kafkajs-async-retry consumer crashed (restart: ${e.payload.restart}): ${e.payload.error.name}: ${e.payload.error.message}`));
  await consumer.connect();
  await consumer.subscribe({ topics: [events, ...helper.retryTopics], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: PARTITIONS,
    eachMessage: helper.eachMessage(async ({ message, isRetry, processTime }) => {
      if (isRetry) lateness.push(Date.now() - processTime.getTime());
      if (!attempts.attempt(message.key?.toString() ?? '')) throw new TransientFetchError('primary unreachable', 'connection');
    }),
  });
  const started = Date.now();
  await produceEvents(kafka, events);
  const idleCpuPercent = await idleCpu(attempts);
  await allDone(attempts);
  const wallMs = Date.now() - started;
  await consumer.disconnect();
  await producer.disconnect();
  return { lateness, idleCpuPercent, wallMs };
}

function report(name: string, r: RunResult): void {
  const f = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `${name.padEnd(22)} retries ${String(r.lateness.length).padStart(3)}  p50 ${f(percentile(r.lateness, 50)).padStart(7)}  p99 ${f(percentile(r.lateness, 99)).padStart(7)}  ` +
      `max ${f(Math.max(...r.lateness)).padStart(7)}  min ${f(Math.min(...r.lateness)).padStart(7)}  CPU while waiting ${r.idleCpuPercent.toFixed(2)}%  wall ${(r.wallMs / 1000).toFixed(1)} s`,
  );
}

export default async function ladderBench(): Promise<void> {
  const kafka = benchKafka('bench-ladder');
  const client = benchClient('bench-ladder');
  console.log(`${RECORDS} events over ${PARTITIONS} partitions; stage delays ${DELAYS_MS.join(' / ')} ms; lateness = attempt start - scheduled due time`);
  const ours = await runPullrep(kafka, client);
  report('pullrep ladder', ours);
  const theirs = await runAsyncRetry(kafka, client);
  report('kafkajs-async-retry', theirs);
  const p99 = (r: RunResult) => Math.max(1, Math.abs(percentile(r.lateness, 99)));
  console.log(`p99 lateness ratio (kafkajs-async-retry / pullrep): ${(p99(theirs) / p99(ours)).toFixed(1)}x`);
}
