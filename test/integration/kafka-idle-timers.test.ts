import { afterEach, describe, expect, it, vi } from 'vitest';
import { installKafkaWorkarounds } from '../../src/kafka/index.js';
import { silentLogger } from '../../src/log/index.js';
import { testClient } from '../helpers/kafka.js';

describe("kafkajs's idle request timers, with the workaround installed", () => {
  afterEach(() => vi.restoreAllMocks());

  it('are not re-armed by an idle connection to the real broker', async () => {
    expect(installKafkaWorkarounds(silentLogger()).idleTimers).toBe(true);
    const admin = await testClient().admin();
    try {
      await admin.listTopics();
      await new Promise((r) => setTimeout(r, 200));
      const spy = vi.spyOn(globalThis, 'setTimeout');
      await new Promise<void>((resolve) => {
        const started = Date.now();
        const check = () => (Date.now() - started >= 500 ? resolve() : setImmediate(check));
        check();
      });
      // kafkajs 2.2.4 as shipped re-arms a 1 ms timer per idle connection: hundreds in 500 ms.
      expect(spy.mock.calls.length).toBeLessThan(20);
    } finally {
      await admin.disconnect();
    }
  });
});
