import type { CommandContext } from '../context.js';
import { REPO_STATES, type RepoStateName } from '../../state/types.js';
import type { RepoView } from '../../replica/repo-view.js';
import { age, renderTable } from '../../text/index.js';

export interface RepoStatusOptions {
  json?: boolean;
  repo?: string;
  repos?: boolean;
  state?: string;
  sort?: string;
}

const SORTS = ['repo', 'lag', 'state', 'sync'] as const;

/**
 * `pullrep status --repo R` and `--repos`: read from the replica's state in replica.root, no Kafka
 * needed. `--repos` shows only the repositories this replica selects (replica.shard,
 * replica.repos); `--repo` shows one it no longer selects as such.
 */
export async function printRepoStatus(ctx: CommandContext, opts: RepoStatusOptions): Promise<void> {
  const { SyncStateStore } = await import('../../state/store.js');
  const { repoView, repoViews } = await import('../../replica/repo-view.js');
  const { compileSelection } = await import('../../repos/selection.js');
  const selection = compileSelection(ctx.options.selection);
  const root = ctx.options.fetch.root;
  if (!root) throw new Error('replica.root must be set (PULLREP_REPLICA_ROOT)');
  if (opts.state !== undefined && !REPO_STATES.includes(opts.state as RepoStateName)) throw new Error(`--state must be one of ${REPO_STATES.join(', ')}`);
  if (opts.sort !== undefined && !SORTS.includes(opts.sort as (typeof SORTS)[number])) throw new Error(`--sort must be one of ${SORTS.join(', ')}`);
  const store = SyncStateStore.openReadOnly(root);
  const out = ctx.runtime.stdout;
  const now = Date.now();
  try {
    if (opts.repo !== undefined) {
      const view = store ? repoView(store, opts.repo, now) : undefined;
      const selected = selection.selects(opts.repo);
      if (!view && !selected) throw new Error(`${JSON.stringify(opts.repo)} is not selected by this replica (${selection.describe()}): it is neither synced nor verified here`);
      if (!view) throw new Error(`${JSON.stringify(opts.repo)} is not known to this replica (no event, sync or verification of it yet)`);
      const notSelected = selected ? '' : `selected      no (${selection.describe()}): kept here, neither synced nor verified\n`;
      out.write(opts.json ? JSON.stringify({ ...view, selected }, null, 2) + '\n' : renderOne(view, now) + notSelected);
      return;
    }
    const known = store ? repoViews(store, now) : [];
    let views = selection.all ? known : known.filter((v) => selection.selects(v.repo));
    const notSelected = known.length - views.length;
    if (opts.state !== undefined) views = views.filter((v) => v.state === opts.state);
    views = sortViews(views, opts.sort ?? 'repo');
    if (opts.json) {
      out.write(JSON.stringify(views, null, 2) + '\n');
      return;
    }
    const columns = [{ header: 'REPOSITORY' }, { header: 'STATE' }, { header: 'LAG', align: 'right' as const }, { header: 'LAST SYNC', align: 'right' as const }, { header: 'VERIFIED', align: 'right' as const }, { header: 'LAST FAILURE' }];
    const ago = (iso: string | null) => (iso === null ? '-' : `${age(now - Date.parse(iso))} ago`);
    out.write(
      renderTable(
        columns,
        views.map((v) => [
          v.repo,
          v.state === 'retrying' && v.stage !== null ? `retrying (stage ${v.stage})` : v.state,
          v.lagMs ? age(v.lagMs) : '0',
          ago(v.lastSyncAt),
          v.lastVerifiedAt === null ? '-' : `${ago(v.lastVerifiedAt)} (${v.lastVerifyResult ?? '?'})`,
          v.lastFailure ? `${v.lastFailure.errorClass}: ${v.lastFailure.message.slice(0, 60)}` : '-',
        ]),
      ),
    );
    out.write(`${views.length} ${views.length === 1 ? 'repository' : 'repositories'}\n`);
    if (!selection.all) out.write(`selection: ${selection.describe()}${notSelected ? `; ${notSelected} more kept here not selected (pullrep status --repo R shows one)` : ''}\n`);
  } finally {
    store?.close();
  }
}

function sortViews(views: RepoView[], by: string): RepoView[] {
  const sorted = [...views];
  if (by === 'lag') sorted.sort((a, b) => b.lagMs - a.lagMs || a.repo.localeCompare(b.repo));
  else if (by === 'state') sorted.sort((a, b) => a.state.localeCompare(b.state) || a.repo.localeCompare(b.repo));
  else if (by === 'sync') sorted.sort((a, b) => (a.lastSyncAt ?? '').localeCompare(b.lastSyncAt ?? '') || a.repo.localeCompare(b.repo));
  else sorted.sort((a, b) => a.repo.localeCompare(b.repo));
  return sorted;
}

function renderOne(v: RepoView, now: number): string {
  const when = (iso: string | null) => (iso === null ? 'never' : `${iso} (${age(now - Date.parse(iso))} ago)`);
  const lines = [
    `repository    ${v.repo}`,
    `state         ${v.state}${v.state === 'retrying' && v.stage !== null ? ` (an event waits in retry stage ${v.stage})` : ''}`,
    `lag           ${v.lagMs ? `${age(v.lagMs)} (oldest event not yet applied)` : '0 (every event taken is applied)'}`,
    `last event    ${v.lastEventId === null ? 'none applied' : `${v.lastEventId}, published ${when(v.lastEventPublishedAt)}`}`,
    `last sync     ${v.lastSyncAt === null ? 'never' : `${when(v.lastSyncAt)}, ${v.lastSyncMs ?? '?'} ms`}`,
    `last failure  ${v.lastFailure ? `${v.lastFailure.errorClass} at ${v.lastFailure.stage === null ? 'a repair' : v.lastFailure.stage === 0 ? 'the events topic' : `retry stage ${v.lastFailure.stage}`}, ${when(v.lastFailure.at)}: ${v.lastFailure.message}` : 'none'}`,
    `verified      ${v.lastVerifiedAt === null ? 'never' : `${when(v.lastVerifiedAt)}: ${v.lastVerifyResult ?? '?'}`}`,
    `checksum      ${v.checksum ?? 'not computed yet'}`,
  ];
  return lines.join('\n') + '\n';
}
