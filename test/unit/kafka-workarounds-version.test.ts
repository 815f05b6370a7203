import { describe, expect, it } from 'vitest';
import { installKafkaWorkarounds, workaroundState } from '../../src/kafka/workarounds.js';

describe('kafkajs workarounds on a kafkajs they were not written for', () => {
  it('install nothing and say so at warn', () => {
    const lines: string[] = [];
    const log = { debug: (...a: unknown[]) => lines.push(`debug ${JSON.stringify(a)}`), warn: (...a: unknown[]) => lines.push(`warn ${JSON.stringify(a)}`) };
    expect(installKafkaWorkarounds(log, '2.3.0')).toEqual({ version: '2.3.0', idleTimers: false, producerTopics: false });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warn .*"kafkajs":"2\.3\.0".*not installed/);
    expect(workaroundState()).toMatchObject({ idleTimers: false, producerTopics: false });
  });
});
