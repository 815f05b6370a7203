import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';

export function registerStatus(program: Command, runtime: Runtime): void {
  reportCommand(program, 'status', "this replica's consumer lag and outstanding failures; on the primary, the agent, its spool and its last scan")
    .option('--primary', "the primary's view (the default when primary.root is set and replica.root is not)")
    .option('--replica', "the replica's view")
    .action(async (opts: { json?: boolean; primary?: boolean; replica?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      if (opts.primary && opts.replica) throw new Error('give --primary or --replica, not both');
      const onPrimary = opts.primary || (!opts.replica && ctx.options.publish.root !== '' && ctx.options.fetch.root === '');
      if (onPrimary) {
        const { spoolOf } = await import('../../publish/index.js');
        const { primaryStatus, renderPrimaryStatus } = await import('../../primary/status.js');
        const status = await primaryStatus(spoolOf(ctx.options.publish), ctx.options.publish.root);
        runtime.stdout.write(opts.json ? JSON.stringify(status, null, 2) + '\n' : renderPrimaryStatus(status));
        return;
      }
      const { replicaStatus } = await import('../../replica/status.js');
      const { replicaTopics } = await import('../../replica/topics.js');
      const { topics } = ctx.options;
      const status = await replicaStatus(ctx.kafka(), { replica: topics.replica, topics: replicaTopics(topics), stages: topics.stages });
      if (opts.json) {
        runtime.stdout.write(JSON.stringify(status, null, 2) + '\n');
        return;
      }
      runtime.stdout.write(`replica ${status.replica}\n`);
      for (const p of status.partitions) {
        runtime.stdout.write(`  ${p.topic} [${p.partition}]  committed ${p.committed ?? '-'}  end ${p.end}  lag ${p.lag}\n`);
      }
      runtime.stdout.write(`total lag ${status.totalLag}\noutstanding failures ${status.outstandingFailures}\n`);
    });
}
