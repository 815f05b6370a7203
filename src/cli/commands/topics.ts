import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';
import { renderTable } from '../../text/index.js';

export function registerTopics(program: Command, runtime: Runtime): void {
  const topics = program.command('topics').description("the events topic and this replica's retry and failed topics");
  reportCommand(topics, 'ensure', "create the missing topics (retry topics get the events topic's partition count)")
    .action(async (opts: { json?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { ensureTopics } = await import('../../replica/topics.js');
      const admin = await ctx.kafka().admin();
      try {
        const result = await ensureTopics(admin, ctx.options.topics);
        for (const warning of result.warnings) runtime.stderr.write(`pullrep: warning: ${warning}\n`);
        if (opts.json) {
          runtime.stdout.write(JSON.stringify({ created: result.created, partitions: result.partitions, warnings: result.warnings }, null, 2) + '\n');
          return;
        }
        for (const topic of result.created) runtime.stdout.write(`created ${topic}\n`);
        runtime.stdout.write(`topics ready (${result.partitions} partitions per ladder topic)\n`);
      } finally {
        await admin.disconnect();
      }
    });
  reportCommand(topics, 'list', "list this replica's topics with their partition counts and replication factors").action(async (opts: { json?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { replicaTopics } = await import('../../replica/topics.js');
      const { allTopics } = await import('../../retry/index.js');
      const names = allTopics(replicaTopics(ctx.options.topics));
      const admin = await ctx.kafka().admin();
      try {
        const states = await admin.describeTopics(names);
        const rows = names.map((topic) => ({ topic, partitions: states.get(topic)?.partitions ?? null, replicationFactor: states.get(topic)?.replicationFactor ?? null }));
        if (opts.json) runtime.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else {
          const cells = rows.map((r) => (r.partitions === null ? [r.topic, 'missing', ''] : [r.topic, String(r.partitions), String(r.replicationFactor)]));
          runtime.stdout.write(renderTable([{ header: 'TOPIC' }, { header: 'PARTITIONS', align: 'right' }, { header: 'REPLICATION', align: 'right' }], cells));
          const { replicationWarnings } = await import('../../kafka/index.js');
          for (const warning of replicationWarnings(states.values(), await admin.brokerCount(), ctx.options.topics.replicationFactor)) runtime.stderr.write(`pullrep: warning: ${warning}\n`);
        }
      } finally {
        await admin.disconnect();
      }
    });
}
