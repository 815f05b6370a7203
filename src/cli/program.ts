import { Command } from 'commander';
import type { Runtime } from './context.js';
import { registerConfig } from './commands/config.js';
import { registerPublish } from './commands/publish.js';
import { registerHook } from './commands/hook.js';
import { registerSpool } from './commands/spool.js';
import { registerBackfill } from './commands/backfill.js';
import { registerReplica } from './commands/replica.js';
import { registerPrimary } from './commands/primary.js';
import { registerTopics } from './commands/topics.js';
import { registerFailed } from './commands/failed.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerVerify } from './commands/verify.js';
import { registerWait } from './commands/wait.js';

export { VERSION } from './version.js';
import { VERSION } from './version.js';

/** Builds the `pullrep` command tree. Each command lives in its own file under commands/. */
export function buildProgram(runtime: Runtime): Command {
  const program = new Command('pullrep')
    .description('Keeps read-only replicas of git repositories in step with a primary, through Kafka.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (JSON); also PULLREP_CONFIG')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace, silent')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => runtime.stdout.write(s),
      writeErr: (s) => runtime.stderr.write(s),
      // Argument errors read like every other failure of pullrep.
      outputError: (s, write) => write(s.replace(/^error: /, 'pullrep: ')),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Every configuration key is also an environment variable: PULLREP_ + the key in upper
snake case (kafka.brokers -> PULLREP_KAFKA_BROKERS). See README.md for the list.`,
  );
  registerConfig(program, runtime);
  registerPublish(program, runtime);
  registerHook(program, runtime);
  registerSpool(program, runtime);
  registerBackfill(program, runtime);
  registerPrimary(program, runtime);
  registerReplica(program, runtime);
  registerTopics(program, runtime);
  registerFailed(program, runtime);
  registerStatus(program, runtime);
  registerSync(program, runtime);
  registerVerify(program, runtime);
  registerWait(program, runtime);
  return program;
}
