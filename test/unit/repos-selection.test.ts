import { describe, expect, it } from 'vitest';
import { ConfigError, compileOptions, loadConfig } from '../../src/config/index.js';
import { compileSelection, globProblem, globToRegExp, parseShard, shardOf } from '../../src/repos/selection.js';

describe('shards: a stable hash of the repository name', () => {
  // Fixed values: the first 8 bytes of SHA-256 of the name without ".git", big-endian, computed
  // independently. A change here moves repositories between shards of every site: never change it.
  it.each([
    ['team/app.git', 0xe46f7d74783804fan, 3, 3],
    ['group/sub/lib.git', 0xb3979d7365406c45n, 3, 6],
    ['team/web.git', 0xa5cb1ff62f8ed32cn, 1, 7],
    ['docs.git', 0x46b42b4229cd7a39n, 2, 1],
    ['mobile/ios.git', 0x2749fe12e8678e70n, 2, 3],
  ])('%s: shard %#x mod n + 1, with or without .git', (name, value, ofThree, ofSeven) => {
    for (const spelling of [name, name.slice(0, -4)]) {
      expect(shardOf(spelling, 3)).toBe(Number(value % 3n) + 1);
      expect(shardOf(spelling, 3)).toBe(ofThree);
      expect(shardOf(spelling, 7)).toBe(ofSeven);
      expect(shardOf(spelling, 1)).toBe(1);
    }
  });

  it('matches a glob against both spellings of a name', () => {
    const only = compileSelection({ shard: null, include: ['team/*.git'], exclude: ['scratch/*'] });
    expect(only.selects('team/app')).toBe(true);
    expect(only.selects('team/app.git')).toBe(true);
    const rest = compileSelection({ shard: null, include: [], exclude: ['scratch/*.git'] });
    expect(rest.selects('scratch/x')).toBe(false);
    expect(rest.selects('scratch/x.git')).toBe(false);
    expect(rest.selects('team/x')).toBe(true);
  });

  it('puts every one of 1,000 names in exactly one of 3 shards, and spreads them evenly', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `group-${i % 17}/repo-${i}.git`);
    const shards = [1, 2, 3].map((i) => compileSelection({ shard: { index: i, count: 3 }, include: [], exclude: [] }));
    const sizes = [0, 0, 0];
    for (const name of names) {
      const holding = shards.map((s, i) => (s.selects(name) ? i : -1)).filter((i) => i >= 0);
      expect(holding, name).toHaveLength(1);
      const i = holding[0] ?? 0;
      sizes[i] = (sizes[i] ?? 0) + 1;
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    // 333 each on average; a uniform hash stays well within ±15%.
    for (const size of sizes) {
      expect(size).toBeGreaterThan(283);
      expect(size).toBeLessThan(383);
    }
  });

  it('parses "i/n" and refuses anything else', () => {
    expect(parseShard('')).toBeNull();
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/3', '4/3', '1/0', '3', '1/2/3', 'a/b', '-1/3', '1.5/3']) expect(() => parseShard(bad), bad).toThrow(/i\/n/);
  });
});

describe('repository-name globs', () => {
  const matches = (pattern: string, name: string) => globToRegExp(pattern).test(name);

  it('* stays within a path segment, ** crosses "/", ? is one character', () => {
    expect(matches('team/*', 'team/app.git')).toBe(true);
    expect(matches('team/*', 'team/sub/app.git')).toBe(false);
    expect(matches('team/**', 'team/sub/app.git')).toBe(true);
    expect(matches('team/**', 'other/app.git')).toBe(false);
    expect(matches('**/app.git', 'app.git')).toBe(true);
    expect(matches('**/app.git', 'a/b/app.git')).toBe(true);
    expect(matches('team/**/app.git', 'team/app.git')).toBe(true);
    expect(matches('team/**/app.git', 'team/x/y/app.git')).toBe(true);
    expect(matches('*.git', 'app.git')).toBe(true);
    expect(matches('*.git', 'team/app.git')).toBe(false);
    expect(matches('app?.git', 'app1.git')).toBe(true);
    expect(matches('app?.git', 'app/.git')).toBe(false);
    // "." is literal and the whole name must match.
    expect(matches('app.git', 'appxgit')).toBe(false);
    expect(matches('app', 'app.git')).toBe(false);
    expect(matches('tmp-*', 'tmp-1.git')).toBe(true);
  });

  it('refuses what could never match a repository name', () => {
    expect(globProblem('team/**')).toBeUndefined();
    for (const bad of ['', '/abs/*', 'a//b', 'a/***', 'team/[ab].git', 'team/{a,b}', 'sp ace', 'x\n']) expect(globProblem(bad), JSON.stringify(bad)).toBeDefined();
    expect(globProblem(3)).toBe('must be a string');
  });
});

describe('the selection', () => {
  it('selects what include matches (or everything), minus exclude, within the shard', () => {
    const s = compileSelection({ shard: null, include: ['team/**', 'docs.git'], exclude: ['team/tmp-*'] });
    expect(s.all).toBe(false);
    expect(s.selects('team/app.git')).toBe(true);
    expect(s.selects('team/sub/app.git')).toBe(true);
    expect(s.selects('docs.git')).toBe(true);
    expect(s.selects('team/tmp-1.git')).toBe(false);
    expect(s.selects('other/app.git')).toBe(false);
    expect(s.describe()).toBe('include team/** docs.git, exclude team/tmp-*');

    const sharded = compileSelection({ shard: { index: 3, count: 3 }, include: ['team/**'], exclude: [] });
    expect(sharded.selects('team/app.git')).toBe(true);
    expect(sharded.selects('team/web.git')).toBe(false);
    expect(sharded.selects('docs.git')).toBe(false);
    expect(sharded.describe()).toBe('shard 3/3, include team/**');
    // Asked again, the same answer (memoized).
    expect(sharded.selects('team/app.git')).toBe(true);
  });

  it('selects every repository by default', () => {
    const s = compileSelection();
    expect(s.all).toBe(true);
    expect(s.selects('anything/at/all.git')).toBe(true);
    expect(s.describe()).toBe('every repository');
  });
});

describe('configuration of the selection', () => {
  it('reads replica.shard and replica.repos from files and the environment', () => {
    const { config } = loadConfig({ env: { PULLREP_REPLICA_SHARD: '2/3', PULLREP_REPLICA_REPOS_INCLUDE: 'team/**, docs.git', PULLREP_REPLICA_REPOS_EXCLUDE: 'team/tmp-*' } });
    expect(compileOptions(config).selection).toEqual({ shard: { index: 2, count: 3 }, include: ['team/**', 'docs.git'], exclude: ['team/tmp-*'] });
    expect(compileOptions(loadConfig({ env: {} }).config).selection).toEqual({ shard: null, include: [], exclude: [] });
    const nested = loadConfig({ overrides: { 'replica.repos.include': ['a/*'], 'replica.shard': '1/2' } }).config;
    expect(compileOptions(nested).selection).toEqual({ shard: { index: 1, count: 2 }, include: ['a/*'], exclude: [] });
  });

  it.each([
    [{ PULLREP_REPLICA_SHARD: '4/3' }, /replica\.shard/],
    [{ PULLREP_REPLICA_SHARD: 'half' }, /replica\.shard/],
    [{ PULLREP_REPLICA_REPOS_INCLUDE: 'team/[ab]' }, /replica\.repos\.include/],
    [{ PULLREP_REPLICA_REPOS_EXCLUDE: '/abs/**' }, /replica\.repos\.exclude/],
  ])('rejects %o naming the key', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });
});
