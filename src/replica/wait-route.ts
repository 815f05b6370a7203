import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/index.js';
import { repoNameProblem } from '../events/index.js';
import type { RefSelection } from '../refs/selection.js';
import type { Selection } from '../repos/selection.js';
import { WaitRequestError, type RefWaiters } from './wait.js';

const PREFIX = '/v1/repos/';
const SUFFIX = '/wait';
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * GET /v1/repos/<repo>/wait?ref=<ref>&oid=<oid>&timeoutMs=<ms>&orNewer=true (docs/operations.md):
 * 200 with `{"matched":true,…}` as soon as this replica holds the ref at the oid; 408 with the
 * current value when the timeout passes first; 400 for a malformed request; 404 for a repository
 * this replica does not keep (replica.shard, replica.repos) or a ref it does not replicate
 * (replica.refs), which it would never hold.
 */
export function waitRoute(waiters: RefWaiters, logger: Logger, selection?: Selection, refs?: RefSelection) {
  return (path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): boolean => {
    if (!path.startsWith(PREFIX) || !path.endsWith(SUFFIX) || path.length <= PREFIX.length + SUFFIX.length) return false;
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    let repo: string;
    try {
      repo = decodeURIComponent(path.slice(PREFIX.length, -SUFFIX.length));
    } catch {
      json(400, { error: 'the repository name is not valid percent-encoding' });
      return true;
    }
    // A malformed name is the waiter's 400, selected or not.
    if (selection && repoNameProblem(repo) === undefined && !selection.selects(repo)) {
      json(404, { error: `${repo} is not selected by this replica (${selection.describe()}); ask the replica that keeps it` });
      return true;
    }
    const ref = query.get('ref') ?? '';
    if (refs && !refs.all && ref.startsWith('refs/') && !refs.selects(ref)) {
      json(404, { error: `${ref} is not replicated by this replica (replica.refs: ${refs.describe()})` });
      return true;
    }
    const oid = query.get('oid') ?? '';
    const timeoutText = query.get('timeoutMs');
    const timeoutMs = timeoutText === null ? DEFAULT_TIMEOUT_MS : Number(timeoutText);
    const orNewer = query.get('orNewer') === 'true' || query.get('orNewer') === '1';
    // The client went away: its wait ends (no waiter, timer or interval is left behind).
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) gone.abort();
    });
    waiters.wait({ repo, ref, oid, timeoutMs, orNewer }, gone.signal).then(
      (outcome) => {
        if (gone.signal.aborted) return;
        json(outcome.matched ? 200 : 408, { repo, ref, oid, orNewer, ...outcome });
      },
      (err: unknown) => {
        if (gone.signal.aborted) return;
        if (err instanceof WaitRequestError) return json(400, { error: err.message });
        logger.warn({ err, repo }, 'a wait failed');
        json(500, { error: 'the wait failed; see the replica log' });
      },
    );
    return true;
  };
}
