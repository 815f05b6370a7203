import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import { counted } from '../../text/index.js';

interface SyncCliOptions {
  all?: boolean;
  json?: boolean;
}

/** Operators' commands around the fetch engine: sync now, and scheduled housekeeping. */
export function registerSync(program: Command, runtime: Runtime): void {
  program
    .command('sync')
    .description("make a replica repository's refs equal to the primary's now")
    .argument('[repo]', 'repository name, e.g. group/app.git')
    .argument('[refs...]', 'full ref names (refs/heads/main …); none = every ref, pruning what the primary no longer has')
    .option('--all', 'sync every repository present in replica.root')
    .option('--json', 'print one JSON result per repository')
    .addHelpText(
      'after',
      `
Examples:
  pullrep sync group/app.git refs/heads/main refs/tags/v1.2
  pullrep sync group/app.git        # everything, with pruning
  pullrep sync --all
Exits 1 when any repository failed (its reason is printed).`,
    )
    .action(async (repo: string | undefined, refs: string[], options: SyncCliOptions) => {
      if (options.all ? repo !== undefined : repo === undefined) throw new Error('give a repository name or --all (not both)');
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'replica' });
      const { createFetcher } = await import('../../fetch/index.js');
      const fetcher = createFetcher({ options: ctx.options.fetch, logger: ctx.logger, env: runtime.env });
      const names = repo === undefined ? await fetcher.listRepositories() : [repo];
      let failed = 0;
      await Promise.all(
        names.map(async (name) => {
          try {
            const result = refs.length ? await fetcher.syncRefs(name, refs) : await fetcher.syncRepository(name);
            const { fetched, deleted, upToDate } = result;
            runtime.stdout.write(
              options.json
                ? JSON.stringify(result) + '\n'
                : `${name}: ${fetched.length} fetched, ${deleted.length} deleted, ${upToDate.length} up to date` +
                    `${result.created ? ', created' : ''}${result.recloned ? ', re-cloned' : ''} (${result.durationMs} ms)\n`,
            );
          } catch (err) {
            failed += 1;
            runtime.stderr.write(`${name}: ${(err as Error).message}\n`);
          }
        }),
      );
      await fetcher.close();
      if (failed) throw new Error(`${failed} of ${counted(names.length, 'repository', 'repositories')} failed to sync`);
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
