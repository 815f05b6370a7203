import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import { counted, oneLine } from '../../text/index.js';

/** bin/pullrep.js of this installation, found from src/ and dist/ alike. */
const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'pullrep.js');

export function registerHook(program: Command, runtime: Runtime): void {
  const hook = program.command('hook').description('git hooks on the primary');
  hook
    .command('install')
    .description('install the publishing hook into a bare repository, or into every bare repository under a directory')
    .argument('<repo-or-root>', 'a bare repository, or a directory searched recursively (dot-directories skipped)')
    .addOption(
      new Option('--type <hook>', 'the hook to install').choices(['post-receive', 'reference-transaction']).default('post-receive'),
    )
    .option('--direct', 'a hook that runs `pullrep publish` itself (starts Node.js on every push), for a primary without `pullrep primary`')
    .option('--announce-wait', 'tell the pusher in one line what to wait for on a replica (`pullrep wait <repo> <ref> <oid>`); needs primary.root')
    .addHelpText(
      'after',
      `
By default the hook only writes the push to the spool (a few milliseconds, no Node.js) and
\`pullrep primary\` publishes it; while the agent is not running, pushes wait there and the
pusher is told so. Needs primary.root (or publish.spoolDir): the spool lives there.
An existing hook is kept: it is renamed <hook>.pullrep-chained and still runs, with the same
input. Running install again changes nothing. The hook calls this Node binary and this pullrep
by absolute path (when the spool cannot be written, or with --direct), and passes --config when
it was given here. See docs/primary.md.`,
    )
    .action(async (target: string, options: { type: 'post-receive' | 'reference-transaction'; direct?: boolean; announceWait?: boolean }) => {
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), { role: 'primary' });
      const { installHooks, spoolDirOf, installedCommand } = await import('../../publish/index.js');
      const configFile = program.opts<GlobalOptions>().config;
      // The hooks call the pullrep on PATH when it is this one (it survives upgrades), else this file.
      const installed = await installedCommand(cliPath, runtime.env.PATH);
      const command = installed ?? cliPath;
      await checkRuns(runtime.execPath, command);
      const results = await installHooks(resolve(target), {
        type: options.type,
        nodePath: runtime.execPath,
        cliPath: command,
        configFile: configFile ? resolve(configFile) : undefined,
        mode: options.direct ? 'direct' : 'spool',
        announceRoot: options.announceWait ? announceRoot(ctx.options.publish.root) : undefined,
        spoolDir: resolve(spoolDirOf(ctx.options.publish)),
      });
      for (const r of results) {
        if (r.error !== undefined) {
          runtime.stderr.write(`pullrep: cannot install ${r.hook}: ${oneLine(r.error)}\n`);
          continue;
        }
        runtime.stdout.write(`${r.change.padEnd(9)} ${r.hook}\n`);
        if (r.alsoInstalled) {
          runtime.stderr.write(`pullrep: warning: ${r.repo} also has pullrep's ${r.alsoInstalled} hook: every update is published twice; remove one\n`);
        }
        if (r.hooksDir) {
          runtime.stderr.write(`pullrep: warning: git runs the hooks of ${r.repo} from ${r.hooksDir} (core.hooksPath): the hook installed here never runs; copy it there or unset core.hooksPath\n`);
        }
      }
      runtime.stdout.write(
        installed
          ? `the hooks run ${installed} (with ${runtime.execPath} when it is there, else node on PATH)\n`
          : `the hooks run ${cliPath} (pullrep is not on PATH): run 'pullrep hook install' again if it moves; an installed pullrep (npm install -g) avoids that\n`,
      );
      // The spool keeps every push while Kafka is away; say so now rather than let it be found later.
      const { checkReachable } = await import('../../kafka/reachable.js');
      await checkReachable(ctx.options.kafka.brokers, ctx.options.kafka.connectionTimeoutMs).catch((err: Error) => {
        runtime.stderr.write(`pullrep: warning: ${oneLine(err.message)}; pushes wait in the spool until ${options.direct ? 'Kafka answers' : 'pullrep primary reaches it'}\n`);
      });
      const changed = results.filter((r) => r.change !== 'unchanged' && r.change !== 'failed').length;
      const failed = results.filter((r) => r.change === 'failed').length;
      runtime.stdout.write(`${options.type} hook: ${counted(results.length, 'repository', 'repositories')}, ${changed} changed${failed ? `, ${failed} failed` : ''}\n`);
      if (failed) throw new Error(`the hook could not be installed in ${failed} of ${counted(results.length, 'repository', 'repositories')}`);
    });
}

/** The hook's command must run this pullrep: checked once here rather than found out on a push. */
async function checkRuns(node: string, command: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  const { VERSION } = await import('../version.js');
  const out = await new Promise<string>((resolve) =>
    execFile(node, [command, '--version'], { timeout: 10_000 }, (err, stdout, stderr) => resolve(err ? `failed: ${oneLine(stderr || err.message)}` : stdout.trim())),
  );
  if (out !== VERSION) throw new Error(`the hook would run ${node} ${command}, which does not answer as pullrep ${VERSION} (${out.slice(0, 200)})`);
}

/** primary.root as the hook sees it from inside a repository (`pwd -P`): its real path. */
function announceRoot(root: string): string {
  if (!root) throw new Error('--announce-wait needs primary.root (PULLREP_PRIMARY_ROOT): the hook names repositories relative to it');
  return realpathSync(root).replace(/\/+$/, '');
}
