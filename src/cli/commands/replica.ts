import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';

export function registerReplica(program: Command, runtime: Runtime): void {
  program
    .command('replica')
    .description('run the replica: consume events and retry stages, fetch from the primary, serve metrics; stops cleanly on SIGTERM')
    .addHelpText(
      'after',
      `
Needs replica.root (where the replica's bare repositories live) and primary.url (a fetch URL
template with {repo}); the consumer group is replica.name. On start it creates the missing
topics: <topics.events>.<replica.name>.retry.1..N (retry.stages) and .failed.
A failed sync waits min(retry.initialDelayMs x retry.multiplier^(n-1), retry.maxDelayMs) on
stage n; what outlives the ladder or fails permanently goes to the failed topic
(pullrep failed list). Metrics and health: http://<http.host>:<http.port>/metrics, /healthz,
/readyz. SIGTERM or SIGINT: stop taking work, let running syncs finish for up to
replica.shutdownGraceMs, commit, exit 0. See docs/operations.md and docs/retry.md.
Example:
  PULLREP_REPLICA_NAME=replica-us PULLREP_REPLICA_ROOT=/srv/git-replica \\
  PULLREP_PRIMARY_URL='https://git.example.com/{repo}' pullrep replica`,
    )
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>());
      const { config } = ctx.loaded;
      if (!config.replica.root) throw new Error('replica.root must be set (PULLREP_REPLICA_ROOT)');
      if (!config.primary.url) throw new Error('primary.url must be set (PULLREP_PRIMARY_URL)');
      const { ReplicaService } = await import('../../replica/service.js');
      const { createFetcher } = await import('../../fetch/index.js');
      const fetcher = createFetcher({ config, logger: ctx.logger, env: runtime.env });
      let failure: unknown;
      const stopped = new Promise<void>((resolve) => {
        const service = new ReplicaService({
          config,
          kafka: ctx.kafka({ verbose: true }),
          fetcher,
          logger: ctx.logger,
          onFailed: (err) => {
            failure = err;
            resolve();
          },
        });
        runtime.onShutdown(() => service.close().then(resolve));
        service.start().catch((err: unknown) => {
          failure = err;
          resolve();
        });
      });
      await stopped;
      if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    });
}
