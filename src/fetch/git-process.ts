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
}

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
    const child = spawn('git', args, { cwd: options.cwd ?? NEUTRAL_CWD, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
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
