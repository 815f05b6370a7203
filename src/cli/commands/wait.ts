import { request } from 'node:http';
import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';

/** `10s`, `500ms`, `2m`, or plain milliseconds. */
export function parseTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--timeout ${JSON.stringify(text)} is not a duration (e.g. 10s, 500ms, 2m)`);
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n);
}

interface WaitAnswer {
  matched?: boolean;
  current?: string | null;
  waitedMs?: number;
  error?: string;
}

export function registerWait(program: Command, runtime: Runtime): void {
  program
    .command('wait')
    .description('wait until this replica holds <ref> at <oid> (asks the running `pullrep replica` at http.host:http.port)')
    .argument('<repo>', 'repository name, e.g. group/app.git')
    .argument('<ref>', 'full ref name, e.g. refs/heads/main')
    .argument('<oid>', 'the object id the ref must hold')
    .option('--timeout <duration>', 'give up after this long (10s, 500ms, 2m; at most 5m)', '10s')
    .option('--or-newer', 'a descendant of <oid> is as good (a later push arrived first)')
    .addHelpText(
      'after',
      `
Exits 0 as soon as the ref holds the oid (or, with --or-newer, a descendant), 1 with the ref's
current value when the timeout passes first. Answered by the replica's sync path, not by polling.
Example, in CI after a push to the primary:
  pullrep wait group/app.git refs/heads/main "$(git rev-parse HEAD)" --timeout 30s && git fetch replica`,
    )
    .action(async (repo: string, ref: string, oid: string, opts: { timeout: string; orNewer?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const timeoutMs = parseTimeout(opts.timeout);
      const { host, port } = ctx.options.http;
      if (port === 0) throw new Error('the replica serves waits on its HTTP endpoint; http.port is 0 (off)');
      const query = new URLSearchParams({ ref, oid, timeoutMs: String(timeoutMs), ...(opts.orNewer ? { orNewer: 'true' } : {}) });
      const path = `/v1/repos/${encodeURIComponent(repo)}/wait?${query}`;
      const { status, body } = await get(host, port, path, timeoutMs + 10_000);
      let answer: WaitAnswer;
      try {
        answer = JSON.parse(body) as WaitAnswer;
      } catch {
        throw new Error(`the replica at ${host}:${port} answered ${status} without JSON; is it pullrep replica?`);
      }
      if (status === 400) throw new Error(answer.error ?? 'the request was refused');
      if (status === 200 && answer.matched) {
        runtime.stdout.write(`${repo} ${ref} at ${answer.current ?? oid} on this replica (waited ${answer.waitedMs ?? 0} ms)\n`);
        return;
      }
      if (status === 408) {
        throw new Error(`timed out after ${opts.timeout}: ${repo} ${ref} is ${answer.current ? `at ${answer.current}` : 'absent'} on this replica, not ${opts.orNewer ? 'at or after ' : 'at '}${oid}`);
      }
      throw new Error(`the replica at ${host}:${port} answered ${status}: ${answer.error ?? body.trim()}`);
    });
}

function get(host: string, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot reach the replica at ${host}:${port} (http.host, http.port): ${err.code === 'ECONNREFUSED' ? 'connection refused; is pullrep replica running?' : err.message}`)),
    );
    req.end();
  });
}
