import { afterEach, describe, expect, it } from 'vitest';
import { createTopic } from '../helpers/kafka.js';
import { execFileAsync, PULLREP_BIN, replicaFixture, type ReplicaFixture } from './replica-fixture.js';

const run = execFileAsync;
const bin = PULLREP_BIN;

let fx: ReplicaFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('pullrep topics', () => {
  it('creates the ladder with the events topic\'s partitions, append time and a compacted failed topic', async () => {
    fx = await replicaFixture({ partitions: 3 });
    const { stdout } = await run(process.execPath, [bin, 'topics', 'ensure'], { env: fx.env });
    expect(stdout).toContain(`created ${fx.topics.retry[0]}`);
    expect(stdout).toContain(`created ${fx.topics.failed}`);
    const listed = JSON.parse((await run(process.execPath, [bin, 'topics', 'list', '--json'], { env: fx.env })).stdout) as Array<{ topic: string; partitions: number }>;
    expect(listed.filter((t) => t.topic !== fx?.topics.failed).map((t) => t.partitions)).toEqual([3, 3, 3]);
    const admin = fx.kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: 2, name: fx.topics.retry[1] ?? '', configNames: ['message.timestamp.type', 'retention.ms'] },
          { type: 2, name: fx.topics.failed, configNames: ['cleanup.policy'] },
        ],
      });
      const value = (name: string, key: string) => resources.find((r) => r.resourceName === name)?.configEntries.find((c) => c.configName === key)?.configValue;
      expect(value(fx.topics.retry[1] ?? '', 'message.timestamp.type')).toBe('LogAppendTime');
      // retry.maxRetryPeriodMs (60 s in the tests) plus a day: no event waiting in the ladder expires.
      expect(value(fx.topics.retry[1] ?? '', 'retention.ms')).toBe(String(60_000 + 24 * 3600 * 1000));
      expect(value(fx.topics.failed, 'cleanup.policy')).toBe('compact,delete');
    } finally {
      await admin.disconnect();
    }
    const again = await run(process.execPath, [bin, 'topics', 'ensure'], { env: fx.env });
    expect(again.stdout).not.toContain('created');
  });

  it('warns about a retry topic that does not use broker append time', async () => {
    fx = await replicaFixture({ partitions: 2 });
    await createTopic(fx.kafka, fx.topics.retry[0] ?? '', 2);
    const { stderr } = await run(process.execPath, [bin, 'topics', 'ensure'], { env: fx.env });
    expect(stderr).toContain(`warning: ${fx.topics.retry[0]} does not use message.timestamp.type=LogAppendTime`);
    expect(stderr).not.toContain(fx.topics.retry[1] ?? '-');
  });

  it('warns about a retry topic that keeps records for less than an event may wait in the ladder', async () => {
    fx = await replicaFixture({ partitions: 2 });
    await createTopic(fx.kafka, fx.topics.retry[1] ?? '', 2, { 'message.timestamp.type': 'LogAppendTime', 'retention.ms': '30000' });
    const { stderr } = await run(process.execPath, [bin, 'topics', 'ensure'], { env: fx.env });
    expect(stderr).toContain(`warning: ${fx.topics.retry[1]} keeps records for retention.ms=30000, less than retry.maxRetryPeriodMs plus a day`);
    expect(stderr).not.toContain(`${fx.topics.retry[0]} keeps`);
  });

  it('stops with a clear message when a retry topic has another partition count', async () => {
    fx = await replicaFixture({ partitions: 2 });
    await createTopic(fx.kafka, fx.topics.retry[1] ?? '', 1);
    const failure = run(process.execPath, [bin, 'replica'], { env: fx.env });
    await expect(failure).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${fx.topics.retry[1]} has 1 partitions`),
    });
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringContaining(`partition count of ${fx.topics.events} (2)`) });
  });
});
