import { describe, expect, it } from 'vitest';
import { produceThenCommit, transactionalHandOff } from '../../src/consumer/handoff.js';
import type { RecordSink, TransactionalSink } from '../../src/kafka/index.js';

const out = [{ topic: 'ev.r.retry.1', partition: 0, key: 'k', value: Buffer.from('v'), headers: {} }];
const commit = { topic: 'ev', partition: 0, offset: '8' };

function fakes() {
  const log: string[] = [];
  const tx = {
    send: async () => void log.push('tx produce'),
    sendOffset: async () => void log.push('tx offsets'),
    commit: async () => void log.push('tx commit'),
    abort: async () => void log.push('tx abort'),
  };
  const sink: RecordSink = { send: async () => void log.push('produce'), disconnect: async () => undefined };
  const transactional: TransactionalSink = { begin: async () => tx, disconnect: async () => undefined };
  const committer = { commit: async () => void log.push('commit') };
  return { log, sink, transactional, committer };
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
    await expect(transactionalHandOff({ sink: f.transactional, groupId: 'r' }).deliver(out, commit, () => true)).resolves.toBe(true);
    expect(f.log).toEqual(['tx produce', 'tx offsets', 'tx commit']);
  });

  it('aborts the transaction for a partition that moved to another member', async () => {
    const f = fakes();
    await expect(transactionalHandOff({ sink: f.transactional, groupId: 'r' }).deliver(out, commit, () => false)).resolves.toBe(false);
    expect(f.log).toEqual(['tx produce', 'tx abort']);
  });
});
