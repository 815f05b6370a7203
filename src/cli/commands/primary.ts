import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';

export function registerPrimary(program: Command, runtime: Runtime): void {
  program
    .command('primary')
    .description('run the primary agent: publish the pushes the hooks spool, keep the catalog, serve metrics; stops cleanly on SIGTERM')
    .addHelpText(
      'after',
      `
Needs primary.root (the primary's bare repositories). Install the hook with
'pullrep hook install <primary.root>': it writes each push to the spool
(<primary.root>/.pullrep-spool unless publish.spoolDir says otherwise) and returns; the agent
notices it at once, produces its event to topics.events and deletes it once Kafka acknowledged it.
Pushes made while the agent is not running wait in the spool and are sent when it starts.
It keeps the catalog (topics.catalog, compacted: one record per repository with its ref checksum)
up to date after every push, and scans primary.root every primary.scanIntervalMs for
repositories created, changed or deleted without a hook.
Metrics and health: http://<http.host>:<http.port>/metrics, /healthz, /readyz.
See docs/primary.md and docs/catalog.md.
Example:
  PULLREP_PRIMARY_ROOT=/srv/git PULLREP_KAFKA_BROKERS=kafka1:9092 pullrep primary`,
    )
    .action(async () => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'primary' });
      // The agent starts while Kafka is down (pushes wait in the spool), but not with credentials
      // or a certificate the brokers refuse: that stops the start in one line.
      const { ssl, sasl } = ctx.options.kafka;
      if (ssl.enabled || sasl.mechanism) {
        const { KafkaAccessError } = await import('../../kafka/index.js');
        await ctx.kafka().checkAccess().catch((err: unknown) => {
          if (err instanceof KafkaAccessError) throw err;
        });
      }
      const { startPrimary } = await import('../../primary/agent.js');
      let done: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => (done = resolve));
      let failure: unknown;
      const shutdown = new AbortController();
      const starting = startPrimary({ options: ctx.options, kafka: ctx.kafka({ verbose: true }), logger: ctx.logger, env: runtime.env, signal: shutdown.signal });
      // A signal during start-up (waiting for another agent's lock, say) ends the start; after it, a clean stop.
      runtime.onShutdown(() => {
        shutdown.abort();
        return starting.then((agent) => agent.close(), () => undefined).then(done);
      });
      starting.catch((err: unknown) => {
        if (!shutdown.signal.aborted) failure = err;
        done();
      });
      await stopped;
      if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    });
}
