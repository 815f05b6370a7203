// What the publishing hook adds to a push: median time of `git push` (one new commit) to a
// bare repository with the installed post-receive hook vs. the same push to one without,
// measured alternately in the same run, with the broker up. Target: under 150 ms added.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gitEnv, makeBareRepo, randomName, tempDir, WorkClone } from '../test/helpers/git.js';
import { benchBrokers, benchClient } from './kafka.js';
import { median } from './stats.js';

const run = promisify(execFile);
const ROUNDS = 30;
const WARMUP = 3;
const TIME_LIMIT_MS = 120_000;


async function timedPush(work: WorkClone): Promise<number> {
  await work.commit();
  const started = process.hrtime.bigint();
  await run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: work.dir, env: gitEnv });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export default async function hookBench(): Promise<void> {
  const brokers = benchBrokers();
  const base = await tempDir('pullrep-bench-hook-');
  const root = join(base, 'repos');
  const topic = randomName('bench-events');
  const configFile = join(base, 'pullrep.json');
  await writeFile(configFile, JSON.stringify({ kafka: { brokers }, topics: { events: topic, partitions: 1 }, primary: { root } }));
  const admin = await benchClient('bench').admin();
  await admin.createMissingTopics([{ topic, numPartitions: 1 }]);
  await admin.disconnect();

  const hooked = await makeBareRepo(root, 'hooked.git');
  const plain = await makeBareRepo(root, 'plain.git');
  const cli = join(import.meta.dirname, '..', 'bin', 'pullrep.js');
  await run(process.execPath, [cli, '--config', configFile, 'hook', 'install', hooked]);
  const works = { hooked: await WorkClone.of(hooked), plain: await WorkClone.of(plain) };
  for (let i = 0; i < WARMUP; i++) {
    await timedPush(works.plain);
    await timedPush(works.hooked);
  }
  const times = { hooked: [] as number[], plain: [] as number[] };
  const started = Date.now();
  for (let i = 0; i < ROUNDS && Date.now() - started < TIME_LIMIT_MS; i++) {
    times.plain.push(await timedPush(works.plain));
    times.hooked.push(await timedPush(works.hooked));
  }
  const m = { hooked: median(times.hooked), plain: median(times.plain) };
  console.log(`git push, one new commit, ${times.plain.length} rounds (after ${WARMUP} warm-up rounds), broker ${brokers.join(',')}`);
  console.log(`  unhooked repository (baseline): median ${m.plain.toFixed(1)} ms`);
  console.log(`  hooked repository (pullrep publish): median ${m.hooked.toFixed(1)} ms`);
  console.log(`  added by the hook: ${(m.hooked - m.plain).toFixed(1)} ms at the median (target < 150 ms); ratio ${(m.hooked / m.plain).toFixed(2)}x`);
  // Other processes on the machine inflate the medians; the fastest rounds show the cost without them.
  const fastest = { hooked: Math.min(...times.hooked), plain: Math.min(...times.plain) };
  console.log(`  fastest round: ${fastest.plain.toFixed(1)} ms unhooked, ${fastest.hooked.toFixed(1)} ms hooked, ${(fastest.hooked - fastest.plain).toFixed(1)} ms added`);
}
