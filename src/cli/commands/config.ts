import { Option, type Command } from 'commander';
import { readCaFile, ROLE_KEYS, type Role } from '../../config/index.js';
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
    .addOption(new Option('--role <role>', 'also check what this role needs').choices(Object.keys(ROLE_KEYS)))
    .addHelpText(
      'after',
      `
--role primary needs ${ROLE_KEYS.primary.join(', ')}; --role replica needs ${ROLE_KEYS.replica.join(', ')}.
A PULLREP_ variable that matches no key fails the check too (a typo is otherwise ignored), and so
does a kafka.ssl.ca that is not a readable PEM file.`,
    )
    .action((options: { role?: Role }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), options.role ? { role: options.role } : {});
      // What the Kafka client reads when it starts.
      if (ctx.options.kafka.ssl.ca) readCaFile(ctx.options.kafka.ssl.ca);
      if (ctx.loaded.warnings.length) throw new Error(`configuration has ${ctx.loaded.warnings.length} problem(s); see the warnings above`);
      runtime.stdout.write(`configuration is valid${options.role ? ` for the ${options.role} role` : ''}\n`);
    });
}
