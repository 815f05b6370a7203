/** Text on one line: an error's message (or any value) with its white space folded. */
export function oneLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.replace(/\s+/g, ' ').trim();
}
