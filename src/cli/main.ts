import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { oneLine } from '../text/index.js';
import type { Runtime } from './context.js';

/**
 * The entry point: the only place that reads process.env (and the process's working directory
 * and executable), installs signal handlers and turns failures into an exit status with a
 * one-line reason. Commands get all of it through `Runtime`.
 */
const shutdownHandlers: Array<() => Promise<void>> = [];
let shuttingDown = false;

function onSignal(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    process.stderr.write(`pullrep: ${signal} again; exiting now\n`);
    process.exit(130);
  }
  shuttingDown = true;
  Promise.allSettled(shutdownHandlers.map((h) => h())).then(() => process.exit(0));
}

// A reader that goes away (`pullrep … | head`) is not an error of ours: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const runtime: Runtime = {
  env: process.env,
  cwd: process.cwd(),
  execPath: process.execPath,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  // The handlers are installed with the first registration, so a signal always finds one.
  onShutdown(handler) {
    if (shutdownHandlers.length === 0) {
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    shutdownHandlers.push(handler);
  },
};


async function main(): Promise<void> {
  const program = buildProgram(runtime);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`pullrep: ${oneLine(err) || 'unknown error'}\n`);
    process.exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1;
  } finally {
    // The command is done: end promptly even if the Kafka client left a retry timer or a
    // half-open socket behind (a hook must never linger). Unref'd, so it fires only when
    // something else still holds the event loop.
    setTimeout(() => process.exit(), 300).unref();
  }
}

await main();
