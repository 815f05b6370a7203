import { Option, type Command } from 'commander';
import { PathResolutionError, PublishInputError, SpoolError } from '../../publish/errors.js';

/** Exit status of `publish` for a push nothing can publish; the hook spools on any other failure. */
export const INVALID_PUSH_EXIT = 3;
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import { counted, oneLine } from '../../text/index.js';

const STATES = ['prepared', 'committed', 'aborted'];

interface PublishOptions {
  hook?: 'post-receive' | 'reference-transaction';
  repo?: string;
  echoStdin?: boolean;
}

async function readStdin(runtime: Runtime): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of runtime.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function echo(runtime: Runtime, text: string): Promise<void> {
  // A chained hook that does not read its stdin (or stops early) closes the pipe: that must
  // neither fail publish nor end it before the event is out, as a generic EPIPE handler would.
  runtime.stdout.removeAllListeners('error');
  runtime.stdout.on('error', () => undefined);
  await new Promise<void>((resolve) => runtime.stdout.write(text, () => resolve()));
}

export function registerPublish(program: Command, runtime: Runtime): void {
  program
    .command('publish')
    .description('publish the ref updates git gives a post-receive or reference-transaction hook on stdin')
    .argument('[state]', 'reference-transaction state (prepared, committed, aborted); only committed publishes')
    .addOption(new Option('--hook <type>', 'the hook that runs this').choices(['post-receive', 'reference-transaction']))
    .option('--repo <name>', 'repository name (default: the hook repository relative to primary.root)')
    .option('--echo-stdin', 'copy stdin to stdout, for a chained hook')
    .addHelpText(
      'after',
      `
Reads "<old> <new> <ref>" lines. Exits 0 when the event was acknowledged by Kafka or spooled
(one warning line); 3 with a one-line reason when the push itself is invalid (a malformed line,
an unsafe ref or repository name, a repository outside primary.root: nothing is published);
1 for any other failure (the configuration, say), after which the hook spools the push.`,
    )
    .action(async (state: string | undefined, options: PublishOptions) => {
      const hook = options.hook ?? (state !== undefined ? 'reference-transaction' : 'post-receive');
      if (state !== undefined && !STATES.includes(state)) throw new Error(`unknown reference-transaction state ${JSON.stringify(state).slice(0, 40)}`);
      const input = await readStdin(runtime);
      if (options.echoStdin) await echo(runtime, input);
      if (hook === 'reference-transaction' && state !== 'committed') return;
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'primary' });
      // Only what publishing needs: this runs on every push.
      const { runPublish } = await import('../../publish/run-publish.js');
      const outcome = await runPublish({
        options: ctx.options.publish,
        kafka: () => ctx.publishKafka(),
        logger: ctx.logger,
        input,
        hook,
        repo: options.repo,
        gitDir: runtime.env.GIT_DIR,
        cwd: runtime.cwd,
      }).catch((err: unknown) => {
        // The push itself is unusable (a malformed line, an unsafe name): the hook must not spool
        // it. A path that cannot be resolved now is the machine's trouble: the hook spools.
        if (err instanceof PublishInputError && !(err instanceof PathResolutionError)) Object.assign(err, { exitCode: INVALID_PUSH_EXIT });
        throw err;
      });
      if (outcome && outcome.result.spooled > 0) {
        const { error } = outcome.result;
        const { ProduceTimeoutError, networkCause } = await import('../../kafka/index.js');
        const cause = networkCause(error);
        const why =
          error instanceof SpoolError ? `the spool could not be drained (${oneLine(error.message).slice(0, 200)})`
          : cause ? `Kafka at ${ctx.options.kafka.brokers.join(', ')} cannot be reached: ${cause}`
          : error instanceof ProduceTimeoutError ? `Kafka did not acknowledge within ${ctx.options.publish.timeoutMs} ms`
          : `Kafka did not take it (${oneLine(error?.message ?? 'no acknowledgement').slice(0, 200)})`;
        const { spooled, waiting } = outcome.result;
        runtime.stderr.write(
          `pullrep: warning: ${counted(spooled, 'event')} of ${outcome.repo} spooled: ${why}; ` +
            `${waiting} waiting in ${outcome.spoolDir}, sent by pullrep primary, the next publish or 'pullrep spool flush'\n`,
        );
      }
    });
}
