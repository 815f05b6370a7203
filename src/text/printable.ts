/**
 * C0 and C1 control characters, DEL, and the bidirectional controls (U+202A–U+202E,
 * U+2066–U+2069, U+200E/U+200F): a repository name, a header or an error text must not drive the
 * terminal or reorder what it shows.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print on a terminal: every control character replaced by '?'. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '?');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether the text holds a C0 or C1 control character or DEL (bidi controls are not counted). */
export function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

/** Whether the text holds a character `printable` would replace. */
export function hasUnprintable(text: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  const found = UNPRINTABLE.test(text);
  UNPRINTABLE.lastIndex = 0;
  return found;
}
