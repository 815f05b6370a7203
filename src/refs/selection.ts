import { refNameProblem } from '../events/names.js';

/**
 * Which refs a replica replicates (README "Selective refs"): those matching `replica.refs.include`
 * (or every ref when it is empty) and matching no `replica.refs.exclude`.
 *
 * A pattern is a full ref name under `refs/` with at most one `*`, which matches any run of
 * characters, "/" included (possibly none): git's own refspec glob, so the patterns go to
 * `git fetch` unchanged (`+refs/heads/*:refs/heads/*`, negative `^refs/changes/*`).
 * `refs/changes/*` matches `refs/changes/12/1234/1`; `refs/heads/release-*` matches
 * `refs/heads/release-1.0` and `refs/heads/release-x/y`. A pattern without `*` names one ref.
 */
export interface RefSelectionOptions {
  /** replica.refs.include: ref patterns; empty = every ref. */
  include: readonly string[];
  /** replica.refs.exclude: ref patterns. */
  exclude: readonly string[];
}

/** What a replica replicates, compiled once; `selects` is a pure function of the ref name. */
export interface RefSelection {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** True when every ref is selected (no include, no exclude): callers then skip all filtering. */
  readonly all: boolean;
  selects(ref: string): boolean;
  /** One line for logs and views: `include refs/heads/*, exclude refs/changes/*`, or `every ref`. */
  describe(): string;
}

/** A placeholder for `*` that makes a pattern an ordinary ref name for git's format rules. */
const STAR_STANDS_FOR = 'x';

/** Why a ref pattern is not one, or undefined. The message names the pattern but not the key. */
export function refPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'must be a string';
  const shown = JSON.stringify(pattern);
  if (pattern === '') return 'is empty';
  if (pattern.startsWith('^')) return `${shown} starts with "^": write the pattern alone (replica.refs.exclude lists the refs left out)`;
  if (!pattern.startsWith('refs/')) return `${shown} must be a full ref name starting with "refs/" (e.g. "refs/heads/*")`;
  if (pattern.endsWith('/')) return `${shown} ends with "/"; write ${JSON.stringify(`${pattern}*`)} for every ref under it`;
  const stars = pattern.split('*').length - 1;
  if (stars > 1) return `${shown} has ${stars} "*"; a pattern has at most one, and it matches across "/" (as in git refspecs)`;
  const problem = refNameProblem(pattern.replace('*', STAR_STANDS_FOR));
  if (problem) return `${shown} is not a ref name or pattern git accepts: it ${problem}`;
  return undefined;
}

/** One compiled pattern: an exact name, or the parts before and after its `*`. */
type Matcher = { exact: string } | { prefix: string; suffix: string };

function compilePattern(pattern: string): Matcher {
  const star = pattern.indexOf('*');
  return star < 0 ? { exact: pattern } : { prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1) };
}

/** git's refspec glob match: the prefix and the suffix, not overlapping. */
function matches(m: Matcher, ref: string): boolean {
  if ('exact' in m) return ref === m.exact;
  return ref.length >= m.prefix.length + m.suffix.length && ref.startsWith(m.prefix) && ref.endsWith(m.suffix);
}

/** True when a pattern has a `*` (a glob), false when it names one ref. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

export const EVERY_REF: RefSelection = compileRefSelection({ include: [], exclude: [] });

/** Compiles validated patterns (see refPatternProblem; the configuration checks them at load). */
export function compileRefSelection(options: RefSelectionOptions): RefSelection {
  const include = options.include.map(compilePattern);
  const exclude = options.exclude.map(compilePattern);
  const all = include.length === 0 && exclude.length === 0;
  return {
    include: [...options.include],
    exclude: [...options.exclude],
    all,
    selects(ref) {
      if (all) return true;
      return (include.length === 0 || include.some((m) => matches(m, ref))) && !exclude.some((m) => matches(m, ref));
    },
    describe() {
      if (all) return 'every ref';
      const parts: string[] = [];
      if (options.include.length) parts.push(`include ${options.include.join(' ')}`);
      if (options.exclude.length) parts.push(`exclude ${options.exclude.join(' ')}`);
      return parts.join(', ');
    },
  };
}

/** The compiled selection of optional options: EVERY_REF when none are set (nothing to filter). */
export function refSelectionOf(options: RefSelectionOptions | undefined): RefSelection {
  return !options || (options.include.length === 0 && options.exclude.length === 0) ? EVERY_REF : compileRefSelection(options);
}
