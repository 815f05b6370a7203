import { describe, expect, it } from 'vitest';
import { PublishInputError, parseRefLines } from '../../src/publish/index.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

describe('parseRefLines', () => {
  it('reads every post-receive line in order', () => {
    const input = `${Z} ${A} refs/heads/main\n${A} ${B} refs/tags/v1\n${B} ${Z} refs/heads/gone\n`;
    expect(parseRefLines(input, 'post-receive')).toEqual([
      { ref: 'refs/heads/main', old: Z, new: A },
      { ref: 'refs/tags/v1', old: A, new: B },
      { ref: 'refs/heads/gone', old: B, new: Z },
    ]);
  });

  it('accepts SHA-256 object ids and input without a final newline', () => {
    const long = 'c'.repeat(64);
    expect(parseRefLines(`${Z}${'0'.repeat(24)} ${long} refs/heads/x`, 'post-receive')).toHaveLength(1);
  });

  it('skips HEAD and other pseudo-refs of a reference transaction, not of post-receive', () => {
    const input = `${A} ${B} HEAD\n${A} ${B} refs/heads/main\n`;
    expect(parseRefLines(input, 'reference-transaction')).toEqual([{ ref: 'refs/heads/main', old: A, new: B }]);
    expect(() => parseRefLines(input, 'post-receive')).toThrow(/must start with "refs\/"/);
  });

  it('skips the symbolic-ref updates newer git reports to a reference transaction, and publishes the rest', () => {
    const input = [
      `ref:refs/heads/main ref:refs/heads/next HEAD`,
      `${Z} ref:refs/heads/main refs/remotes/origin/HEAD`,
      `ref:refs/heads/old ${A} refs/heads/was-symbolic`,
      `${A} ${B} refs/heads/next`,
      '',
    ].join('\n');
    expect(parseRefLines(input, 'reference-transaction')).toEqual([{ ref: 'refs/heads/next', old: A, new: B }]);
    expect(() => parseRefLines(input, 'post-receive')).toThrow(PublishInputError);
  });

  it('gives nothing for empty input', () => {
    expect(parseRefLines('', 'post-receive')).toEqual([]);
  });

  it.each([
    [`${A} ${B} refs/heads/a..b`, /stdin line 1: ref name .* must not contain "\.\."/],
    [`${A} ${B} -refs/heads/x`, /must start with "refs\/"/],
    [`${A} ${B} --upload-pack=evil`, /must start with "refs\/"/],
    [`${A} ${B}`, /stdin line 1 is not "<old> <new> <ref>"/],
    [`${A} ${B} refs/heads/x extra`, /is not "<old> <new> <ref>"/],
    [`${A}  ${B} refs/heads/x`, /is not "<old> <new> <ref>"|object id/],
    [`xyz ${B} refs/heads/x`, /old object id "xyz" is not 40 or 64 hex/],
    [`${A} ${B.toUpperCase()} refs/heads/x`, /new object id/],
    [`${A} ${B} refs/heads/x\n\n${A} ${B} refs/heads/y`, /stdin line 2/],
    [`${A} ${B} refs/heads/x\r`, /must not contain spaces, control characters/],
  ])('refuses %j with a clear, typed error', (input, message) => {
    let caught: unknown;
    try {
      parseRefLines(input, 'post-receive');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PublishInputError);
    expect((caught as PublishInputError).retriable).toBe(false);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('\n');
  });
});
