import type { Logger } from '../log/index.js';
import { classify, type ClassifyContext } from './classify.js';
import { baseConfigArgs } from './git-env.js';
import { runGit, type GitOutcome } from './git-process.js';

/** What every git invocation of one sync shares. */
export interface GitRunner {
  /** Runs git; a failure becomes a classified FetchError (thrown). */
  run(args: string[], options: RunOptions): Promise<GitOutcome>;
  /** Runs git and returns the outcome whatever it is (the caller inspects failures). */
  attempt(args: string[], options: RunOptions): Promise<GitOutcome>;
  /** Turns a failed outcome into a classified FetchError. */
  fail(outcome: GitOutcome, what: string): Error;
}

export interface RunOptions {
  what: string;
  gitDir?: string;
  cwd?: string;
  input?: string;
  /** Extra `-c key=value` settings for this invocation. */
  config?: string[];
}

export interface RunnerDeps {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  secrets: readonly string[];
  publishedAt?: Date | undefined;
  missingRepoGraceMs: number;
  now: () => number;
  logger: Logger;
  /** Read the HTTP statuses and Retry-After of the primary's answers (an http or https primary). */
  traceHttp?: boolean;
}

/** The git commands pullrep runs that reach the primary. */
const REMOTE_COMMANDS = new Set(['fetch', 'ls-remote', 'clone']);

export function gitRunner(deps: RunnerDeps): GitRunner {
  const context = (what: string): ClassifyContext => ({
    what,
    secrets: deps.secrets,
    publishedAt: deps.publishedAt,
    missingRepoGraceMs: deps.missingRepoGraceMs,
    now: deps.now(),
  });
  const attempt = async (args: string[], options: RunOptions): Promise<GitOutcome> => {
    const full = [...baseConfigArgs()];
    for (const c of options.config ?? []) full.push('-c', c);
    if (options.gitDir) full.push(`--git-dir=${options.gitDir}`);
    full.push(...args);
    const started = deps.now();
    const outcome = await runGit(full, {
      env: deps.env,
      timeoutMs: deps.timeoutMs,
      signal: deps.signal,
      // Only the commands that talk to the primary make HTTP requests worth reading.
      traceHttp: (deps.traceHttp ?? false) && REMOTE_COMMANDS.has(args[0] ?? ''),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
    deps.logger.trace({ git: args[0], ms: deps.now() - started, code: outcome.code }, 'git');
    return outcome;
  };
  const fail = (outcome: GitOutcome, what: string): Error => classify(outcome, context(what));
  return {
    attempt,
    fail,
    async run(args, options) {
      const outcome = await attempt(args, options);
      if (outcome.code !== 0) throw fail(outcome, options.what);
      return outcome;
    },
  };
}
