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

/** `failed show`: everything known about one failure. */
export function showJson(entry: FailureEntry): string {
  const text = entry.value?.toString('utf8') ?? null;
  let event: unknown;
  try {
    event = text === null ? null : JSON.parse(text);
  } catch {
    event = { undecodable: text?.slice(0, 4096) ?? null };
  }
  const { value: _value, ...rest } = entry;
  return JSON.stringify({ ...rest, event }, null, 2) + '\n';
}

/** C0 and C1 control characters and DEL: a header or an error text must not drive the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function cell(value: string, width: number): string {
  const text = value.replace(CONTROL, '?');
  return text.length > width ? text.slice(0, width - 1) + '…' : text.padEnd(width);
}

/** A table for people: one line per failure. */
export function listTable(entries: FailureEntry[]): string {
  if (entries.length === 0) return 'no outstanding failures\n';
  const header = `${cell('ID', 17)} ${cell('REPOSITORY', 32)} ${cell('REFS', 24)} ${cell('LAST FAILURE', 20)} ${cell('TRIES', 5)} ${cell('REASON', 11)} LAST ERROR`;
  const lines = entries.map((e) => {
    const refs = e.refs.length === 0 ? (e.kind ?? '-') : e.refs.length === 1 ? (e.refs[0] ?? '') : `${e.refs[0] ?? ''} +${e.refs.length - 1}`;
    const error = `${e.errorClass ?? '-'}: ${(e.errorMessage ?? '').replace(/\s+/g, ' ')}`;
    return `${cell(e.id, 17)} ${cell(e.repo ?? '(undecodable)', 32)} ${cell(refs, 24)} ${cell(e.lastFailureAt.slice(0, 19).replace('T', ' '), 20)} ${cell(String(e.attempts), 5)} ${cell(e.reason, 11)} ${cell(error, 80).trimEnd()}`;
  });
  return [header, ...lines].join('\n') + `\n${entries.length} outstanding\n`;
}
