import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';
import { age, counted, oneLine, renderTable, type Column } from '../../text/index.js';

export function registerSpool(program: Command, runtime: Runtime): void {
  const spool = program.command('spool').description("the primary's spool of events Kafka has not acknowledged yet");
  reportCommand(spool, 'list', 'show the waiting events, oldest first: repository, refs, age').action(async (options: { json?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { spoolOf } = await import('../../publish/index.js');
      const items = await spoolOf(ctx.options.publish).list();
      const now = Date.now();
      if (options.json) {
        const rows = items.map((i) => ({ ...i, spooledAt: i.spooledAt.toISOString(), ageMs: now - i.spooledAt.getTime() }));
        runtime.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (items.length === 0) {
        runtime.stdout.write('spool is empty\n');
        return;
      }
      const columns: Column[] = [{ header: 'AGE' }, { header: 'REFS', align: 'right' }, { header: 'KIND' }, { header: 'REPOSITORY' }];
      const rows = items.map((i) => [age(now - i.spooledAt.getTime()), String(i.refs), i.kind, i.problem ? `${i.stuck ? 'STUCK' : 'INVALID'} ${i.name}: ${oneLine(i.problem)}` : i.repo]);
      runtime.stdout.write(renderTable(columns, rows));
      const invalid = items.filter((i) => i.problem && !i.stuck).length;
      const pushes = items.filter((i) => i.kind === 'push').length;
      const waiting = items.length - invalid;
      runtime.stdout.write(`${counted(waiting, 'file')} waiting: ${counted(pushes, 'push', 'pushes')}, ${counted(waiting - pushes, 'event')}${invalid ? `; ${invalid} invalid (never sent)` : ''}\n`);
    });
  spool
    .command('flush')
    .description('send every waiting event to Kafka, oldest first; exit 1 (nothing lost) when Kafka does not acknowledge')
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { flushSpool, openPublishing } = await import('../../publish/index.js');
      const publishing = openPublishing({ options: ctx.options.publish, logger: ctx.logger, kafka: () => ctx.publishKafka() });
      try {
        const result = await flushSpool(publishing);
        for (const file of result.quarantined) runtime.stderr.write(`pullrep: warning: invalid spooled event moved aside: ${file}\n`);
        runtime.stdout.write(`${counted(result.sent, 'file')} sent\n`);
      } finally {
        await publishing.close();
      }
    });
}
