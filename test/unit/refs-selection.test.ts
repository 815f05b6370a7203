import { describe, expect, it } from 'vitest';
import type { CatalogView } from '../../src/catalog/view.js';
import type { Fetcher } from '../../src/fetch/index.js';
import type { LocalSide, Sides } from '../../src/heal/sides.js';
import { silentLogger } from '../../src/log/index.js';
import { compileOptions, ConfigError, loadConfig } from '../../src/config/index.js';
import { serverObjectFormat } from '../../src/fetch/classify.js';
import { selectionRefspecs } from '../../src/fetch/fetch-args.js';
import { compileRefSelection, EVERY_REF, refPatternProblem, refSelectionOf } from '../../src/refs/selection.js';
import { checksumOfLines, combineChecksums, EMPTY_CHECKSUM } from '../../src/verify/index.js';

describe('ref selection (replica.refs)', () => {
  it('selects every ref without patterns, and says so', () => {
    expect(EVERY_REF.all).toBe(true);
    expect(EVERY_REF.selects('refs/changes/01/1/1')).toBe(true);
    expect(EVERY_REF.describe()).toBe('every ref');
    expect(refSelectionOf(undefined)).toBe(EVERY_REF);
    expect(refSelectionOf({ include: [], exclude: [] })).toBe(EVERY_REF);
  });

  it('matches "*" across "/", as git refspec globs do', () => {
    const ci = compileRefSelection({ include: [], exclude: ['refs/changes/*'] });
    expect(ci.all).toBe(false);
    expect(ci.selects('refs/changes/12/1234/1')).toBe(false);
    expect(ci.selects('refs/changes/01/1/meta')).toBe(false);
    expect(ci.selects('refs/heads/x')).toBe(true);
    expect(ci.selects('refs/heads/refs/changes/1')).toBe(true);
    // A pattern is anchored at both ends: a prefix of a component is not the component.
    expect(ci.selects('refs/changesets/1')).toBe(true);
    expect(ci.describe()).toBe('exclude refs/changes/*');
  });

  it('matches a "*" inside a component, with what follows it as a suffix', () => {
    const s = compileRefSelection({ include: ['refs/heads/release-*', 'refs/tags/*-final'], exclude: [] });
    expect(s.selects('refs/heads/release-1.0')).toBe(true);
    expect(s.selects('refs/heads/release-x/y')).toBe(true);
    expect(s.selects('refs/heads/release')).toBe(false);
    expect(s.selects('refs/tags/v1-final')).toBe(true);
    expect(s.selects('refs/tags/v1-final-2')).toBe(false);
    expect(s.selects('refs/heads/main')).toBe(false);
  });

  it('selects what an include matches and no exclude matches; a pattern without "*" names one ref', () => {
    const s = compileRefSelection({ include: ['refs/heads/*', 'refs/tags/v1.0', 'refs/notes/commits'], exclude: ['refs/heads/wip/*', 'refs/notes/commits'] });
    expect(s.selects('refs/heads/main')).toBe(true);
    expect(s.selects('refs/heads/wip/mine')).toBe(false);
    expect(s.selects('refs/tags/v1.0')).toBe(true);
    expect(s.selects('refs/tags/v1.0.1')).toBe(false);
    expect(s.selects('refs/notes/commits')).toBe(false);
    expect(s.describe()).toBe('include refs/heads/* refs/tags/v1.0 refs/notes/commits, exclude refs/heads/wip/* refs/notes/commits');
  });

  it.each([
    ['refs/heads/*', undefined],
    ['refs/*', undefined],
    ['refs/heads/main', undefined],
    ['refs/changes/*/meta', undefined],
    ['', /is empty/],
    ['heads/*', /must be a full ref name starting with "refs\/"/],
    ['refs/changes/', /ends with "\/"; write "refs\/changes\/\*"/],
    ['refs/*/x/*', /has 2 "\*"; a pattern has at most one/],
    ['^refs/changes/*', /starts with "\^"/],
    ['refs/heads/a b', /is not a ref name or pattern git accepts: it must not contain spaces/],
    ['refs/heads/..x', /must not contain "\.\."/],
    ['refs/heads/*.lock', /ending with "\.lock"/],
    ['refs/heads/[ab]', /must not contain/],
    ['refs/heads/?', /must not contain/],
  ])('checks the pattern %j', (pattern, problem) => {
    if (problem === undefined) expect(refPatternProblem(pattern)).toBeUndefined();
    else expect(refPatternProblem(pattern)).toMatch(problem);
  });

  it('turns the selection into git refspecs: includes as +P:P (every ref when none), excludes as negative refspecs', () => {
    expect(selectionRefspecs([], ['refs/changes/*'])).toEqual(['+refs/*:refs/*', '^refs/changes/*']);
    expect(selectionRefspecs(['refs/heads/*', 'refs/tags/v1'], [])).toEqual(['+refs/heads/*:refs/heads/*', '+refs/tags/v1:refs/tags/v1']);
  });
});

describe('replica.refs in the configuration', () => {
  it('defaults to every ref, and reads lists from a file or comma separated from the environment', () => {
    const plain = loadConfig({ env: {} }).config;
    expect(plain.replica.refs).toEqual({ include: [], exclude: [] });
    expect(refSelectionOf(compileOptions(plain).fetch.refs).all).toBe(true);
    const { config } = loadConfig({ env: { PULLREP_REPLICA_REFS_EXCLUDE: 'refs/changes/*, refs/pull/*' }, overrides: { 'replica.refs.include': ['refs/heads/*', 'refs/tags/*'] } });
    expect(config.replica.refs).toEqual({ include: ['refs/heads/*', 'refs/tags/*'], exclude: ['refs/changes/*', 'refs/pull/*'] });
    const options = compileOptions(config);
    expect(options.fetch.refs).toEqual(config.replica.refs);
    expect(options.verify.refs).toEqual(config.replica.refs);
  });

  it.each([
    [{ PULLREP_REPLICA_REFS_EXCLUDE: 'refs/changes/' }, /replica\.refs\.exclude: ref pattern "refs\/changes\/" ends with "\/"/],
    [{ PULLREP_REPLICA_REFS_INCLUDE: 'heads/*' }, /replica\.refs\.include: ref pattern "heads\/\*" must be a full ref name/],
    [{ PULLREP_REPLICA_REFS_INCLUDE: 'refs/heads/*, refs/*/a/*' }, /replica\.refs\.include: ref pattern "refs\/\*\/a\/\*" has 2 "\*"/],
  ])('rejects %o at load, naming the key and the pattern', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });
});

describe('what selective refs need from git and the checksum', () => {
  it("reads the primary's object format from git's refusal to fetch into a repository of another (git 2.39 stderr)", () => {
    expect(serverObjectFormat('fatal: mismatched algorithms: client sha1; server sha256\n')).toBe('sha256');
    expect(serverObjectFormat("fatal: couldn't find remote ref refs/heads/x\n")).toBeUndefined();
    expect(serverObjectFormat('remote: fatal: mismatched algorithms: client sha1; server sha256\n')).toBeUndefined();
  });

  it('combines the checksums of disjoint ref sets into that of their union', () => {
    const selected = ['1'.repeat(40) + ' refs/heads/main', '2'.repeat(40) + ' refs/tags/v1'];
    const left = ['3'.repeat(40) + ' refs/changes/01/1/1'];
    expect(combineChecksums(checksumOfLines(selected), checksumOfLines(left))).toBe(checksumOfLines([...selected, ...left]));
    expect(combineChecksums(checksumOfLines(selected), EMPTY_CHECKSUM)).toBe(checksumOfLines(selected));
    expect(() => combineChecksums('abc', EMPTY_CHECKSUM)).toThrow(/40 hex digits/);
  });
});

describe('verification of a replica with replica.refs (fake sides, the real decision)', () => {
  const selected = checksumOfLines(['1'.repeat(40) + ' refs/heads/main']);
  const leftOut = checksumOfLines(['2'.repeat(40) + ' refs/changes/01/1/1']);
  const catalogChecksum = combineChecksums(selected, leftOut);

  async function verify(local: LocalSide, primary: string) {
    const { verifyRepository } = await import('../../src/heal/repair.js');
    const asked: string[] = [];
    const synced: string[] = [];
    const results: string[] = [];
    const entry = { v: 1, repo: 'r.git', checksum: catalogChecksum, refs: 2, updatedAt: new Date(0).toISOString(), primary: 'p', source: 'scan' } as const;
    const sides: Sides = {
      local: () => Promise.resolve(synced.length ? { kind: 'present', checksum: selected, refs: 1 } : local),
      primary: (repo) => {
        asked.push(repo);
        return Promise.resolve(primary);
      },
    };
    const fetcher = {
      syncRepository: (repo: string) => {
        synced.push(repo);
        return Promise.resolve({ repo, fetched: [], deleted: [], upToDate: [], created: false, recloned: false, durationMs: 0 });
      },
    } as unknown as Fetcher;
    const state = { verified: (_r: string, v: { result: string }) => results.push(v.result), setState: () => undefined, syncSucceeded: () => undefined, syncFailed: () => undefined, deleted: () => undefined, eventsSettled: () => undefined };
    const catalog = { get: () => entry, deleted: () => false } as unknown as CatalogView;
    const outcome = await verifyRepository('r.git', { fetcher, catalog, sides, state, applyDeletes: false, now: () => 0, logger: silentLogger() });
    return { outcome, asked, synced, results };
  }

  it('takes the cheap path when the copy combined with the left-out refs last listed equals the catalog', async () => {
    const run = await verify({ kind: 'present', checksum: selected, refs: 1, unselected: 0, againstCatalog: catalogChecksum }, selected);
    expect(run.outcome).toEqual({ result: 'equal', askedPrimary: false });
    expect(run.asked).toEqual([]);
    expect(run.synced).toEqual([]);
  });

  it('asks the primary when they are not known (or moved), and repairs nothing when its selected refs agree', async () => {
    const run = await verify({ kind: 'present', checksum: selected, refs: 1, unselected: 0, againstCatalog: selected }, selected);
    expect(run.outcome).toEqual({ result: 'equal', askedPrimary: true });
    expect(run.asked).toEqual(['r.git']);
    expect(run.synced).toEqual([]);
  });

  it('repairs (a whole sync, which prunes) a copy holding refs the selection leaves out, even with equal checksums', async () => {
    const run = await verify({ kind: 'present', checksum: selected, refs: 1, unselected: 1, againstCatalog: catalogChecksum }, selected);
    expect(run.outcome).toEqual({ result: 'repaired', askedPrimary: true });
    expect(run.synced).toEqual(['r.git']);
    expect(run.results).toEqual(['repaired']);
  });
});
