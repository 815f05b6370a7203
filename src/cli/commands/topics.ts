import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';

export function registerTopics(program: Command, runtime: Runtime): void {
  const topics = program.command('topics').description("the events topic and this replica's retry and failed topics");
  topics
    .command('ensure')
    .description('create the missing topics (retry topics get the events topic\'s partition count)')
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { ensureTopics } = await import('../../replica/topics.js');
      const admin = await ctx.kafka().admin();
      try {
        const result = await ensureTopics(admin, ctx.options.topics);
        for (const topic of result.created) runtime.stdout.write(`created ${topic}\n`);
        for (const warning of result.warnings) runtime.stderr.write(`warning: ${warning}\n`);
        runtime.stdout.write(`topics ready (${result.partitions} partitions per ladder topic)\n`);
      } finally {
        await admin.disconnect();
      }
    });
  reportCommand(topics, 'list', "list this replica's topics with their partition counts").action(async (opts: { json?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { replicaTopics } = await import('../../replica/topics.js');
      const { allTopics } = await import('../../retry/index.js');
      const names = allTopics(replicaTopics(ctx.options.topics));
      const admin = await ctx.kafka().admin();
      try {
        const states = await admin.describeTopics(names);
        const rows = names.map((topic) => ({ topic, partitions: states.get(topic)?.partitions ?? null }));
        if (opts.json) runtime.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else for (const r of rows) runtime.stdout.write(`${r.topic}\t${r.partitions ?? 'missing'}\n`);
      } finally {
        await admin.disconnect();
      }
    });
}
