import { describe, expect, it } from 'vitest';
import { HEADER, LIMITS, readRetryState, recordFailure, truncateBytes, writeRetryState, type ReadContext } from '../../src/retry/index.js';

const now = 1_700_000_000_000;
const ctx: ReadContext = { stage: 2, stages: 4, now, record: { topic: 'ev.r.retry.2', partition: 3, offset: '41', timestamp: now - 500 } };
const origin = { topic: 'ev', partition: 3, offset: '7' };

function failedOnce() {
  return recordFailure(undefined, { stage: 0, now: now - 10_000, errorClass: 'TransientFetchError', errorMessage: 'connection refused', replica: 'r', origin });
}

describe('retry headers', () => {
  it('round-trip through write and read', () => {
    const second = recordFailure(failedOnce(), { stage: 1, now: now - 1000, errorClass: 'TransientFetchError', errorMessage: 'HTTP 503', replica: 'r', origin: { topic: 'x', partition: 3, offset: '9' } });
    const back = readRetryState(writeRetryState(second), ctx);
    expect(back).toEqual({ ...second, dueAt: undefined });
    expect(back.attempt).toBe(2);
    expect(back.original).toEqual(origin);
    expect(back.firstFailureAt).toBe(now - 10_000);
    expect(back.errors.map((e) => e.stage)).toEqual([0, 1]);
  });

  it('accepts Buffer values and arrays (last one wins)', () => {
    const back = readRetryState({ [HEADER.attempt]: [Buffer.from('1'), Buffer.from('3')] }, ctx);
    expect(back.attempt).toBe(3);
  });

  it('treats missing headers as a fresh attempt at the record\'s stage', () => {
    const back = readRetryState(undefined, ctx);
    expect(back.attempt).toBe(2);
    expect(back.original).toEqual({ topic: 'ev.r.retry.2', partition: 3, offset: '41' });
    expect(back.firstFailureAt).toBe(now - 500);
    expect(back.errors).toEqual([]);
  });

  it.each([
    ['attempt above stages + 1', { [HEADER.attempt]: '99' }],
    ['attempt zero', { [HEADER.attempt]: '0' }],
    ['attempt not a number', { [HEADER.attempt]: '2; rm -rf' }],
    ['attempt huge', { [HEADER.attempt]: '9'.repeat(400) }],
  ])('bounds the attempt count: %s', (_name, headers) => {
    expect(readRetryState(headers, ctx).attempt).toBe(2);
  });

  it('rejects insane times', () => {
    const future = readRetryState({ [HEADER.firstFailureAt]: String(now + 24 * 3600_000) }, ctx);
    expect(future.firstFailureAt).toBe(now - 500);
    const ancient = readRetryState({ [HEADER.firstFailureAt]: '5' }, ctx);
    expect(ancient.firstFailureAt).toBe(now - 500);
    const negative = readRetryState({ [HEADER.firstFailureAt]: '-1700000000000' }, ctx);
    expect(negative.firstFailureAt).toBe(now - 500);
  });

  it('reads binary garbage and oversized values as absent', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x31, 0xc3]);
    const back = readRetryState(
      {
        [HEADER.attempt]: binary,
        [HEADER.firstFailureAt]: binary,
        [HEADER.lastFailureAt]: '1'.repeat(20_000),
        [HEADER.errorClass]: binary,
        [HEADER.replica]: binary,
        [HEADER.errors]: binary,
        [HEADER.dueAt]: binary,
        [HEADER.errorMessage]: 'x'.repeat(20_000),
      },
      ctx,
    );
    expect(back).toMatchObject({ attempt: 2, firstFailureAt: now - 500, lastFailureAt: now - 500, errors: [] });
    expect(back.errorClass).toBeUndefined();
    expect(back.replica).toBeUndefined();
    expect(back.dueAt).toBeUndefined();
    expect(back.errorMessage).toBeUndefined();
  });

  it('keeps a first failure just inside the clock skew and an old but possible one (the ladder then expires it)', () => {
    expect(readRetryState({ [HEADER.firstFailureAt]: String(now + 60_000) }, ctx).firstFailureAt).toBe(now + 60_000);
    const old = Date.UTC(2001, 0, 1);
    expect(readRetryState({ [HEADER.firstFailureAt]: String(old) }, ctx).firstFailureAt).toBe(old);
  });

  it('falls back to the record for a tampered origin', () => {
    const back = readRetryState({ [HEADER.originalTopic]: '../etc', [HEADER.originalPartition]: '1', [HEADER.originalOffset]: '2' }, ctx);
    expect(back.original).toEqual({ topic: 'ev.r.retry.2', partition: 3, offset: '41' });
    const badOffset = readRetryState({ [HEADER.originalTopic]: 'ev', [HEADER.originalPartition]: '1', [HEADER.originalOffset]: '-2' }, ctx);
    expect(badOffset.original.topic).toBe('ev.r.retry.2');
  });

  it('survives a garbage error history and bounds a long one', () => {
    expect(readRetryState({ [HEADER.errors]: '{not json' }, ctx).errors).toEqual([]);
    expect(readRetryState({ [HEADER.errors]: '"text"' }, ctx).errors).toEqual([]);
    const long = Array.from({ length: 50 }, (_, i) => ({ at: now - i, stage: 1, class: 'E', message: 'x'.repeat(5000) }));
    const errors = readRetryState({ [HEADER.errors]: JSON.stringify([...long, { at: 'x' }, null]) }, ctx).errors;
    expect(errors.length).toBeLessThanOrEqual(LIMITS.historyEntries);
    for (const e of errors) expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(LIMITS.historyMessageBytes);
  });

  it('drops an error class that is not a plain name', () => {
    expect(readRetryState({ [HEADER.errorClass]: 'Error\nInjected: yes' }, ctx).errorClass).toBeUndefined();
  });

  it('keeps the due time only when sane (the ladder clamps it to the stage delay)', () => {
    expect(readRetryState({ [HEADER.dueAt]: String(now) }, ctx).dueAt).toBe(now);
    expect(readRetryState({ [HEADER.dueAt]: 'soon' }, ctx).dueAt).toBeUndefined();
  });

  it('truncates the error message to 1 KiB on write and on read', () => {
    const state = recordFailure(undefined, { stage: 0, now, errorClass: 'E', errorMessage: 'é'.repeat(5000), replica: 'r', origin });
    const headers = writeRetryState(state);
    expect(Buffer.byteLength(headers[HEADER.errorMessage] ?? '')).toBeLessThanOrEqual(LIMITS.errorMessageBytes);
    const back = readRetryState({ [HEADER.errorMessage]: 'y'.repeat(8000) }, ctx);
    expect(Buffer.byteLength(back.errorMessage ?? '')).toBeLessThanOrEqual(LIMITS.errorMessageBytes);
  });

  it('counts attempts and keeps the first failure time', () => {
    const first = failedOnce();
    const second = recordFailure(first, { stage: 1, now, errorClass: 'PermanentFetchError', errorMessage: 'bad', replica: 'r', origin });
    expect(first.attempt).toBe(1);
    expect(second.attempt).toBe(2);
    expect(second.firstFailureAt).toBe(first.firstFailureAt);
    expect(second.lastFailureAt).toBe(now);
    expect(second.errorClass).toBe('PermanentFetchError');
  });

  it('truncates without splitting characters', () => {
    expect(truncateBytes('abc', 10)).toBe('abc');
    const cut = truncateBytes('ééééé', 6);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(6);
    expect(cut).not.toContain('\uFFFD');
  });
});
