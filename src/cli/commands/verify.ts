import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { makeContext, type GlobalOptions, type Runtime } from '../context.js';
import type { VerifyEntry } from '../../verify/index.js';
import { counted, hasUnprintable, renderTable } from '../../text/index.js';

/** A repository this replica does not select (replica.shard, replica.repos): listed, never compared or repaired. */
type Entry = VerifyEntry & { notSelected?: true };

interface VerifyCliOptions {
  all?: boolean;
  json?: boolean;
  repair?: boolean;
  localPrimary?: boolean;
}

/** `pullrep verify`: is each replica repository's set of refs the primary's? */
export function registerVerify(program: Command, runtime: Runtime): void {
  program
    .command('verify')
    .description("compare replica repositories' ref checksums with the primary's (XOR of SHA-1 of each '<oid> <refname>')")
    .argument('[repos...]', 'repository names, e.g. group/app.git')
    .option('--all', 'every repository in replica.root (and in primary.root with --local-primary) this replica selects (replica.shard, replica.repos)')
    .option('--json', 'one JSON object per repository instead of a table')
    .option('--repair', 'sync each differing (or not read-only) repository from the primary, then compare it again')
    .option('--local-primary', "read the primary's refs from primary.root on this host instead of over the network")
    .addHelpText(
      'after',
      `
Counts every ref under refs/ (HEAD does not count; with replica.refs, only the refs it selects,
on both sides). Exits 0 when every repository is equal,
1 when any differs, is missing or could not be compared. A repository this replica does not
select (replica.shard, replica.repos) is listed as "not selected" and not compared; --all lists
those only when replica.root still holds them. See docs/verify.md.
Examples:
  pullrep verify group/app.git
  pullrep verify --all --json
  pullrep verify --all --repair`,
    )
    .action(async (repos: string[], options: VerifyCliOptions) => {
      if (options.all && repos.length > 0) throw new Error('give repository names or --all, not both');
      if (!options.all && repos.length === 0) throw new Error("name the repositories to verify, or give --all for every one (pullrep verify --help)");
      const localPrimary = options.localPrimary ?? false;
      const needs = localPrimary ? { keys: ['replica.root', 'primary.root', ...(options.repair ? ['primary.url'] : [])] } : { role: 'replica' as const };
      const ctx = makeContext(runtime, program.opts<GlobalOptions>(), needs);
      const { createVerifier, verifyMany, repairDiffering, isEqual, isSound } = await import('../../verify/index.js');
      const { createProgress } = await import('../progress.js');
      // On SIGINT/SIGTERM, stop the git processes (each runs in its own process group, so the
      // terminal's signal does not reach them). The handler never settles: the command then ends
      // with the aborted repositories' errors and exit status 1, not as a success.
      const stop = new AbortController();
      runtime.onShutdown(() => {
        stop.abort();
        return new Promise<void>(() => undefined);
      });
      const { signal } = stop;
      const verifier = createVerifier({ options: ctx.options.verify, logger: ctx.logger, env: runtime.env, localPrimary, signal });
      const { compileSelection } = await import('../../repos/selection.js');
      const { repoPathUnder } = await import('../../fetch/index.js');
      const { repoNameProblem } = await import('../../events/index.js');
      const selection = compileSelection(ctx.options.selection);
      // A malformed name is verified, to be refused with its reason.
      const selected = (name: string) => selection.selects(name) || repoNameProblem(name) !== undefined;
      const listed = options.all ? await verifier.repositories() : repos;
      const names = listed.filter(selected);
      // --all: the primary's other repositories belong to other replicas; only a copy kept here is listed.
      const kept = (name: string) => !options.all || existsSync(repoPathUnder(ctx.options.verify.replicaRoot, name, 'replica.root'));
      const notSelected: Entry[] = listed
        .filter((name) => !selected(name) && kept(name))
        .map((repo) => ({ repo, primary: null, replica: null, equal: false, missingOnReplica: false, missingOnPrimary: false, notSelected: true }));
      const progress = options.all ? createProgress({ stream: runtime.stderr, total: names.length, label: 'repositories checked' }) : undefined;
      const onEntry = (_entry: VerifyEntry, done: number) => progress?.update(done);
      const batch = { verifier, signal, concurrency: ctx.options.verify.concurrency, onEntry };
      let entries = await verifyMany(names, batch);
      if (options.repair && entries.some((e) => !isSound(e))) {
        const { createFetcher } = await import('../../fetch/index.js');
        const fetcher = createFetcher({ options: ctx.options.fetch, logger: ctx.logger, env: runtime.env });
        try {
          entries = await repairDiffering(entries, { ...batch, fetcher });
        } finally {
          await fetcher.close();
        }
      }
      progress?.finish();
      const order = new Map(listed.map((name, i) => [name, i]));
      const shownEntries: Entry[] = [...entries, ...notSelected].sort((a, b) => (order.get(a.repo) ?? 0) - (order.get(b.repo) ?? 0));
      if (options.json) for (const e of shownEntries) runtime.stdout.write(JSON.stringify(e) + '\n');
      else runtime.stdout.write(table(shownEntries));
      for (const e of entries) if (e.error !== undefined) runtime.stderr.write(`${shown(e.repo)}: ${e.error}\n`);
      for (const e of entries) if (e.notReadOnly !== undefined) runtime.stderr.write(`${shown(e.repo)}: not read-only: ${e.notReadOnly}\n`);
      const unverified = entries.filter((e) => e.error !== undefined).length;
      const differing = entries.filter((e) => !isEqual(e)).length - unverified;
      const writable = entries.filter((e) => e.notReadOnly !== undefined).length;
      const alsoWritable = writable ? `; ${writable} not read-only` : '';
      if (differing || unverified) {
        throw new Error(`${differing} of ${counted(entries.length, 'repository', 'repositories')} ${differing === 1 ? 'differs' : 'differ'} from the primary${unverified ? `; ${unverified} could not be verified` : ''}${alsoWritable}`);
      }
      if (writable) throw new Error(`${writable} of ${counted(entries.length, 'repository', 'repositories')} ${writable === 1 ? 'is' : 'are'} not read-only (replica.readOnly)`);
      // Named on the command line but kept by another replica: nothing was compared, say so.
      if (!options.all && notSelected.length) {
        throw new Error(`${notSelected.map((e) => shown(e.repo)).join(', ')} ${notSelected.length === 1 ? 'is' : 'are'} not selected by this replica (${selection.describe()}); verify ${notSelected.length === 1 ? 'it' : 'them'} on the replica that keeps ${notSelected.length === 1 ? 'it' : 'them'}`);
      }
    });
}

/** A name as typed on the command line may hold control characters; show those quoted. */
function shown(repo: string): string {
  return hasUnprintable(repo) ? JSON.stringify(repo) : repo;
}

function status(e: Entry): string {
  const what =
    e.notSelected ? 'not selected'
    : e.error !== undefined ? 'error'
    : e.missingOnPrimary ? 'missing on primary'
    : e.missingOnReplica ? 'missing on replica'
    : e.equal ? 'equal'
    : e.unselected ? `differs (holds ${e.unselected} ${e.unselected === 1 ? 'ref' : 'refs'} replica.refs leaves out)`
    : 'differs';
  const checked = e.notReadOnly !== undefined ? `${what}, not read-only` : what;
  return e.repaired ? `${checked} (repaired)` : checked;
}

function table(entries: readonly Entry[]): string {
  const columns = [{ header: 'REPOSITORY' }, { header: 'STATUS' }, { header: 'PRIMARY' }, { header: 'REPLICA' }];
  return renderTable(columns, entries.map((e) => [shown(e.repo), status(e), e.primary ?? '-', e.replica ?? '-']));
}
