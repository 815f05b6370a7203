import { afterEach, describe, expect, it } from 'vitest';
import { HEADER } from '../../src/retry/index.js';
import { createTopic, readTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, pullrep, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** ConfigResourceTypes.TOPIC of the Kafka protocol. */
const TOPIC_RESOURCE = 2;

async function setMaxMessageBytes(f: ReplicaFixture, topic: string, bytes: number): Promise<void> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }],
    });
  } finally {
    await admin.disconnect();
  }
}

describe('pullrep replica: a failing hand-off', () => {
  it.each([false, true])(
    'commits nothing while the next topic refuses the record, keeps trying, and goes on once it accepts (transactions: %s)',
    async (transactions) => {
      fx = await replicaFixture({ partitions: 1, overrides: { 'replica.transactions': transactions } });
      // A failed topic that refuses the failure record (its event alone is larger than this) but still
      // takes the broker's own transaction markers (about 80 bytes), as a partition that is briefly
      // unwritable would once it recovers.
      await createTopic(fx.kafka, fx.topics.failed, 1, { 'max.message.bytes': '150', 'cleanup.policy': 'compact,delete' });
      const { fetcher, service, running } = await fx.startReplica();
      const failedWrites = async () => Number(/^pullrep_failed_topic_writes_total\{reason="permanent"\} (\d+)$/m.exec(await running.registry.metrics())?.[1] ?? 0);
      const name = 'r/never-existed.git';
      // Published a day ago and missing on the primary: a permanent failure, bound for the failed topic.
      const old = { ...fx.refsEvent(name, { 'refs/heads/main': 'a'.repeat(40) }), publishedAt: new Date(Date.now() - 24 * 3600_000).toISOString() };
      await fx.produce(old, name);
      // The batch is taken again after each refused hand-off: the consumer does not wedge.
      await waitFor(() => fetcher.callsFor(name).length >= 3, { timeoutMs: 30_000, what: 'the batch to be retried after refused hand-offs' });
      expect(await committedOffsets(fx, fx.topics.events)).toBe(0n);
      expect(service.state).toBe('running');
      // Refused writes are not writes: the counter moves only once the broker acknowledged one.
      expect(await failedWrites()).toBe(0);

      await setMaxMessageBytes(fx, fx.topics.failed, 1024 * 1024);
      const f = fx;
      await waitFor(async () => (await committedOffsets(f, f.topics.events)) === 1n, { what: 'the events offset to be committed' });
      // Counted right after the hand-off returns, which is just after the commit: wait for it.
      await waitFor(async () => (await failedWrites()) >= 1, { what: 'the failed write to be counted' });
      expect(await failedWrites()).toBe(1);
      const failed = await readTopic(fx.kafka, fx.topics.failed, { atLeast: 1 });
      // One failure. Without transactions a redelivered batch may write it again, under the same key.
      if (transactions) expect(failed).toHaveLength(1);
      else expect(new Set(failed.map((r) => r.key)).size).toBe(1);
      expect(failed[0]?.key).toBeTruthy();
      expect(failed[0]?.headers[HEADER.reason]).toBe('permanent');
      // The operator's list reads the topic to its end, transaction markers included.
      const listed = JSON.parse(await pullrep(fx, ['failed', 'list', '--json'])) as Array<{ id: string; repository: string }>;
      expect(listed.map((e) => [e.id, e.repository])).toEqual([[failed[0]?.key, name]]);
    },
    90_000,
  );
});
