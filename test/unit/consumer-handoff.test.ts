import { describe, expect, it } from 'vitest';
import { produceThenCommit, transactionalHandOff } from '../../src/consumer/handoff.js';
import type { Consumer, Producer } from '../../src/kafka/index.js';

const out = [{ topic: 'ev.r.retry.1', partition: 0, key: 'k', value: Buffer.from('v'), headers: {} }];
const commit = { topic: 'ev', partition: 0, offset: '8' };

function fakes() {
  const log: string[] = [];
  const tx = {
    sendBatch: async () => void log.push('tx produce'),
    sendOffsets: async () => void log.push('tx offsets'),
    commit: async () => void log.push('tx commit'),
    abort: async () => void log.push('tx abort'),
  };
  const producer = {
    sendBatch: async () => void log.push('produce'),
    transaction: async () => tx,
    disconnect: async () => undefined,
  } as unknown as Producer;
  const consumer = { commitOffsets: async () => void log.push('commit') } as unknown as Consumer;
  return { log, producer, consumer };
}

describe('hand-off', () => {
  it('produces, then commits', async () => {
    const f = fakes();
    await expect(produceThenCommit(f).deliver(out, commit, () => true)).resolves.toBe(true);
    expect(f.log).toEqual(['produce', 'commit']);
  });

  it('does not commit for a partition that moved to another member during the produce', async () => {
    const f = fakes();
    await expect(produceThenCommit(f).deliver(out, commit, () => false)).resolves.toBe(false);
    expect(f.log).toEqual(['produce']);
  });

  it('commits records and offset in one transaction', async () => {
    const f = fakes();
    await expect(transactionalHandOff({ producer: f.producer, groupId: 'r' }).deliver(out, commit, () => true)).resolves.toBe(true);
    expect(f.log).toEqual(['tx produce', 'tx offsets', 'tx commit']);
  });

  it('aborts the transaction for a partition that moved to another member', async () => {
    const f = fakes();
    await expect(transactionalHandOff({ producer: f.producer, groupId: 'r' }).deliver(out, commit, () => false)).resolves.toBe(false);
    expect(f.log).toEqual(['tx produce', 'tx abort']);
  });
});
