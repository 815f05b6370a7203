import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'pullrep.js');

describe('pullrep verify stopped by a signal', () => {
  // A primary that accepts connections and never answers: git ls-remote waits on it.
  const open = new Set<Socket>();
  let closed = 0;
  const silent = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      closed += 1;
    });
    socket.on('error', () => undefined);
    socket.resume(); // read (and drop) the request, so the peer's end is seen
  });
  beforeAll(() => new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve)));
  afterAll(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('stops its git processes and exits 1, not as a success', async () => {
    const { port } = silent.address() as AddressInfo;
    const child = spawn(process.execPath, [bin, 'verify', 'g/slow.git'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PULLREP_PRIMARY_URL: `http://127.0.0.1:${port}/{repo}`,
        PULLREP_REPLICA_ROOT: await tempDir('pullrep-replica-'),
        PULLREP_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': all of its output has arrived.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(() => open.size > 0, { what: "git ls-remote's connection to the silent primary" });
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/^g\/slow\.git: git ls-remote of g\/slow\.git failed \(aborted\)/m);
    // The git process (in its own process group) was stopped too: its connection is gone.
    await waitFor(() => open.size === 0 && closed > 0, { what: 'the connection to close', timeoutMs: 10_000 });
  });
});
