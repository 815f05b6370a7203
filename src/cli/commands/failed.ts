import type { Command } from 'commander';
import type { FailureEntry } from '../../failed/index.js';
import type { KafkaClient, RecordSink } from '../../kafka/index.js';
import { makeContext, type CommandContext, type GlobalOptions, type Runtime } from '../context.js';

/** The outstanding failures; only those `keepValue` selects keep their event in memory. */
async function outstanding(ctx: CommandContext, keepValue?: (entry: FailureEntry) => boolean) {
  const { readOutstanding } = await import('../../failed/index.js');
  const { replicaTopics } = await import('../../replica/topics.js');
  const topics = replicaTopics(ctx.options.topics);
  const kafka = ctx.kafka();
  const entries = await readOutstanding(kafka, { topic: topics.failed, stages: ctx.options.topics.stages, ...(keepValue ? { keepValue } : {}) });
  return { entries, topics, kafka };
}

async function withSink<T>(ctx: CommandContext, kafka: KafkaClient, work: (sink: RecordSink) => Promise<T>): Promise<T> {
  const sink = await kafka.sink();
  try {
    return await work(sink);
  } finally {
    await sink.disconnect().catch((err: unknown) => ctx.logger.warn({ err }, 'producer disconnect failed'));
  }
}

export function registerFailed(program: Command, runtime: Runtime): void {
  const failed = program.command('failed').description("this replica's failed events: list, show, replay, resolve");
  const context = () => makeContext(runtime, program.opts<GlobalOptions>());

  failed
    .command('list')
    .description('list outstanding failures (not those already replayed or resolved)')
    .option('--repo <repo>', 'only this repository')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option('--table', 'print a table (the default on a terminal)')
    .action(async (opts: { repo?: string; json?: boolean; table?: boolean }) => {
      const { listJson, listTable } = await import('../../failed/index.js');
      const { entries } = await outstanding(context());
      const shown = opts.repo === undefined ? entries : entries.filter((e) => e.repo === opts.repo);
      const json = opts.json ?? (opts.table ? false : !runtime.stdout.isTTY);
      runtime.stdout.write(json ? listJson(shown) : listTable(shown));
    });

  failed
    .command('show')
    .description('show one failure: the event, its headers and error history')
    .argument('<id>', 'failure id (from failed list)')
    .action(async (id: string) => {
      const { pick, showJson } = await import('../../failed/index.js');
      const { entries } = await outstanding(context(), (e) => e.id === id);
      const [entry] = pick(entries, [id]);
      if (entry) runtime.stdout.write(showJson(entry));
    });

  failed
    .command('replay')
    .description("put failed events back into this replica's processing (its retry stage 1, due at once) and mark them resolved")
    .argument('[ids...]', 'failure ids')
    .option('--repo <repo>', "every outstanding failure of this repository")
    .option('--all', 'every outstanding failure')
    .option('--dry-run', 'only print what would be replayed')
    .action(async (ids: string[], opts: { repo?: string; all?: boolean; dryRun?: boolean }) => {
      const selectors = [ids.length > 0, opts.repo !== undefined, Boolean(opts.all)].filter(Boolean).length;
      if (selectors !== 1) throw new Error('name failure ids, or --repo <repo>, or --all (exactly one of them)');
      const ctx = context();
      const { pick, replay } = await import('../../failed/index.js');
      const wanted = new Set(ids);
      const selected = (e: FailureEntry) => Boolean(opts.all) || (opts.repo !== undefined ? e.repo === opts.repo : wanted.has(e.id));
      const { entries, topics, kafka } = await outstanding(ctx, selected);
      const chosen = opts.all ? entries : opts.repo !== undefined ? entries.filter((e) => e.repo === opts.repo) : pick(entries, ids);
      for (const e of chosen) runtime.stdout.write(`${opts.dryRun ? 'would replay' : 'replaying'} ${e.id} ${e.repo ?? '(undecodable)'}\n`);
      if (opts.dryRun || chosen.length === 0) {
        runtime.stdout.write(`${chosen.length} ${opts.dryRun ? 'would be replayed' : 'replayed'}\n`);
        return;
      }
      const admin = await kafka.admin();
      const partitions = await admin.describeTopics([topics.events]).finally(() => admin.disconnect());
      await withSink(ctx, kafka, (sink) =>
        replay(
          { sink, topics, replica: ctx.options.topics.replica, partitions: partitions.get(topics.events)?.partitions ?? 0, now: Date.now },
          chosen,
        ),
      );
      runtime.stdout.write(`${chosen.length} replayed\n`);
    });

  failed
    .command('resolve')
    .description('mark failures resolved without replaying them')
    .argument('<ids...>', 'failure ids')
    .action(async (ids: string[]) => {
      const ctx = context();
      const { pick, tombstone } = await import('../../failed/index.js');
      const { entries, topics, kafka } = await outstanding(ctx);
      const chosen = pick(entries, ids);
      await withSink(ctx, kafka, (sink) => tombstone(sink, topics.failed, chosen));
      runtime.stdout.write(`${chosen.length} resolved\n`);
    });
}
