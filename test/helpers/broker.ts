import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './cli.js';
import { freePortPair } from './ports.js';

const run = promisify(execFile);
const script = join(repoRoot, 'scripts', 'kafka.sh');

/** A local broker of one test file's own (scripts/kafka.sh on a free port pair), which it may stop and start. */
export interface OwnBroker {
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  purge(): Promise<void>;
}

export async function ownBroker(): Promise<OwnBroker> {
  let port = 0;
  const broker = async (command: 'start' | 'stop' | 'purge') => {
    await run('bash', [script, command], { env: { ...process.env, PULLREP_KAFKA_PORT: String(port) }, timeout: 180_000 });
  };
  // A pair that was free can still be taken before the broker binds it: try another then.
  for (let attempt = 1; ; attempt++) {
    port = await freePortPair();
    try {
      await broker('start');
      break;
    } catch (err) {
      await broker('purge').catch(() => undefined);
      if (attempt === 3) throw err;
    }
  }
  return { port, start: () => broker('start'), stop: () => broker('stop'), purge: () => broker('purge') };
}
