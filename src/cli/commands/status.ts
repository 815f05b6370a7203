import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';

export function registerStatus(program: Command, runtime: Runtime): void {
  reportCommand(program, 'status', "this replica's consumer lag per topic and partition, and its outstanding failures").action(async (opts: { json?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
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
