import { createHash } from 'node:crypto';

/**
 * Which repositories a replica keeps (README "Shards"): those matching `replica.repos.include`
 * (or every one when it is empty), matching no `replica.repos.exclude`, and falling in
 * `replica.shard`. A pure function of the name: no Kafka partition, host or order plays a part.
 */
export interface SelectionOptions {
  /** replica.shard: shard `index` (1-based) of `count`; null = no sharding. */
  shard: { index: number; count: number } | null;
  /** replica.repos.include: repository-name globs; empty = every repository. */
  include: readonly string[];
  /** replica.repos.exclude: repository-name globs. */
  exclude: readonly string[];
}

export const EVERY_REPOSITORY: SelectionOptions = { shard: null, include: [], exclude: [] };

/**
 * A name without its trailing `.git`: `team/app` and `team/app.git` are one repository (as
 * src/fetch/paths.ts repositoryKey, which this module cannot import: the configuration's formats
 * load it, and src/fetch loads the configuration).
 */
const keyOf = (name: string): string => (name.endsWith('.git') ? name.slice(0, -4) : name);

/**
 * The shard (1-based) of `count` a repository name falls in: the first 8 bytes of the SHA-256
 * of the UTF-8 bytes of the name without a trailing `.git` (so both spellings of one repository
 * fall in one shard), read as a big-endian unsigned 64-bit integer, modulo `count`, plus 1.
 * Stable across versions and platforms; never change it (every shard's contents depend on it).
 */
export function shardOf(name: string, count: number): number {
  const digest = createHash('sha256').update(keyOf(name), 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count)) + 1;
}

/** `"2/3"` → `{ index: 2, count: 3 }`, `""` → null; throws a message without the key on anything else. */
export function parseShard(text: string): { index: number; count: number } | null {
  if (text.trim() === '') return null;
  const m = /^\s*(\d{1,6})\s*\/\s*(\d{1,6})\s*$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new Error('must be "i/n" with 1 <= i <= n (e.g. "2/3"), or empty for no sharding');
  return { index, count };
}

const GLOB_CHARS = /^[A-Za-z0-9._\-/*?]+$/;

/**
 * Why a repository-name glob is not one, or undefined. Globs hold the characters of repository
 * names (letters, digits, ".", "_", "-", "/") and the wildcards `*` (any characters but "/"),
 * `?` (one character but "/") and `**` (any characters, "/" included).
 */
export function globProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern === '') return 'is empty';
  if (!GLOB_CHARS.test(pattern)) return `${JSON.stringify(pattern)} may hold only letters, digits, ".", "_", "-", "/" and the wildcards *, ** and ?`;
  if (pattern.startsWith('/')) return `${JSON.stringify(pattern)} must be relative, like repository names`;
  if (pattern.includes('//')) return `${JSON.stringify(pattern)} has an empty path segment`;
  if (pattern.includes('***')) return `${JSON.stringify(pattern)} has "***"; use * within a segment or ** across "/"`;
  return undefined;
}

/**
 * A glob as a regular expression over the whole name. `**` as a whole leading or middle segment
 * (`**` followed by "/") also matches no directory at all: `**\/app.git` matches `app.git`, and
 * `team/**\/app.git` matches `team/app.git`.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const wholeSegment = (i === 0 || pattern[i - 1] === '/') && pattern[i + 2] === '/';
      out += wholeSegment ? '(?:.*/)?' : '.*';
      i += wholeSegment ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '.') out += '\\.';
    else out += c;
  }
  return new RegExp(`^${out}$`);
}

/** What a replica keeps, compiled once: `selects` is a pure, memoized function of the name. */
export interface Selection {
  readonly options: SelectionOptions;
  /** True when every repository is selected (no shard, include or exclude). */
  readonly all: boolean;
  selects(name: string): boolean;
  /** One line for views: `shard 2/3, include team/**, exclude team/tmp-*`, or `every repository`. */
  describe(): string;
}

/** How many names `selects` remembers before it starts afresh. */
const MEMO_LIMIT = 100_000;

export function compileSelection(options: SelectionOptions = EVERY_REPOSITORY): Selection {
  const include = options.include.map(globToRegExp);
  const exclude = options.exclude.map(globToRegExp);
  const { shard } = options;
  const all = shard === null && include.length === 0 && exclude.length === 0;
  const memo = new Map<string, boolean>();
  // A glob matches a repository when it matches either spelling of its name (with or without .git).
  const matches = (re: RegExp, name: string) => re.test(keyOf(name)) || re.test(`${keyOf(name)}.git`);
  const decide = (name: string): boolean =>
    (include.length === 0 || include.some((re) => matches(re, name))) &&
    !exclude.some((re) => matches(re, name)) &&
    (shard === null || shardOf(name, shard.count) === shard.index);
  return {
    options,
    all,
    selects(name) {
      if (all) return true;
      let selected = memo.get(name);
      if (selected === undefined) {
        if (memo.size >= MEMO_LIMIT) memo.clear();
        selected = decide(name);
        memo.set(name, selected);
      }
      return selected;
    },
    describe() {
      if (all) return 'every repository';
      const parts: string[] = [];
      if (shard) parts.push(`shard ${shard.index}/${shard.count}`);
      if (options.include.length) parts.push(`include ${options.include.join(' ')}`);
      if (options.exclude.length) parts.push(`exclude ${options.exclude.join(' ')}`);
      return parts.join(', ');
    },
  };
}
