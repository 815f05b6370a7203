// Runs every benchmark in bench/ (files named *.bench.ts), or those named on the command line:
//   npm run bench                 all of them
//   npm run bench -- fetch        only bench/fetch*.bench.ts
// Each benchmark prints its figures and ratios against a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installKafkaWorkarounds } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';

// As the CLI does before its first Kafka client (BENCH_KAFKAJS_IDLE_TIMERS=keep measures kafkajs as shipped).
if (process.env.BENCH_KAFKAJS_IDLE_TIMERS !== 'keep') installKafkaWorkarounds(silentLogger());

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x)))
  .sort();
if (files.length === 0) {
  console.error(`bench: nothing matches ${filters.join(', ')}`);
  process.exit(1);
}
for (const file of files) {
  console.log(`\n### ${file}`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
  await mod.default();
}
