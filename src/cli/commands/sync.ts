import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import { counted } from '../../text/index.js';
import type { CommandContext } from '../context.js';

/**
 * What `sync --all` covers: the replica's repositories and, unless told not to, every one the
 * catalog lists (those the primary deleted are left out). No catalog topic yet: the local ones.
 */
async function allRepositories(ctx: CommandContext, local: string[], withCatalog: boolean): Promise<string[]> {
  if (!withCatalog) return local;
  const { CatalogView } = await import('../../catalog/view.js');
  const { KafkaUnreachableError, MissingTopicError } = await import('../../kafka/index.js');
  const catalog = new CatalogView(ctx.logger);
  try {
    await ctx.kafka().readToEnd(ctx.options.heal.catalogTopic, (_p, message) => catalog.apply(message));
  } catch (err) {
    if (err instanceof KafkaUnreachableError) {
      ctx.runtime.stderr.write(`pullrep: warning: ${err.message}; syncing only what replica.root holds (--no-catalog says so without trying)\n`);
      return local;
    }
    if (!(err instanceof MissingTopicError)) throw err;
    ctx.runtime.stderr.write(`pullrep: the catalog ${ctx.options.heal.catalogTopic} does not exist (no \`pullrep primary\` yet); syncing what replica.root holds\n`);
  }
  return [...new Set([...local.filter((name) => !catalog.deleted(name)), ...catalog.repositories()])].sort();
}

interface SyncCliOptions {
  all?: boolean;
  json?: boolean;
  catalog?: boolean;
}

/** Operators' commands around the fetch engine: sync now, and scheduled housekeeping. */
export function registerSync(program: Command, runtime: Runtime): void {
  program
    .command('sync')
    .description("make a replica repository's refs equal to the primary's now")
    .argument('[repo]', 'repository name, e.g. group/app.git')
    .argument('[refs...]', 'full ref names (refs/heads/main …); none = every ref, pruning what the primary no longer has')
    .option('--all', 'sync every repository the catalog lists (topics.catalog) and every one present in replica.root, of those this replica selects (replica.shard, replica.repos)')
    .option('--no-catalog', 'with --all: only the repositories present in replica.root (no Kafka needed)')
    .option('--json', 'print one JSON result per repository')
    .addHelpText(
      'after',
      `
Examples:
  pullrep sync group/app.git refs/heads/main refs/tags/v1.2
  pullrep sync group/app.git        # everything, with pruning
  pullrep sync --all              # bootstrap by hand: every repository of the catalog
  pullrep sync --all --no-catalog # what replica.root holds
--all shows a progress bar on a terminal (a line every few seconds otherwise).
Exits 1 when any repository failed (its reason is printed).`,
    )
    .action(async (repo: string | undefined, refs: string[], options: SyncCliOptions) => {
      if (options.all ? repo !== undefined : repo === undefined) throw new Error('give a repository name or --all (not both)');
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'replica' });
      const { compileSelection } = await import('../../repos/selection.js');
      const selection = compileSelection(ctx.options.selection);
      const { repoNameProblem } = await import('../../events/index.js');
      // A malformed name goes on, to be refused with its reason.
      if (repo !== undefined && repoNameProblem(repo) === undefined && !selection.selects(repo)) {
        throw new Error(`${repo} is not selected by this replica (${selection.describe()}); sync it on the replica that keeps it`);
      }
      const { createFetcher } = await import('../../fetch/index.js');
      const fetcher = createFetcher({ options: ctx.options.fetch, logger: ctx.logger, env: runtime.env });
      let names = repo === undefined ? await allRepositories(ctx, await fetcher.listRepositories(), options.catalog !== false) : [repo];
      if (!selection.all) {
        // Only what this replica keeps; one kept here that is no longer selected is left as it is.
        const all = names.length;
        names = names.filter((name) => selection.selects(name));
        if (all > names.length) runtime.stderr.write(`pullrep: ${all - names.length} of ${counted(all, 'repository', 'repositories')} not selected by this replica (${selection.describe()}); syncing ${names.length}\n`);
      }
      const { createProgress } = await import('../progress.js');
      const progress = options.all ? createProgress({ stream: runtime.stderr, total: names.length, label: 'repositories synced' }) : undefined;
      // On a terminal the bar shows the progress; the per-repository lines would break it.
      const quiet = progress !== undefined && !options.json && Boolean((runtime.stdout as { isTTY?: boolean }).isTTY);
      let failed = 0;
      let done = 0;
      await Promise.all(
        names.map(async (name) => {
          try {
            const result = refs.length ? await fetcher.syncRefs(name, refs) : await fetcher.syncRepository(name);
            const { fetched, deleted, upToDate } = result;
            if (!quiet) runtime.stdout.write(
              options.json
                ? JSON.stringify(result) + '\n'
                : `${name}: ${fetched.length} fetched, ${deleted.length} deleted, ${upToDate.length} up to date` +
                    `${result.created ? ', created' : ''}${result.recloned ? ', re-cloned' : ''}` +
                    `${result.excluded?.length ? `, ${result.excluded.length} left out (replica.refs)` : ''} (${result.durationMs} ms)\n`,
            );
          } catch (err) {
            failed += 1;
            runtime.stderr.write(`${progress ? '\n' : ''}${name}: ${(err as Error).message}\n`);
          } finally {
            progress?.update(++done);
          }
        }),
      );
      progress?.finish();
      await fetcher.close();
      if (failed) throw new Error(`${failed} of ${counted(names.length, 'repository', 'repositories')} failed to sync`);
      if (quiet) runtime.stdout.write(`${counted(names.length, 'repository', 'repositories')} synced\n`);
    });

  program
    .command('maintenance')
    .description('housekeeping of replica repositories: pack refs, roll up small packs (kept off the fetch path)')
    .argument('[repo]', 'one repository; default: every repository in replica.root')
    .action(async (repo: string | undefined) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { keys: ['replica.root'] });
      const { createFetcher } = await import('../../fetch/index.js');
      const fetcher = createFetcher({ options: ctx.options.fetch, logger: ctx.logger, env: runtime.env });
      const names = repo === undefined ? await fetcher.listRepositories() : [repo];
      let failed = 0;
      for (const name of names) {
        try {
          const { durationMs } = await fetcher.maintain(name);
          runtime.stdout.write(`${name}: maintenance done (${durationMs} ms)\n`);
        } catch (err) {
          failed += 1;
          runtime.stderr.write(`${name}: ${(err as Error).message}\n`);
        }
      }
      await fetcher.close();
      if (failed) throw new Error(`${failed} of ${counted(names.length, 'repository', 'repositories')} failed maintenance`);
    });
}
