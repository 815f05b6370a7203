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

/** Refspecs are always `+refs/…:refs/…` from validated names, so none can be read as an option. */
export function fetchArgs(url: string, refs: readonly string[]): string[] {
  return ['fetch', ...FETCH_FLAGS, '--atomic', '--end-of-options', url, ...refs.map((ref) => `+${ref}:${ref}`)];
}
