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

/**
 * Every value of `section.key` (no subsection) in a config file's text, in file order; section
 * and key are matched case-insensitively, as git does. A key given without `=` is left out.
 */
export function configValues(text: string, section: string, key: string): string[] {
  const wantSection = section.toLowerCase();
  const wantKey = key.toLowerCase();
  const values: string[] = [];
  let current = '';
  let subsection: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    let entry = line;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"([^"]*)")?\s*\]\s*(.*)$/.exec(line);
    if (header) {
      current = (header[1] ?? '').toLowerCase();
      subsection = header[2];
      const dot = current.indexOf('.');
      if (dot >= 0) {
        subsection = current.slice(dot + 1);
        current = current.slice(0, dot);
      }
      entry = header[3] ?? '';
      if (!entry) continue;
    } else if (line.startsWith('[')) {
      continue;
    }
    if (current !== wantSection || subsection !== undefined) continue;
    const name = /^([A-Za-z][A-Za-z0-9-]*)/.exec(entry)?.[1]?.toLowerCase();
    if (name !== wantKey) continue;
    const value = entryValue(entry);
    if (value !== undefined) values.push(value);
  }
  return values;
}
