import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCatalogRecord, encodeCatalogRecord, type CatalogRecord } from '../../src/catalog/record.js';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import { AMBIGUOUS_MS, applyUpdates, CatalogKeeper } from '../../src/primary/catalog-keeper.js';
import { RACY_MS, trusted } from '../../src/primary/signature.js';
import { parsePush } from '../../src/publish/push-entry.js';
import { checksumOfLines, EMPTY_CHECKSUM } from '../../src/verify/index.js';

const Z = '0'.repeat(40);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function listedOf(refs: Record<string, string>) {
  const lines = Object.entries(refs).map(([ref, oid]) => `${oid} ${ref}`);
  return { checksum: checksumOfLines(lines), refs: lines.length };
}

function event(refs: RefsUpdatedEvent['refs']): RefsUpdatedEvent {
  return { v: 1, id: 'e1', kind: 'refs-updated', repo: 'r.git', origin: 'p', publishedAt: new Date(0).toISOString(), refs };
}

describe('the incremental catalog checksum', () => {
  it('equals a full listing after creations, updates and deletions', () => {
    const before = listedOf({ 'refs/heads/main': A, 'refs/heads/old': B, 'refs/tags/v1': C });
    const after = applyUpdates(before, [
      { ref: 'refs/heads/main', old: A, new: B },
      { ref: 'refs/heads/old', old: B, new: Z },
      { ref: 'refs/heads/new', old: Z, new: C },
    ]);
    expect(after).toEqual(listedOf({ 'refs/heads/main': B, 'refs/tags/v1': C, 'refs/heads/new': C }));
    expect(applyUpdates(listedOf({ 'refs/heads/x': A }), [{ ref: 'refs/heads/x', old: A, new: Z }])).toEqual({ checksum: EMPTY_CHECKSUM, refs: 0 });
  });
});

describe('CatalogKeeper', () => {
  const keeperWith = () => {
    const out: Array<[string, string | null]> = [];
    const corrections: string[] = [];
    const keeper = new CatalogKeeper({ origin: 'p', output: { put: (k, v) => out.push([k, v]) }, logger: silentLogger(), now: () => 5000, onCorrection: (r) => corrections.push(r) });
    return { keeper, out, corrections };
  };

  it('counts a push written before a listing as in it, adds one written well after, and calls one in between uncertain', () => {
    const { keeper, out } = keeperWith();
    expect(keeper.applyEvents('r.git', [event([{ ref: 'refs/heads/main', old: Z, new: A }])], 100)).toBe('needs-listing');
    keeper.applyListing('r.git', listedOf({ 'refs/heads/main': A }), 1000, 1100, undefined);
    expect(out).toHaveLength(1);
    expect(keeper.applyEvents('r.git', [event([{ ref: 'refs/heads/main', old: Z, new: A }])], 900)).toBe('included');
    expect(out).toHaveLength(1);
    expect(keeper.applyEvents('r.git', [event([{ ref: 'refs/heads/main', old: A, new: B }])], 1100 + AMBIGUOUS_MS + 1)).toBe('applied');
    expect(keeper.get('r.git')).toMatchObject(listedOf({ 'refs/heads/main': B }));
    expect(keeper.applyEvents('r.git', [event([{ ref: 'refs/heads/main', old: B, new: C }])], 1050)).toBe('list-when-quiet');
    const last = out.at(-1)?.[1];
    expect(JSON.parse(last ?? '{}')).toMatchObject({ repo: 'r.git', ...listedOf({ 'refs/heads/main': C }), source: 'push', primary: 'p', updatedAt: new Date(5000).toISOString() });
  });

  it('writes a record only when the value changes, counts corrections, and a tombstone once', () => {
    const { keeper, out, corrections } = keeperWith();
    keeper.seed([{ v: 1, repo: 'r.git', ...listedOf({ 'refs/heads/main': A }), updatedAt: new Date(0).toISOString(), primary: 'p', source: 'scan' }]);
    keeper.seed([{ v: 1, repo: 'other.git', ...listedOf({}), updatedAt: new Date(0).toISOString(), primary: 'another-primary', source: 'scan' }]);
    expect(keeper.publishedRepos()).toEqual(['r.git']);
    keeper.applyListing('r.git', listedOf({ 'refs/heads/main': A }), 1, 2, undefined);
    expect(out).toEqual([]);
    keeper.applyListing('r.git', listedOf({ 'refs/heads/main': B }), 3, 4, undefined);
    expect(out).toHaveLength(1);
    expect(corrections).toEqual(['r.git']);
    keeper.removed('r.git');
    keeper.removed('r.git');
    expect(out.at(-1)).toEqual(['r.git', null]);
    expect(out).toHaveLength(2);
  });
});

describe('catalog records', () => {
  const record: CatalogRecord = { v: 1, repo: 'team/app.git', checksum: A, refs: 3, updatedAt: new Date(0).toISOString(), primary: 'p', source: 'push' };

  it('round-trip, and a null value is a tombstone', () => {
    expect(decodeCatalogRecord('team/app.git', encodeCatalogRecord(record))).toEqual(record);
    expect(decodeCatalogRecord('team/app.git', null)).toBeNull();
  });

  it.each([
    ['another version', { ...record, v: 2 }, /unsupported version/],
    ['a short checksum', { ...record, checksum: 'abc' }, /checksum/],
    ['a negative count', { ...record, refs: -1 }, /refs/],
    ['no refs but a checksum', { ...record, refs: 0 }, /all-zero checksum/],
    ['a hostile name', { ...record, repo: '../etc.git' }, /repository name/],
    ['a bad time', { ...record, updatedAt: 'soon' }, /updatedAt/],
  ])('refuse %s', (_what, value, message) => {
    expect(() => decodeCatalogRecord(String((value as { repo: string }).repo), JSON.stringify(value))).toThrow(message);
  });

  it('refuse a key that is not the repository, and what is not JSON', () => {
    expect(() => decodeCatalogRecord('other.git', encodeCatalogRecord(record))).toThrow(/is not its repository/);
    expect(() => decodeCatalogRecord('x.git', '{')).toThrow(/not JSON/);
  });
});

describe('spooled pushes', () => {
  it('become events named after the repository under primary.root, stamped with the time the hook wrote them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pullrep-push-'));
    await mkdir(join(root, 'team', 'app.git'), { recursive: true });
    const text = `pullrep-push 1\nhook post-receive\ncwd ${join(root, 'team')}\ngit-dir app.git\n${Z} ${A} refs/heads/main\n`;
    const parsed = parsePush('x.push', text, 1234, { root, origin: 'p', topic: 't', maxEventBytes: 256 * 1024 });
    expect(parsed.repo).toBe('team/app.git');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({ repo: 'team/app.git', origin: 'p', publishedAt: new Date(1234).toISOString(), refs: [{ ref: 'refs/heads/main', old: Z, new: A }] });
  });

  it.each([
    ['no header', `${Z} ${A} refs/heads/main\n`, /does not start with/],
    ['no hook line', 'pullrep-push 1\ncwd /x\n', /"hook" line/],
    ['a relative cwd', 'pullrep-push 1\nhook post-receive\ncwd x\n', /"cwd" line/],
    ['a bad ref line', 'pullrep-push 1\nhook post-receive\ncwd /\ngit-dir .\nnot three fields\n', /stdin line 1/],
  ])('are refused with %s', async (_what, text, message) => {
    const root = await mkdtemp(join(tmpdir(), 'pullrep-push-'));
    expect(() => parsePush('x.push', text, 0, { root, origin: 'p', topic: 't', maxEventBytes: 256 * 1024 })).toThrow(message);
  });
});

describe('refs signatures', () => {
  it('vouch for the refs only when every time in them is older than the racy window', () => {
    expect(trusted({ text: 'x', newestMs: 1000 }, 1000 + RACY_MS + 1)).toBe(true);
    expect(trusted({ text: 'x', newestMs: 1000 }, 1000 + RACY_MS)).toBe(false);
    expect(trusted(undefined, 1e12)).toBe(false);
  });
});
