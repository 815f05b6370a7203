import { renderTable, type Column } from '../text/index.js';
import type { FailureEntry } from './entry.js';

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
    { header: 'LAST ERROR', maxWidth: 80 },
  ];
  const rows = entries.map((e) => {
    const refs = e.refs.length === 0 ? (e.kind ?? '-') : e.refs.length === 1 ? (e.refs[0] ?? '') : `${e.refs[0] ?? ''} +${e.refs.length - 1}`;
    const error = `${e.errorClass ?? '-'}: ${(e.errorMessage ?? '').replace(/\s+/g, ' ')}`;
    return [e.id, e.repo ?? '(undecodable)', refs, e.lastFailureAt.slice(0, 19).replace('T', ' '), String(e.attempts), e.reason, error];
  });
  return renderTable(columns, rows) + `${entries.length} outstanding\n`;
}
