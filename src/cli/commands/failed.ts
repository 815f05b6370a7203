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
    .description('show one failure: what failed, why, since when, and its error history (--json: everything, the event and its headers included)')
    .argument('<id>', 'failure id (from failed list)')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option('--table', 'print the view for people (the default on a terminal)')
    .action(async (id: string, opts: { json?: boolean; table?: boolean }) => {
      const ctx = context();
      const { readFailedTopic, showJson, showText } = await import('../../failed/index.js');
      const { replicaTopics } = await import('../../replica/topics.js');
      const topics = replicaTopics(ctx.options.topics);
      const json = opts.json ?? (opts.table ? false : !runtime.stdout.isTTY);
      const { outstanding, closed } = await readFailedTopic(ctx.kafka(), { topic: topics.failed, stages: ctx.options.topics.stages, keepValue: (e) => e.id === id });
      const open = outstanding.find((e) => e.id === id);
      const done = open ? undefined : closed.get(id);
      const entry = open ?? done?.entry;
      if (!entry) throw new Error(`no failure ${JSON.stringify(id).slice(0, 80)} on ${topics.failed}; pullrep failed list shows the outstanding ones`);
      if (json) {
        const dump = JSON.parse(showJson(entry)) as Record<string, unknown>;
        runtime.stdout.write(JSON.stringify({ ...dump, outstanding: !done, ...(done ? { closedAt: done.closedAt } : {}) }, null, 2) + '\n');
      } else runtime.stdout.write(showText(entry, done?.closedAt));
    });

  failed
    .command('replay')
    .description("put failed events back into this replica's processing (its retry stage 1, due at once) and mark them resolved")
    .argument('[ids...]', 'failure ids')
    .option('--repo <repo>', "every outstanding failure of this repository")
    .option('--all', 'every outstanding failure')
    .option('--dry-run', 'only print what would be replayed')
    .option('--json', 'print JSON: the ids replayed (or that would be), with their repositories')
    .action(async (ids: string[], opts: { repo?: string; all?: boolean; dryRun?: boolean; json?: boolean }) => {
      const selectors = [ids.length > 0, opts.repo !== undefined, Boolean(opts.all)].filter(Boolean).length;
      if (selectors !== 1) throw new Error('name failure ids, or --repo <repo>, or --all (exactly one of them)');
      const ctx = context();
      const { pick, replay } = await import('../../failed/index.js');
      const wanted = new Set(ids);
      const selected = (e: FailureEntry) => Boolean(opts.all) || (opts.repo !== undefined ? e.repo === opts.repo : wanted.has(e.id));
      const { entries, topics, kafka } = await outstanding(ctx, selected);
      const chosen = opts.all ? entries : opts.repo !== undefined ? entries.filter((e) => e.repo === opts.repo) : pick(entries, ids);
      const report = () => {
        if (opts.json) {
          const rows = chosen.map((e) => ({ id: e.id, repository: e.repo }));
          runtime.stdout.write(JSON.stringify({ dryRun: Boolean(opts.dryRun), replayed: opts.dryRun ? 0 : chosen.length, failures: rows }, null, 2) + '\n');
        } else runtime.stdout.write(`${chosen.length} ${opts.dryRun ? 'would be replayed' : 'replayed'}\n`);
      };
      if (!opts.json) for (const e of chosen) runtime.stdout.write(`${opts.dryRun ? 'would replay' : 'replaying'} ${e.id} ${e.repo ?? '(undecodable)'}\n`);
      if (opts.dryRun || chosen.length === 0) return report();
      const admin = await kafka.admin();
      const partitions = await admin.describeTopics([topics.events]).finally(() => admin.disconnect());
      await withSink(ctx, kafka, (sink) =>
        replay(
          { sink, topics, replica: ctx.options.topics.replica, partitions: partitions.get(topics.events)?.partitions ?? 0, now: Date.now },
          chosen,
        ),
      );
      report();
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
