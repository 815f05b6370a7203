import { createServer } from 'node:net';

/** Whether nothing listens on a port of 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port whose next `count - 1` ports are free too (a local broker and its controller, or the
 * nodes of a cluster), below the kernel's ephemeral range (32768 and up on Linux): the servers
 * and client connections of the other tests take their ports from that range at any moment, so a
 * run found free there may be gone before the broker binds it. Starts at a random place so that
 * parallel tests rarely meet.
 */
export async function freePortRun(count: number, from = 20_000, to = 32_000): Promise<number> {
  const span = Math.floor((to - from) / count);
  const start = Math.floor(Math.random() * span);
  next: for (let i = 0; i < span; i++) {
    const port = from + count * ((start + i) % span);
    for (let k = 0; k < count; k++) if (!(await portFree(port + k))) continue next;
    return port;
  }
  throw new Error(`no ${count} free ports in a row between ${from} and ${to}`);
}

/** A port whose next port is free too: a local broker and its controller. */
export const freePortPair = (from?: number, to?: number): Promise<number> => freePortRun(2, from, to);

/** A port of 127.0.0.1 free now (the kernel's pick), for a server a test starts next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
