import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/index.js';

export interface HttpEndpoint {
  /** The port really bound (with port 0, the ephemeral port chosen). */
  port: number;
  close(): Promise<void>;
}

/**
 * /metrics (Prometheus text), /healthz (the process answers), /readyz (the consumers are running).
 */
export async function startHttpEndpoint(deps: {
  host: string;
  port: number;
  logger: Logger;
  /** The Prometheus text exposition of every registered metric. */
  metrics: () => Promise<string>;
  ready: () => boolean;
  /** Why it is not ready, for /readyz's body. */
  notReadyBecause?: () => string | undefined;
  /** Further routes (the replica's /v1/…); true when it answered the request. */
  route?: (path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target\n');
      return;
    }
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      deps.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: unknown) => {
          deps.logger.warn({ err }, 'collecting metrics failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = deps.ready();
      const why = ready ? undefined : deps.notReadyBecause?.();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : `not ready${why ? `: ${why}` : ''}\n`);
    } else if (deps.route?.(path, url.searchParams, req, res)) {
      // answered
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deps.logger.info({ host: deps.host, port }, 'metrics and health endpoint listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
