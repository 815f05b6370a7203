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
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'replica' });
      // A broker that does not answer at all, or refuses the credentials or the TLS handshake,
      // stops the start in one line (a service manager starts it again), rather than after the
      // client's retries. The quiet client: the line says it all.
      await ctx.kafka().checkAccess();
      const { startReplica } = await import('../../replica/compose.js');
      let failure: unknown;
      let done: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => (done = resolve));
      const starting = startReplica({
        options: ctx.options,
        kafka: ctx.kafka({ verbose: true }),
        logger: ctx.logger,
        env: runtime.env,
        onFailed: (err) => {
          failure = err;
          done();
        },
      });
      // A signal during start-up waits for it, then shuts down what it started.
      runtime.onShutdown(() => starting.then(({ service }) => service.close(), () => undefined).then(done));
      starting.catch((err: unknown) => {
        failure = err;
        done();
      });
      await stopped;
      if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    });
}
