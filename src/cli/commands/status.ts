import type { Command } from 'commander';
import { makeContext, reportCommand, type GlobalOptions, type Runtime } from '../context.js';
import { REPO_STATES } from '../../state/types.js';
import { printRepoStatus, type RepoStatusOptions } from './status-repos.js';

export function registerStatus(program: Command, runtime: Runtime): void {
  reportCommand(program, 'status', "this replica's consumer lag and outstanding failures; on the primary, the agent, its spool and its last scan")
    .option('--primary', "the primary's view (the default when primary.root is set and replica.root is not)")
    .option('--replica', "the replica's view")
    .option('--partitions', 'every partition of every topic, not one line per topic')
    .option('--repo <name>', 'one repository of this replica: state, lag, last event, sync, failure and verification (no Kafka needed)')
    .option('--repos', 'every repository of this replica, one line each (no Kafka needed)')
    .option('--state <state>', `with --repos: only this state (${REPO_STATES.join(', ')})`)
    .option('--sort <field>', 'with --repos: repo (default), lag (worst first), state or sync')
    .addHelpText(
      'after',
      `
Examples:
  pullrep status                      # lag per topic, failures, repositories per state, worst lag
  pullrep status --repo group/app.git
  pullrep status --repos --state retrying --sort lag
  pullrep status --repos --json       # fields: docs/operations.md`,
    )
    .action(async (opts: RepoStatusOptions & { primary?: boolean; replica?: boolean; partitions?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      if (opts.primary && opts.replica) throw new Error('give --primary or --replica, not both');
      if ((opts.state !== undefined || opts.sort !== undefined) && !opts.repos) throw new Error('--state and --sort go with --repos');
      if (opts.repo !== undefined && opts.repos) throw new Error('give --repo or --repos, not both');
      if (opts.repo !== undefined || opts.repos) return printRepoStatus(ctx, opts);
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
      const { healingStatus, renderHealingStatus } = await import('../../replica/healing-status.js');
      const { compileSelection } = await import('../../repos/selection.js');
      const selection = compileSelection(ctx.options.selection);
      const status = await replicaStatus(ctx.kafka(), { replica: topics.replica, topics: replicaTopics(topics), stages: topics.stages });
      const healing = ctx.options.fetch.root ? healingStatus(ctx.options.fetch.root, Date.now(), (repo) => selection.selects(repo)) : undefined;
      if (opts.json) {
        const { shard, include, exclude } = selection.options;
        const selected = { description: selection.describe(), shard: shard ? `${shard.index}/${shard.count}` : null, include, exclude };
        runtime.stdout.write(JSON.stringify({ ...status, selection: selected, healing: healing ?? null }, null, 2) + '\n');
        return;
      }
      runtime.stdout.write(`replica ${status.replica}\n`);
      if (!selection.all) runtime.stdout.write(`selection: ${selection.describe()}\n`);
      const { renderTable } = await import('../../text/index.js');
      if (opts.partitions) {
        const columns = [{ header: 'TOPIC' }, { header: 'PARTITION', align: 'right' as const }, { header: 'COMMITTED', align: 'right' as const }, { header: 'END', align: 'right' as const }, { header: 'LAG', align: 'right' as const }];
        runtime.stdout.write(renderTable(columns, status.partitions.map((p) => [p.topic, String(p.partition), p.committed === null ? '-' : String(p.committed), String(p.end), String(p.lag)])));
      } else {
        const columns = [{ header: 'TOPIC' }, { header: 'PARTITIONS', align: 'right' as const }, { header: 'RECORDS', align: 'right' as const }, { header: 'LAG', align: 'right' as const }];
        runtime.stdout.write(renderTable(columns, status.topics.map((t) => [t.topic, String(t.partitions), String(t.end), String(t.lag)])));
      }
      runtime.stdout.write(`total lag ${status.totalLag}\noutstanding failures ${status.outstandingFailures}${status.outstandingFailures ? ' (pullrep failed list)' : ''}\n`);
      if (ctx.options.fetch.root) runtime.stdout.write(renderHealingStatus(healing));
    });
}
