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
 * A port whose next port is free too (a local broker and its controller), below the kernel's
 * ephemeral range (32768 and up on Linux): the servers and client connections of the other tests
 * take their ports from that range at any moment, so a pair found free there may be gone before
 * the broker binds it. Starts at a random place so that parallel tests rarely meet.
 */
export async function freePortPair(from = 20_000, to = 32_000): Promise<number> {
  const span = Math.floor((to - from) / 2);
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = from + 2 * ((start + i) % span);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error(`no free port pair between ${from} and ${to}`);
}

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
