import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the server handled, as git http-backend saw it. */
export interface ServedRequest {
  method: string;
  path: string;
  query: string;
  /** The client's Git-Protocol header, passed to git as GIT_PROTOCOL ('' when absent). */
  gitProtocol: string;
  status: number;
  /** Bytes of the response body sent, and of the request body received. */
  bytesOut: number;
  bytesIn: number;
}

export interface GitHttpServerOptions {
  /** Directory of bare repositories served under /. */
  root: string;
  /** 0 = any free port. */
  port?: number;
  /** Allow pushes over HTTP (http.receivepack). */
  allowPush?: boolean;
  /** Each request is answered this much later: a network round trip to a distant primary. */
  delayMs?: number;
  /** Basic auth credentials the server demands, if any. */
  auth?: { username: string; password: string };
}

/**
 * A real git smart-HTTP server: each request runs `git http-backend` as a CGI program.
 * The Git-Protocol header is passed through so that protocol v2 is really negotiated.
 * It can be stopped and started again on the same port (outage tests).
 */
export class GitHttpServer {
  readonly requests: ServedRequest[] = [];
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private boundPort: number;
  /** When set, every request gets this HTTP status (e.g. 503) instead of git's answer. */
  failWith: number | undefined;
  /** Headers sent with failWith (e.g. { 'retry-after': '3' }). */
  failHeaders: Record<string, string> = {};

  constructor(private readonly options: GitHttpServerOptions) {
    this.boundPort = options.port ?? 0;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Base URL; a repository `a/b.git` is at `${url}/a/b.git`. */
  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    const delay = this.options.delayMs ?? 0;
    const server = createServer((req, res) => (delay > 0 ? void setTimeout(() => this.handle(req, res), delay) : this.handle(req, res)));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and cuts open connections; the port can be reused by start(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: ServedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.search.replace(/^\?/, ''),
      gitProtocol: String(req.headers['git-protocol'] ?? ''),
      status: 0,
      bytesOut: 0,
      bytesIn: 0,
    };
    req.on('data', (chunk: Buffer) => (record.bytesIn += chunk.length));
    this.requests.push(record);
    if (this.failWith) {
      record.status = this.failWith;
      res.writeHead(this.failWith, { 'content-type': 'text/plain', ...this.failHeaders }).end('unavailable\n');
      req.resume();
      return;
    }
    if (this.options.auth && !this.authorized(req)) {
      record.status = 401;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      req.resume();
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_PROJECT_ROOT: this.options.root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      REQUEST_METHOD: record.method,
      PATH_INFO: record.path,
      QUERY_STRING: record.query,
      CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: this.options.auth?.username ?? '',
      GIT_PROTOCOL: record.gitProtocol,
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      GATEWAY_INTERFACE: 'CGI/1.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
    const args = this.options.allowPush ? ['-c', 'http.receivepack=true', 'http-backend'] : ['http-backend'];
    const child = spawn('git', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.stderr.resume();
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        record.bytesOut += chunk.length;
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = findHeaderEnd(head);
      if (!end) return;
      headerDone = true;
      const { status, headers } = parseCgiHeaders(head.subarray(0, end.index).toString('latin1'));
      record.status = status;
      res.writeHead(status, headers);
      const rest = head.subarray(end.index + end.length);
      record.bytesOut += rest.length;
      if (rest.length) res.write(rest);
    });
    child.on('close', () => {
      if (!headerDone) {
        record.status = 500;
        res.writeHead(500).end();
      } else {
        res.end();
      }
    });
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Basic (.+)$/.exec(header);
    if (!match?.[1] || !this.options.auth) return false;
    const [user, ...pass] = Buffer.from(match[1], 'base64').toString().split(':');
    return user === this.options.auth.username && pass.join(':') === this.options.auth.password;
  }
}

function findHeaderEnd(buf: Buffer): { index: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return undefined;
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  return { status, headers };
}
