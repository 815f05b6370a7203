import { counted, oneLine, renderTable, type Column } from '../text/index.js';
import type { FailureEntry } from './entry.js';

/**
 * The meaningful part of a sync's error message, for a list: from
 * `git fetch of x.git failed (unreachable): ... | fatal: unable to access 'https://…': Failed to connect to git.example.com port 443 after 2 ms: Couldn't connect to server`
 * it keeps `Failed to connect to git.example.com port 443: Couldn't connect to server`.
 */
export function causeOf(message: string | null): string {
  if (!message) return '-';
  const body = oneLine(message).replace(/^.*? failed \([a-z-]+\): /, '');
  const parts = body.split(' | ').map((p) => p.trim()).filter(Boolean);
  const line = [...parts].reverse().find((p) => /^(fatal|error):/.test(p)) ?? parts.at(-1) ?? body;
  return line
    .replace(/^(fatal|error): /, '')
    .replace(/^unable to access '[^']*': /, '')
    .replace(/ after \d+ ms/, '');
}

const REASONS: Record<string, string> = {
  permanent: 'a permanent failure: retrying cannot help',
  exhausted: 'the retry ladder ran out',
  expired: 'older than retry.maxRetryPeriodMs',
  undecodable: 'not a valid event',
  oversized: 'too large to hand on',
  unknown: 'unknown',
};

const when = (iso: string) => iso.slice(0, 19).replace('T', ' ');

/** The JSON shape of `failed list --json` (stable for scripts). */
export function listJson(entries: FailureEntry[]): string {
  const rows = entries.map((e) => ({
    id: e.id,
    repository: e.repo,
    refs: e.refs,
    kind: e.kind,
    reason: e.reason,
    firstFailureAt: e.firstFailureAt,
    lastFailureAt: e.lastFailureAt,
    attempts: e.attempts,
    lastError: e.errorClass === null ? null : { class: e.errorClass, message: e.errorMessage },
  }));
  return JSON.stringify(rows, null, 2) + '\n';
}

/** Nesting deeper than this is not shown as JSON (printing it would exhaust the stack). */
const MAX_SHOWN_DEPTH = 64;
const MAX_SHOWN_TEXT = 4096;

/** Whether JSON text nests arrays or objects deeper than `max` (strings are skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > max) return true;
    } else if (c === ']' || c === '}') depth--;
  }
  return false;
}

/** `failed show`: everything known about one failure. Any value is shown: parsed when it is sane JSON, else as bounded text. */
export function showJson(entry: FailureEntry): string {
  const text = entry.value?.toString('utf8') ?? null;
  const undecodable = () => ({ undecodable: text === null ? null : text.slice(0, MAX_SHOWN_TEXT), bytes: entry.valueBytes });
  let event: unknown;
  if (text !== null && nestsDeeperThan(text, MAX_SHOWN_DEPTH)) event = undecodable();
  else {
    try {
      event = text === null ? null : JSON.parse(text);
    } catch {
      event = undecodable();
    }
  }
  const { value: _value, key: _key, ...rest } = entry;
  return JSON.stringify({ ...rest, event }, null, 2) + '\n';
}

/** A table for people: one line per failure. */
export function listTable(entries: FailureEntry[]): string {
  if (entries.length === 0) return 'no outstanding failures\n';
  const columns: Column[] = [
    { header: 'ID', maxWidth: 17 },
    { header: 'REPOSITORY', maxWidth: 32 },
    { header: 'REFS', maxWidth: 24 },
    { header: 'LAST FAILURE' },
    { header: 'TRIES', align: 'right' },
    { header: 'REASON' },
    { header: 'CAUSE', maxWidth: 100 },
  ];
  const rows = entries.map((e) => {
    const refs = e.refs.length === 0 ? (e.kind ?? '-') : e.refs.length === 1 ? (e.refs[0] ?? '') : `${e.refs[0] ?? ''} +${e.refs.length - 1}`;
    return [e.id, e.repo ?? '(undecodable)', refs, when(e.lastFailureAt), String(e.attempts), e.reason, causeOf(e.errorMessage)];
  });
  return renderTable(columns, rows) + `${entries.length} outstanding (pullrep failed show <id> for one)\n`;
}

/**
 * `failed show` for people: what failed, why, since when, and the error history with each
 * message once (how often, first and last time, the stages it was seen in). `closedAt` is set
 * for a failure that was replayed or resolved.
 */
export function showText(entry: FailureEntry, closedAt?: string): string {
  const refs = entry.refs.length === 0 ? (entry.kind ?? '-') : entry.refs.length <= 3 ? entry.refs.join(', ') : `${entry.refs.slice(0, 3).join(', ')} (+${entry.refs.length - 3})`;
  const lines = [
    `failure     ${entry.id}${closedAt ? `  (replayed or resolved ${when(closedAt)} UTC; no longer outstanding)` : ''}`,
    `repository  ${entry.repo ?? '(the event cannot be decoded)'}`,
    `refs        ${refs}`,
    `reason      ${entry.reason}: ${REASONS[entry.reason] ?? entry.reason}`,
    `cause       ${causeOf(entry.errorMessage)}`,
    `attempts    ${entry.attempts}`,
    `failed      first ${when(entry.firstFailureAt)} UTC, last ${when(entry.lastFailureAt)} UTC`,
    `event       ${entry.eventId ?? '-'} (${entry.kind ?? 'undecodable'}), from ${entry.original.topic} [${entry.original.partition}] @ ${entry.original.offset}`,
    '',
  ];
  // Each message once, in the order first seen.
  const groups = new Map<string, { text: string; count: number; first: string; last: string; stages: Set<number> }>();
  for (const e of entry.errors) {
    const text = `${e.class}: ${causeOf(e.message)}`;
    const g = groups.get(text);
    if (g) {
      g.count += 1;
      g.last = e.at;
      g.stages.add(e.stage);
    } else groups.set(text, { text, count: 1, first: e.at, last: e.at, stages: new Set([e.stage]) });
  }
  if (groups.size === 0) lines.push('no error history');
  else {
    lines.push(`errors (${counted(entry.errors.length, 'attempt')}):`);
    const columns: Column[] = [{ header: 'TIMES', align: 'right' }, { header: 'FIRST' }, { header: 'LAST' }, { header: 'STAGES' }, { header: 'ERROR', maxWidth: 160 }];
    const rows = [...groups.values()].map((g) => [String(g.count), when(g.first), when(g.last), [...g.stages].sort((a, b) => a - b).join(','), g.text]);
    lines.push(renderTable(columns, rows).trimEnd());
  }
  const next = closedAt ? [] : ['', `pullrep failed replay ${entry.id}   puts it back into processing; --json shows everything`];
  return [...lines, ...next].join('\n') + '\n';
}
