import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliPath } from './cli.js';
import { waitFor } from './wait.js';

/** A `pullrep primary` process a test runs, its log kept. */
export interface Agent {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

/** What an agent runs with: its configuration, its spool and a home directory. */
export interface AgentSetup {
  configFile: string;
  spool: string;
  /** HOME of the process. */
  base: string;
}

const running: ChildProcess[] = [];

/** Runs `pullrep primary`, its log kept. */
export function spawnAgent(setup: AgentSetup, env: NodeJS.ProcessEnv = {}): Agent {
  const child = spawn(process.execPath, [cliPath, '--config', setup.configFile, 'primary'], {
    env: { PATH: process.env.PATH, HOME: setup.base, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

/** Starts `pullrep primary`; resolves once it holds the spool (its pid is in .agent.pid). */
export async function startAgent(setup: AgentSetup, env: NodeJS.ProcessEnv = {}): Promise<Agent> {
  const agent = spawnAgent(setup, env);
  await waitFor(async () => (await readFile(join(setup.spool, '.agent.pid'), 'utf8').catch(() => '')).trim() === String(agent.child.pid), {
    timeoutMs: 30_000,
    what: `the agent to hold the spool; its log: ${agent.log()}`,
  });
  return agent;
}

/** Kills every agent still running (a test's afterEach). */
export function killAgents(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
