import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, MAX_REFS_PER_EVENT, decodeEvent, encodeEvent, type RefUpdate } from '../../src/events/index.js';
import { eventRecords, refsUpdatedEvents, splitRefUpdates } from '../../src/publish/index.js';

const oid = (n: number) => n.toString(16).padStart(40, '0');
const refs = (count: number, name = (i: number) => `refs/heads/mirror/branch-${i}`): RefUpdate[] =>
  Array.from({ length: count }, (_, i) => ({ ref: name(i), old: oid(0), new: oid(i + 1) }));

describe('splitRefUpdates', () => {
  it('keeps a small push in one group', () => {
    expect(splitRefUpdates(refs(3), 256 * 1024)).toEqual([refs(3)]);
  });

  it('splits a 100k-ref mirror push into events under the limit, in order, losing nothing', () => {
    const all = refs(100_000);
    const maxBytes = 256 * 1024;
    const events = refsUpdatedEvents({ repo: 'group/mirror.git', origin: 'primary', refs: all, maxBytes });
    expect(events.length).toBeGreaterThan(1);
    const records = eventRecords(events, 'git.ref-updates');
    for (const [i, record] of records.entries()) {
      expect(Buffer.byteLength(record.value ?? '')).toBeLessThan(maxBytes);
      const decoded = decodeEvent(record.value);
      expect(decoded.kind).toBe('refs-updated');
      if (decoded.kind !== 'refs-updated') continue;
      expect(decoded.part).toEqual({ index: i, count: events.length });
      expect(decoded.refs.length).toBeLessThanOrEqual(MAX_REFS_PER_EVENT);
      expect(record.key).toBe('group/mirror.git');
    }
    expect(events.flatMap((e) => e.refs)).toEqual(all);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('caps a configured limit above what readers accept at MAX_EVENT_BYTES', () => {
    const groups = splitRefUpdates(refs(45_000, (i) => `refs/t/${i}`), 64 * 1024 * 1024);
    expect(groups.length).toBeGreaterThan(3);
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(MAX_REFS_PER_EVENT);
      const bytes = g.reduce((sum, u) => sum + Buffer.byteLength(JSON.stringify(u)) + 1, 0);
      expect(bytes).toBeLessThan(MAX_EVENT_BYTES);
    }
  });

  it('fits the longest ref names and a long repository name', () => {
    const long = refs(500, (i) => `refs/heads/${`${'x'.repeat(240)}/`.repeat(4)}${i}`);
    const repo = `${'r'.repeat(200)}/repo.git`;
    const maxBytes = 32 * 1024;
    const events = refsUpdatedEvents({ repo, origin: 'primary', refs: long, maxBytes });
    for (const e of events) expect(encodeEvent(e).length).toBeLessThan(maxBytes);
    expect(events.flatMap((e) => e.refs)).toEqual(long);
  });

  it('never exceeds what readers accept, whatever the configured limit', () => {
    const events = refsUpdatedEvents({ repo: 'r', origin: 'p', refs: refs(20_000, (i) => `refs/heads/${'y'.repeat(200)}-${i}`), maxBytes: 64 * 1024 * 1024 });
    for (const e of events) expect(() => decodeEvent(encodeEvent(e))).not.toThrow();
  });

  it('refuses a limit too small for one ref', () => {
    expect(() => splitRefUpdates(refs(1), 1000)).toThrow(/publish.maxEventBytes must be at least/);
  });
});
