import { describe, expect, it } from 'vitest';
import { WORKAROUNDS_KAFKAJS_VERSION, writtenFor } from '../../src/kafka/workarounds.js';

describe('kafkajs workarounds on a kafkajs they were not written for', () => {
  it('are not installed, and a warning says so', () => {
    const lines: string[] = [];
    const log = { warn: (...a: unknown[]) => lines.push(`warn ${JSON.stringify(a)}`) };
    expect(writtenFor('2.3.0', log)).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warn .*"kafkajs":"2\.3\.0".*not installed/);
    expect(writtenFor(WORKAROUNDS_KAFKAJS_VERSION, log)).toBe(true);
    expect(lines).toHaveLength(1);
  });
});
