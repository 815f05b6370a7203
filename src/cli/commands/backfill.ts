import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import { counted } from '../../text/index.js';

export function registerBackfill(program: Command, runtime: Runtime): void {
  program
    .command('backfill')
    .description('publish a full-sync event for every repository under primary.root (bootstraps a new replica)')
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'primary' });
      const { publish } = ctx.options;
      const { backfill, openPublishing } = await import('../../publish/index.js');
      const { createProgress } = await import('../progress.js');
      const publishing = openPublishing({ options: publish, logger: ctx.logger, kafka: () => ctx.publishKafka() });
      try {
        const summary = await backfill({
          root: publish.root,
          origin: publish.origin,
          topic: publish.topic,
          publishing,
          progress: (total) => createProgress({ stream: runtime.stderr, total, label: 'repositories' }),
        });
        for (const line of summary.problems) runtime.stderr.write(`pullrep: ${line}\n`);
        runtime.stdout.write(
          `repositories found: ${summary.found}, published: ${summary.published}, spooled: ${summary.spooled}, failed: ${summary.failed}\n`,
        );
        if (summary.failed > 0) throw new Error(`${counted(summary.failed, 'repository', 'repositories')} could not be published or spooled`);
      } finally {
        await publishing.close();
      }
    });
}
