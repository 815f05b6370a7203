/**
 * Reading a repository's git config file in-process, as far as pullrep needs it: the values of a
 * key of a section without a subsection. No git process runs, so a sync can check its own
 * settings at the cost of one small file read.
 */

/**
 * The value of one `key = value` entry as git reads it: surrounding whitespace dropped, double
 * quotes removed, `\\`, `\"`, `\n`, `\t` and `\b` unescaped, and a `#` or `;` outside quotes
 * starting a comment. undefined for a key without `=` (git's boolean true).
 */
export function entryValue(entry: string): string | undefined {
  const eq = entry.indexOf('=');
  if (eq < 0) return undefined;
  let out = '';
  let quoted = false;
  // Whitespace is kept only between other characters, as git does.
  let pendingSpace = '';
  const text = entry.slice(eq + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (!quoted && (c === '#' || c === ';')) break;
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c === ' ' || c === '\t')) {
      if (out) pendingSpace += c;
      continue;
    }
    out += pendingSpace;
    pendingSpace = '';
    if (c === '\\') {
      const next = text[++i] ?? '';
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next;
    } else {
      out += c;
    }
  }
  return out;
}

/** What one line of a git config file says, as far as pullrep reads it. */
export type ConfigLine =
  | { kind: 'header'; section: string; subsection: string | undefined }
  | { kind: 'entry'; section: string; subsection: string | undefined; key: string; entry: string }
  /** A line starting with `[` that is no section header pullrep can read. */
  | { kind: 'unreadable-header' }
  /** A line continued with a backslash (read on as it stands; pullrep never writes one). */
  | { kind: 'continued' };

/**
 * The lines of a config file's text in order: section headers (`[core]`, `[remote "origin"]`,
 * `[remote.origin]`; section lowercased) and `key = value` entries (key lowercased), an entry on
 * its header's line included. Blank lines and comments are skipped.
 */
export function* configLines(text: string): Generator<ConfigLine> {
  let section = '';
  let subsection: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) yield { kind: 'continued' };
    let entry = line;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"([^"]*)")?\s*\]\s*(.*)$/.exec(line);
    if (header) {
      section = (header[1] ?? '').toLowerCase();
      subsection = header[2];
      const dot = section.indexOf('.');
      if (dot >= 0) {
        subsection = section.slice(dot + 1);
        section = section.slice(0, dot);
      }
      yield { kind: 'header', section, subsection };
      entry = header[3] ?? '';
      if (!entry) continue;
    } else if (line.startsWith('[')) {
      yield { kind: 'unreadable-header' };
      continue;
    }
    const key = /^([A-Za-z][A-Za-z0-9-]*)/.exec(entry)?.[1]?.toLowerCase();
    if (key !== undefined) yield { kind: 'entry', section, subsection, key, entry };
  }
}

/**
 * Every value of `section.key` (no subsection) in a config file's text, in file order; section
 * and key are matched case-insensitively, as git does. A key given without `=` is left out.
 */
export function configValues(text: string, section: string, key: string): string[] {
  const wantSection = section.toLowerCase();
  const wantKey = key.toLowerCase();
  const values: string[] = [];
  for (const line of configLines(text)) {
    if (line.kind !== 'entry' || line.section !== wantSection || line.subsection !== undefined || line.key !== wantKey) continue;
    const value = entryValue(line.entry);
    if (value !== undefined) values.push(value);
  }
  return values;
}
