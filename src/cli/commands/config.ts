import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';

export function registerConfig(program: Command, runtime: Runtime): void {
  const config = program.command('config').description('show or check the effective configuration');
  config
    .command('print')
    .description('print the effective configuration as JSON (secrets redacted)')
    .action(() => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      runtime.stdout.write(JSON.stringify(ctx.loaded.redacted(), null, 2) + '\n');
    });
  config
    .command('check')
    .description('validate the configuration; exit 1 with the reasons when it is invalid')
    .action(() => {
      makeContext(runtime, program.opts<GlobalOptions>());
      runtime.stdout.write('configuration is valid\n');
    });
}
