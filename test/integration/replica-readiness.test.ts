import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, tempDir } from '../helpers/git.js';
import { ownBroker, type OwnBroker } from '../helpers/broker.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { cliPath } from '../helpers/cli.js';

/** /readyz tells the truth about Kafka: `pullrep replica` against a broker of this test's own, stopped and started. */

let own: OwnBroker | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  own = await ownBroker();
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await own?.purge();
}, 60_000);

function readyz(httpPort: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path: '/readyz', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 2 s')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

describe('/readyz', () => {
  it('is 503 within seconds of the broker going away and 200 again after it returns', async () => {
    const httpPort = await freePort();
    const dir = await tempDir('pullrep-readiness-');
    const config = join(dir, 'replica.json');
    await writeFile(
      config,
      JSON.stringify({
        kafka: { brokers: [`127.0.0.1:${own?.port ?? 0}`] },
        topics: { events: randomName('events'), partitions: 1 },
        primary: { url: `file://${dir}/primary/{repo}` },
        replica: { name: randomName('rep'), root: join(dir, 'replica'), sessionTimeoutMs: 10_000 },
        http: { port: httpPort },
        log: { level: 'warn' },
      }),
    );
    const child = spawn(process.execPath, [cliPath, '--config', config, 'replica'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let log = '';
    child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    await waitFor(async () => (await readyz(httpPort)).status === 200, { timeoutMs: 60_000, what: `ready; log: ${log}` });

    await own?.stop();
    const stoppedAt = Date.now();
    let last: { status: number; body: string } | undefined;
    const down = await waitFor(async () => {
      last = await readyz(httpPort);
      return last.status === 503 ? last : undefined;
    }, { timeoutMs: 15_000, what: 'not ready once the broker is gone' }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer ${JSON.stringify(last)}; exit ${child.exitCode}; log: ${log.slice(-3000)}`);
    });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    // Whichever notices first: the broker probe, or the consumer losing its group.
    expect(down.body).toMatch(/^not ready: (Kafka does not answer|the consumer crashed|the consumer is not in its group)/);
    // Still alive: the liveness check is another question.
    expect(await new Promise<number>((resolve) => request({ host: '127.0.0.1', port: httpPort, path: '/healthz' }, (res) => resolve(res.statusCode ?? 0)).end())).toBe(200);

    await own?.start();
    await waitFor(async () => (await readyz(httpPort)).status === 200, { timeoutMs: 90_000, what: `ready again; log: ${log}` });
    child.kill('SIGTERM');
    // Its waits, with a broker stopped and started again, add up to more than the default limit.
  }, 240_000);
});
