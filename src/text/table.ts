import { printable } from './printable.js';

export interface Column {
  header: string;
  /** Cells longer than this are cut with '…'; none by default. */
  maxWidth?: number;
  align?: 'left' | 'right';
}

/**
 * A table for people: a header line, one line per row, columns two spaces apart and as wide as
 * their widest cell (up to maxWidth). Every cell is made printable; the last column is not padded.
 */
export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const cut = (value: string, max: number | undefined) => {
    const text = printable(value);
    return max !== undefined && text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
  };
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c, i) => cut(row[i] ?? '', c.maxWidth)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (columns[i]?.align === 'right' ? cell.padStart(widths[i] ?? 0) : i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n') + '\n';
}
