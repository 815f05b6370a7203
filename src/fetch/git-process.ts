import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/** How one git process ended. Non-zero exits are returned, not thrown; the caller classifies them. */
export interface GitOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The process was killed because it ran past its time limit. */
  timedOut: boolean;
  /** The process was killed because the caller's AbortSignal fired. */
  aborted: boolean;
  /** stdout went past the size this module keeps; `stdout` holds only its beginning. */
  truncated?: boolean;
  /** git could not be started at all (e.g. not installed); the spawn error's message. */
  spawnError?: string;
  /** With traceHttp: the HTTP statuses the server answered, in order. */
  httpStatuses?: number[];
  /** With traceHttp: the last Retry-After the server sent, in ms from when it was read. */
  retryAfterMs?: number;
}

export interface GitRunOptions {
  /**
   * Working directory; a repository is named with `--git-dir` in args instead where possible.
   * Default: the file system root, so that no repository around the caller's directory (its
   * `url.<x>.insteadOf`, `http.proxy`, …) applies to a git process that names none.
   */
  cwd?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Written to git's stdin, which is then closed. */
  input?: string;
  /**
   * Hands stdout to this, line by line without the newline, as it arrives, instead of keeping it
   * (`stdout` of the outcome stays empty): a listing of any size in bounded memory.
   */
  onLine?: (line: string) => void;
  /**
   * Reads the response headers of git's HTTP requests (GIT_TRACE_CURL on a pipe of its own, no
   * data, Authorization redacted by git) for the status and Retry-After of a throttling server.
   * Only those two are kept.
   */
  traceHttp?: boolean;
}

/** The pipe (file descriptor) git writes its HTTP trace to. */
const TRACE_FD = 3;

/** Where git runs unless told otherwise: no repository's configuration applies there. */
const NEUTRAL_CWD = '/';

const MAX_OUTPUT = 64 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;
/** Time between SIGTERM and SIGKILL when a process has to be stopped. */
const KILL_GRACE_MS = 2000;

/**
 * Runs `git <args>` with a time limit and an AbortSignal; either kills the process and its helpers
 * (SIGTERM, then SIGKILL). Arguments are passed as an array, never through a shell.
 */
export function runGit(args: string[], options: GitRunOptions): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const outcome: GitOutcome = { code: null, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false };
    if (options.signal?.aborted) {
      resolve({ ...outcome, aborted: true });
      return;
    }
    // Its own process group, so that stopping it also stops its helpers (git-remote-http, ssh),
    // which otherwise keep running and hold its output pipes open.
    const env = options.traceHttp ? { ...options.env, GIT_TRACE_CURL: String(TRACE_FD), GIT_TRACE_CURL_NO_DATA: '1', GIT_TRACE_REDACT: '1' } : options.env;
    const stdio: Array<'pipe'> = options.traceHttp ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'];
    const child = spawn('git', args, { cwd: options.cwd ?? NEUTRAL_CWD, env, stdio, detached: true });
    const trace = options.traceHttp ? child.stdio[TRACE_FD] : null;
    if (trace && 'on' in trace) readHttpTrace(trace as NodeJS.ReadableStream, outcome);
    const out: Buffer[] = [];
    let outBytes = 0;
    const { onLine } = options;
    const decoder = new StringDecoder('utf8');
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (onLine) {
        const lines = (partial + decoder.write(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
        return;
      }
      outBytes += chunk.length;
      if (outBytes <= MAX_OUTPUT) out.push(chunk);
      else outcome.truncated = true;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (outcome.stderr.length < MAX_STDERR) outcome.stderr += chunk.toString('utf8');
    });
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const stop = (): void => {
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      outcome.aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      outcome.stdout = Buffer.concat(out).toString('utf8');
      resolve(outcome);
    };
    child.on('error', (err) => {
      outcome.spawnError = err.message;
      finish();
    });
    child.on('close', (code, signal) => {
      const rest = partial + decoder.end();
      if (onLine && rest && code === 0) onLine(rest);
      outcome.code = code;
      outcome.signal = signal;
      finish();
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** A received header line of git's curl trace: `… <= Recv header: Name: value`. */
const RECV_HEADER = /<= Recv header: (.*)$/;

/** Keeps the HTTP statuses and the last Retry-After from git's curl trace; drops everything else as it arrives. */
function readHttpTrace(stream: NodeJS.ReadableStream, outcome: GitOutcome): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + decoder.write(chunk)).split('\n');
    partial = (lines.pop() ?? '').slice(-4096);
    for (const line of lines) {
      const header = RECV_HEADER.exec(line)?.[1]?.trim();
      if (!header) continue;
      const status = /^HTTP\/[\d.]+ (\d{3})\b/.exec(header)?.[1];
      if (status !== undefined) {
        // A new response: its own Retry-After, not an earlier one's.
        outcome.retryAfterMs = undefined;
        if ((outcome.httpStatuses ??= []).length < 64) outcome.httpStatuses.push(Number(status));
      }
      const retryAfter = /^retry-after:\s*(.+)$/i.exec(header)?.[1];
      if (retryAfter !== undefined) {
        const ms = retryAfterMs(retryAfter, Date.now());
        if (ms !== undefined) outcome.retryAfterMs = ms;
      }
    }
  });
  stream.on('error', () => undefined);
}

/** Retry-After as delay-seconds or an HTTP date, in ms from `now`; undefined when it is neither. */
export function retryAfterMs(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
