import { describe, expect, it } from 'vitest';
import { listAfter } from '../../src/fetch/sync-refs.js';

describe('when deleted refs are learnt by listing the primary', () => {
  it('is from two deleted refs in a repository of ordinary size', () => {
    expect(listAfter(0)).toBe(2);
    expect(listAfter(200 * 70)).toBe(2);
    expect(listAfter(3 * 1024 * 1024)).toBe(2);
  });

  it('grows with the ref count, so a few deletions in a huge repository do not list 500,000 refs', () => {
    const fiveHundredThousand = 500_000 * 68;
    expect(listAfter(fiveHundredThousand)).toBeGreaterThanOrEqual(15);
    expect(listAfter(fiveHundredThousand)).toBeLessThanOrEqual(30);
    expect(listAfter(2 * fiveHundredThousand)).toBeGreaterThan(listAfter(fiveHundredThousand));
  });
});
