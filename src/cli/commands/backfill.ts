import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';

export function registerBackfill(program: Command, runtime: Runtime): void {
  program
    .command('backfill')
    .description('publish a full-sync event for every repository under primary.root (bootstraps a new replica)')
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { config } = ctx.loaded;
      if (!config.primary.root) throw new Error('primary.root is not set');
      const { backfill, openPublishing } = await import('../../publish/index.js');
      const { createProgress } = await import('../progress.js');
      const publishing = openPublishing(config, ctx.logger);
      try {
        const summary = await backfill({
          root: config.primary.root,
          origin: config.primary.name,
          topic: config.topics.events,
          publishing,
          progress: (total) => createProgress({ stream: runtime.stderr, total, label: 'repositories' }),
        });
        for (const line of summary.problems) runtime.stderr.write(`pullrep: ${line}\n`);
        runtime.stdout.write(
          `repositories found: ${summary.found}, published: ${summary.published}, spooled: ${summary.spooled}, failed: ${summary.failed}\n`,
        );
        if (summary.failed > 0) throw new Error(`${summary.failed} repositories could not be published or spooled`);
      } finally {
        await publishing.close();
      }
    });
}
