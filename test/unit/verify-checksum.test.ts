import { describe, expect, it } from 'vitest';
import { checksumOfLines, EMPTY_CHECKSUM, RefChecksum } from '../../src/verify/index.js';
import { checksumLine } from '../../src/verify/ref-listing.js';

// Known values computed outside Node (printf '%s' "<line>" | sha1sum, then XOR by hand).
const MAIN = '95d09f2b10159347eece71399a7e2e907ea3df4f refs/heads/main';
const TAG = 'd670460b4b4aece5915caf5c68d12f560a9fe3e4 refs/tags/v1.0';
const SHA1_MAIN = 'dda855ee95cd72ffde2930320b984ad941c2014a';
const MAIN_XOR_TAG = '7b318c48c1e9334566d0a0daec90af983019eb2d';

describe('repository checksum', () => {
  it('is all zeros for a repository without refs', () => {
    expect(new RefChecksum().hex()).toBe(EMPTY_CHECKSUM);
    expect(EMPTY_CHECKSUM).toBe('0'.repeat(40));
    expect(checksumOfLines([])).toBe(EMPTY_CHECKSUM);
  });

  it('is the SHA-1 of the line for one ref, the XOR of the SHA-1s for several', () => {
    expect(checksumOfLines([MAIN])).toBe(SHA1_MAIN);
    expect(checksumOfLines([MAIN, TAG])).toBe(MAIN_XOR_TAG);
    const sum = new RefChecksum();
    sum.add('95d09f2b10159347eece71399a7e2e907ea3df4f', 'refs/heads/main');
    sum.add('d670460b4b4aece5915caf5c68d12f560a9fe3e4', 'refs/tags/v1.0');
    expect(sum.hex()).toBe(MAIN_XOR_TAG);
    expect(sum.count).toBe(2);
  });

  it('does not depend on the order of the refs', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `${i.toString(16).padStart(40, 'a')} refs/heads/b${i}`);
    const shuffled = [...lines].reverse();
    shuffled.push(...shuffled.splice(0, 77));
    expect(checksumOfLines(shuffled)).toBe(checksumOfLines(lines));
  });

  it('changes when a ref is added, removed or moved', () => {
    const base = checksumOfLines([MAIN, TAG]);
    expect(checksumOfLines([MAIN])).not.toBe(base);
    expect(checksumOfLines([MAIN, TAG, '1111111111111111111111111111111111111111 refs/heads/x'])).not.toBe(base);
    expect(checksumOfLines([MAIN, TAG.replace('d670', 'e670')])).not.toBe(base);
    // A ref renamed with the same object id is a different line, hence a different checksum.
    expect(checksumOfLines([MAIN, TAG.replace('v1.0', 'v1.1')])).not.toBe(base);
  });
});

describe('lines git prints', () => {
  const oid = '95d09f2b10159347eece71399a7e2e907ea3df4f';
  const sha256 = 'a'.repeat(64);
  it('become `<oid> <refname>` lines', () => {
    expect(checksumLine(`${oid} refs/heads/main`, ' ')).toBe(`${oid} refs/heads/main`);
    expect(checksumLine(`${oid}\trefs/heads/main`, '\t')).toBe(`${oid} refs/heads/main`);
    expect(checksumLine(`${sha256}\trefs/tags/v1`, '\t')).toBe(`${sha256} refs/tags/v1`);
    expect(checksumLine(`${oid}\trefs/heads/with space`, '\t')).toBe(`${oid} refs/heads/with space`);
  });
  it('are refused when they are not a ref under refs/', () => {
    for (const [line, sep] of [
      [`${oid}\tHEAD`, '\t'],
      [`${oid} HEAD`, ' '],
      [`${oid.toUpperCase()} refs/heads/main`, ' '],
      [`${oid.slice(1)} refs/heads/main`, ' '],
      [`${oid} refs/heads/main`, '\t'],
      [`${oid}\trefs/heads/main`, ' '],
      [`${oid} refs/`, ' '],
      ['', ' '],
      ['ERR access denied', '\t'],
    ] as const) {
      expect(checksumLine(line, sep)).toBeUndefined();
    }
  });
});
