import type { Gauge } from 'prom-client';
import type { KafkaAdmin, KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { groupLag } from './status.js';

export interface LagPoller {
  stop(): Promise<void>;
}

/**
 * Sets `gauge{topic}` to the records of each topic the group has not committed, every
 * `intervalMs`, with one admin connection kept open (made again after a failure). A scrape reads
 * the last values and never waits for Kafka. When Kafka does not answer, the values stay as they
 * were; the replica's readiness says what is wrong.
 */
export function pollLag(deps: { kafka: KafkaClient; group: string; topics: readonly string[]; gauge: Gauge<'topic'>; logger: Logger; intervalMs?: number }): LagPoller {
  let admin: KafkaAdmin | undefined;
  let running: Promise<void> | undefined;
  let failing = false;
  const once = async () => {
    try {
      admin ??= await deps.kafka.admin();
      const partitions = await groupLag(admin, deps.group, deps.topics);
      const sums = new Map<string, number>(deps.topics.map((t) => [t, 0]));
      for (const p of partitions) sums.set(p.topic, (sums.get(p.topic) ?? 0) + p.lag);
      for (const [topic, lag] of sums) deps.gauge.set({ topic }, lag);
      failing = false;
    } catch (err) {
      if (!failing) deps.logger.debug({ err: (err as Error).message }, 'consumer lag not refreshed');
      failing = true;
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    }
  };
  const tick = () => {
    running ??= once().finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, deps.intervalMs ?? 15_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
