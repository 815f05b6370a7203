import { PermanentFetchError, TransientFetchError, type FetchError, type FetchErrorKind } from './errors.js';
import type { GitOutcome } from './git-process.js';
import { scrub } from './scrub.js';

/**
 * The one place that turns a failed git process (exit status + stderr, LC_ALL=C) into a typed
 * fetch error. Rules are tried in order; the first match decides. test/unit/fetch-classify.test.ts
 * holds real stderr samples for each rule.
 */
interface Rule {
  kind: FetchErrorKind;
  pattern: RegExp;
}

const RULES: Rule[] = [
  { kind: 'transport', pattern: /transport '[^']*' not allowed|Unable to find remote helper|unsupported URL protocol|Protocol "?[\w+.-]+"? not supported/i },
  { kind: 'disk', pattern: /No space left on device|Disk quota exceeded|file too large/i },
  { kind: 'auth', pattern: /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]\b|HTTP 40[13]\b|Permission denied \(publickey|Host key verification failed/i },
  {
    kind: 'not-found',
    pattern: /returned error: 404\b|HTTP 404\b|repository '[^']*' not found|Repository not found|does not appear to be a git repository|No such repository/i,
  },
  { kind: 'redirect', pattern: /returned error: 30[1278]\b|HTTP 30[1278]\b/i },
  { kind: 'server', pattern: /returned error: 5\d\d\b|HTTP 5\d\d\b|(remote|server) error|internal server error|bad gateway|service unavailable/i },
  { kind: 'timeout', pattern: /timed out|Operation too slow|timeout/i },
  {
    kind: 'connection',
    pattern: /Failed to connect|Connection refused|Could not resolve host|Connection reset|Couldn't connect to server|connect to host|Network is unreachable|No route to host|remote end hung up|early EOF|unexpected disconnect|transfer closed with outstanding read data|RPC failed|Empty reply from server|SSL_ERROR|gnutls_handshake/i,
  },
  { kind: 'lock', pattern: /cannot lock ref|Unable to create '[^']*\.lock'|\.lock': File exists|Another git process seems to be running|is at [0-9a-f]+ but expected|reference already exists/i },
  { kind: 'invalid', pattern: /is not a valid ref name|invalid refspec|not a valid object name|bad refspec|invalid ref format/i },
  {
    kind: 'corrupt',
    pattern: /did not send all necessary objects|bad object|missing (blob|tree|commit|tag|object)|unable to read [0-9a-f]{40}|Could not read [0-9a-f]{7,}|is corrupt|packfile .* cannot be accessed|object file .* is empty|failed to read object|index-pack failed|unresolved deltas|invalid object|broken link/i,
  },
];

const PERMANENT: ReadonlySet<FetchErrorKind> = new Set(['transport', 'invalid']);

export interface ClassifyContext {
  /** What was attempted, for the message, e.g. 'git fetch of group/app.git'. */
  what: string;
  /** Values that must not appear in the message (passwords, tokens, headers). */
  secrets: readonly string[];
  /** When the event that asked for the sync was published (for the not-found grace period). */
  publishedAt?: Date | undefined;
  missingRepoGraceMs: number;
  now: number;
}

/**
 * A throttling primary: HTTP 429 (Too Many Requests), or 503 with a Retry-After (a server that
 * says when to come back is shedding load, not broken). From the statuses git's HTTP trace saw,
 * else from git's message.
 */
function throttled(outcome: GitOutcome): boolean {
  const last = outcome.httpStatuses?.at(-1);
  if (last === 429 || (last === 503 && outcome.retryAfterMs !== undefined)) return true;
  return /returned error: 429\b|HTTP 429\b|Too Many Requests/i.test(outcome.stderr);
}

/** The kind of a failed git process; 'unknown' when no rule matches. */
export function kindOf(outcome: GitOutcome): FetchErrorKind {
  if (outcome.aborted) return 'aborted';
  if (outcome.timedOut) return 'timeout';
  if (outcome.spawnError) return 'unknown';
  if (throttled(outcome)) return 'throttled';
  for (const rule of RULES) if (rule.pattern.test(outcome.stderr)) return rule.kind;
  return 'unknown';
}

export function classify(outcome: GitOutcome, context: ClassifyContext): FetchError {
  const kind = kindOf(outcome);
  const message = `${context.what} failed (${kind}): ${describe(outcome, context.secrets)}`;
  const permanent =
    PERMANENT.has(kind) || (kind === 'not-found' && !withinGrace(context.publishedAt, context.missingRepoGraceMs, context.now));
  if (permanent) return new PermanentFetchError(message, kind);
  const retryAfterMs = kind === 'throttled' || kind === 'server' ? outcome.retryAfterMs : undefined;
  return new TransientFetchError(message, kind, { retryAfterMs });
}

/** "Not found" stays transient for a while after the event: creation and replication race. */
export function withinGrace(publishedAt: Date | undefined, graceMs: number, now: number): boolean {
  if (!publishedAt || Number.isNaN(publishedAt.getTime())) return false;
  return now - publishedAt.getTime() < graceMs;
}

const MAX_MESSAGE = 600;

/** The last meaningful stderr lines, scrubbed of secrets and bounded. */
function describe(outcome: GitOutcome, secrets: readonly string[]): string {
  if (outcome.aborted) return 'aborted by the caller';
  if (outcome.timedOut) return 'the git process ran past its time limit and was killed';
  if (outcome.spawnError) return `git could not be started: ${scrub(outcome.spawnError, secrets)}`;
  const lines = outcome.stderr
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(hint:|remote: (Counting|Compressing|Enumerating|Total))/.test(l));
  const text = lines.slice(-4).join(' | ') || `exit status ${outcome.code ?? outcome.signal ?? '?'}`;
  const clean = scrub(text, secrets);
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}…` : clean;
}

/**
 * Which of `pending` git names in its answer to a refspec the primary does not have (the ref was
 * deleted): the whole rest of the line, compared exactly, so a ref holding any character git
 * accepts (Unicode white space included) is recognised, and nothing else is.
 */
export function missingRemoteRef(stderr: string, pending: readonly string[]): string | undefined {
  const prefix = "fatal: couldn't find remote ref ";
  for (const line of stderr.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const name = line.slice(prefix.length).replace(/\r$/, '');
    if (pending.includes(name)) return name;
  }
  return undefined;
}

/**
 * The object format of the primary's repository when a fetch into a repository of another format
 * failed for that reason (`fatal: mismatched algorithms: client sha1; server sha256`), else
 * undefined. A selective clone (selective-clone.ts) starts from `git init`, which cannot know it.
 */
export function serverObjectFormat(stderr: string): string | undefined {
  return /^fatal: mismatched algorithms: client [a-z0-9]+; server ([a-z0-9]+)\r?$/m.exec(stderr)?.[1];
}
