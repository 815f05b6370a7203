import { describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent, type RefEvent } from '../../src/events/index.js';
import { failureId, idOfKey, listJson, listTable, pick, showJson, toEntry, UnknownFailureError, FAILURE_ID } from '../../src/failed/index.js';
import { HEADER } from '../../src/retry/index.js';

const NOW = 1_700_000_000_000;
const ctx = { topic: 'ev.r.failed', stages: 2, now: NOW };
const event = makeEvent<RefEvent>({ kind: 'refs-updated', repo: 'g/x.git', origin: 'p', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: 'a'.repeat(40) }] } as never);

function entry(id: string, headers: Record<string, string>, value: Buffer | null = encodeEvent(event)) {
  return toEntry(id, Buffer.from(id), { partition: 1, offset: '9', timestamp: NOW - 100, value, headers }, ctx);
}

describe('failure ids', () => {
  it('show a key exactly: printable UTF-8 as it is, anything else as its bytes, so two keys never show as one', () => {
    expect(idOfKey(Buffer.from('f0123456789abcde'))).toBe('f0123456789abcde');
    const a = Buffer.from([0x66, 0xff]);
    const b = Buffer.from([0x66, 0xfe]);
    // Both decode to "f\ufffd" as UTF-8: read lossily they were one entry, and resolving it tombstoned a third key.
    expect(a.toString('utf8')).toBe(b.toString('utf8'));
    expect(idOfKey(a)).toBe('hex:66ff');
    expect(idOfKey(b)).toBe('hex:66fe');
    expect(idOfKey(Buffer.from('f\u202e'))).toBe('f\u202e');
    expect(idOfKey(Buffer.from('a\nb'))).toBe('hex:610a62');
    expect(idOfKey(Buffer.from('hex:66ff'))).toBe('hex:6865783a36366666');
  });

  it('are stable for a record and differ between records', () => {
    const a = failureId({ topic: 'ev', partition: 0, offset: '1' });
    expect(a).toMatch(FAILURE_ID);
    expect(failureId({ topic: 'ev', partition: 0, offset: '1' })).toBe(a);
    expect(failureId({ topic: 'ev', partition: 0, offset: '2' })).not.toBe(a);
    expect(failureId({ topic: 'ev.r.retry.1', partition: 0, offset: '1' })).not.toBe(a);
  });
});

describe('failed entries', () => {
  it('read the event and the documented headers', () => {
    const e = entry('f1', {
      [HEADER.attempt]: '3',
      [HEADER.reason]: 'exhausted',
      [HEADER.firstFailureAt]: String(NOW - 5000),
      [HEADER.lastFailureAt]: String(NOW - 1000),
      [HEADER.errorClass]: 'TransientFetchError',
      [HEADER.errorMessage]: 'connection refused',
      [HEADER.errors]: JSON.stringify([{ at: NOW - 5000, stage: 0, class: 'TransientFetchError', message: 'connection refused' }]),
    });
    expect(e).toMatchObject({ repo: 'g/x.git', refs: ['refs/heads/main'], attempts: 3, reason: 'exhausted', errorClass: 'TransientFetchError' });
    expect(e.firstFailureAt).toBe(new Date(NOW - 5000).toISOString());
    expect(e.errors).toHaveLength(1);
  });

  it('survive garbage headers and an undecodable value', () => {
    const e = entry('f2', { [HEADER.attempt]: 'lots', [HEADER.reason]: 'because', [HEADER.errors]: '[[[' }, Buffer.from('\u0000garbage'));
    expect(e).toMatchObject({ repo: null, refs: [], attempts: 3, reason: 'unknown', errors: [] });
    expect(JSON.parse(showJson(e)).event).toEqual({ undecodable: '\u0000garbage', bytes: 8 });
  });

  it('show any value, even JSON nested 100,000 deep: as bounded text, never a stack overflow', () => {
    const deep = Buffer.from('['.repeat(100_000) + ']'.repeat(100_000));
    const shown = JSON.parse(showJson(entry('f3', {}, deep))) as { event: { undecodable: string; bytes: number } };
    expect(shown.event.bytes).toBe(200_000);
    expect(shown.event.undecodable).toHaveLength(4096);
    // Brackets inside strings do not count as nesting.
    const flat = Buffer.from(JSON.stringify({ text: '['.repeat(1000) }));
    expect(JSON.parse(showJson(entry('f4', {}, flat))).event).toEqual({ text: '['.repeat(1000) });
  });

  it('are picked by id, all or nothing', () => {
    const list = [entry('f1', {}), entry('f2', {})];
    expect(pick(list, ['f2', 'f2']).map((e) => e.id)).toEqual(['f2']);
    expect(() => pick(list, ['f1', 'nope'])).toThrow(UnknownFailureError);
  });

  it('render as JSON for scripts and as a table for people', () => {
    const list = [entry('f1', { [HEADER.reason]: 'permanent', [HEADER.errorClass]: 'PermanentFetchError', [HEADER.errorMessage]: 'bad\nref' })];
    expect(JSON.parse(listJson(list))).toEqual([
      expect.objectContaining({ id: 'f1', repository: 'g/x.git', refs: ['refs/heads/main'], reason: 'permanent', lastError: { class: 'PermanentFetchError', message: 'bad\nref' } }),
    ]);
    const table = listTable(list);
    expect(table).toContain('g/x.git');
    expect(table).toMatch(/ CAUSE\n/);
    expect(table).toMatch(/ permanent {2}bad ref\n/);
    expect(table.split('\n')).toHaveLength(4);
    expect(listTable([])).toBe('no outstanding failures\n');
  });

  it('keep control characters from a header out of the table', () => {
    const table = listTable([entry('f1\u001b[2J', { [HEADER.errorClass]: 'E', [HEADER.errorMessage]: 'remote: \u001b]0;owned\u0007 \u009b31m red' })]);
    const controls = [...table].filter((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)));
    expect(controls).toEqual([]);
    expect(table).toContain('remote: ?]0;owned? ?31m red');
  });
});
