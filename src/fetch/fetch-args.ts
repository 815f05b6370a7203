/** Flags of every fetch: no tag sweep, no FETCH_HEAD, no housekeeping, no forced-update walk. */
export const FETCH_FLAGS = [
  '--quiet',
  '--no-tags',
  '--no-write-fetch-head',
  '--no-auto-gc',
  '--no-auto-maintenance',
  '--no-recurse-submodules',
  '--no-show-forced-updates',
];

/**
 * A fetch of the refspecs given on stdin (see `refspecs`): no argument list grows with the number
 * or length of the refs (thousands of long refs would not fit in one: E2BIG), and none can be read
 * as an option.
 */
export function fetchArgs(url: string): string[] {
  return ['fetch', ...FETCH_FLAGS, '--atomic', '--stdin', '--end-of-options', url];
}

/** The stdin of `fetchArgs`: one `+refs/…:refs/…` refspec per line, from validated names. */
export function refspecs(refs: readonly string[]): string {
  return refs.map((ref) => `+${ref}:${ref}\n`).join('');
}

/**
 * The refspecs of a whole-repository fetch of the refs replica.refs selects: `+P:P` per include
 * pattern (`+refs/*:refs/*` when none), then a negative refspec `^P` per exclude pattern (git
 * 2.29+). The patterns are git refspec globs already (src/refs/selection.ts). Each is an argument
 * after `--end-of-options`; validated patterns start with "refs/", never with "-".
 */
export function selectionRefspecs(include: readonly string[], exclude: readonly string[]): string[] {
  const positive = include.length ? include.map((p) => `+${p}:${p}`) : ['+refs/*:refs/*'];
  return [...positive, ...exclude.map((p) => `^${p}`)];
}
