import { describe, expect, it } from 'vitest';
import { parseTimeout } from '../../src/cli/commands/wait.js';
import { notReadyBecause } from '../../src/replica/readiness.js';
import { summarize, toView } from '../../src/replica/repo-view.js';
import { checkWaitRequest, WaitRequestError } from '../../src/replica/wait.js';

describe('readiness', () => {
  const ok = { running: true, joined: true, crashed: false, brokers: true, worstLagMs: 0, maxLagMs: 0 };
  it('is ready only while running, in the group, not crashed, Kafka answering and lag within the bound', () => {
    expect(notReadyBecause(ok)).toBeUndefined();
    expect(notReadyBecause({ ...ok, brokers: false })).toBe('Kafka does not answer');
    expect(notReadyBecause({ ...ok, crashed: true })).toMatch(/crashed/);
    expect(notReadyBecause({ ...ok, joined: false })).toMatch(/not in its group/);
    expect(notReadyBecause({ ...ok, running: false })).toBe('not running');
    expect(notReadyBecause({ ...ok, worstLagMs: 5000, maxLagMs: 0 })).toBeUndefined();
    expect(notReadyBecause({ ...ok, worstLagMs: 5000, maxLagMs: 4000 })).toMatch(/http.readyMaxLagMs/);
  });
});

describe('wait requests', () => {
  it('refuses hostile names, bad refs, bad oids and timeouts out of range', () => {
    const good = { repo: 'g/a.git', ref: 'refs/heads/main', oid: 'a'.repeat(40), timeoutMs: 1000 };
    expect(() => checkWaitRequest(good)).not.toThrow();
    for (const bad of [{ repo: '../x.git' }, { repo: '/abs.git' }, { ref: 'main' }, { ref: 'refs/heads/a..b' }, { oid: 'xyz' }, { timeoutMs: -1 }, { timeoutMs: 10 * 60 * 1000 }]) {
      expect(() => checkWaitRequest({ ...good, ...bad }), JSON.stringify(bad)).toThrow(WaitRequestError);
    }
  });
  it('reads durations as people write them', () => {
    expect(parseTimeout('10s')).toBe(10_000);
    expect(parseTimeout('500ms')).toBe(500);
    expect(parseTimeout('2m')).toBe(120_000);
    expect(parseTimeout('750')).toBe(750);
    expect(() => parseTimeout('soon')).toThrow(/not a duration/);
  });
});

describe('repository views', () => {
  const base = { stage: null, lastEventId: null, lastEventPublishedAt: null, lastSyncAt: 1000, lastSyncMs: 5, lastFailure: null, lastVerifiedAt: null, lastVerifyResult: null, checksum: null, updatedAt: 1000 };
  it('lag is the age of the oldest unapplied event, 0 without one; the summary counts states and names the worst', () => {
    const a = toView({ ...base, repo: 'a.git', state: 'synced' }, null, 10_000);
    const b = toView({ ...base, repo: 'b.git', state: 'retrying', stage: 2 }, 4000, 10_000);
    expect(a.lagMs).toBe(0);
    expect(b.lagMs).toBe(6000);
    expect(b.lastSyncAt).toBe(new Date(1000).toISOString());
    const s = summarize([a, b]);
    expect(s.states.synced).toBe(1);
    expect(s.states.retrying).toBe(1);
    expect(s).toMatchObject({ worstLagMs: 6000, worstLagRepo: 'b.git' });
  });
});
