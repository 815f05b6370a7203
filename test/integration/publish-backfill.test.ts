import { describe, expect, it } from 'vitest';
import type { FullSyncEvent } from '../../src/events/index.js';
import { makeBareRepo, pushCommit } from '../helpers/git.js';
import { deadBrokerEnv, primaryWithRepo, pullrep, topicEvents } from './publish-helpers.js';

describe('pullrep backfill', () => {
  it('publishes one full-sync event per repository under primary.root and sums up', async () => {
    const names = ['alpha.git', 'group/beta.git', 'group/deep/gamma.git'];
    const { primary, kafka } = await primaryWithRepo(names[0] ?? '');
    for (const name of names.slice(1)) await makeBareRepo(primary.root, name);
    await pushCommit(`${primary.root}/alpha.git`);
    await makeBareRepo(primary.root, '.pullrep-spool/not-a-repo.git');

    const r = await pullrep(['--config', primary.configFile, 'backfill']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('repositories found: 3, published: 3, spooled: 0, failed: 0\n');
    expect(r.stderr).toMatch(/^3\/3 repositories \(100%\)\n$/);

    const events = await topicEvents(kafka, primary.topic);
    const syncs = events.map((e) => e.event as FullSyncEvent);
    expect(syncs.map((e) => e.repo).sort()).toEqual(names);
    expect(events.map((e) => e.key).sort()).toEqual(names);
    for (const e of syncs) expect(e).toMatchObject({ kind: 'full-sync', reason: 'backfill', origin: 'primary-test' });
    expect(new Set(syncs.map((e) => e.id)).size).toBe(3);
  });

  it('spools what Kafka does not take, and a flush delivers it', async () => {
    const { primary, kafka } = await primaryWithRepo('one.git');
    await makeBareRepo(primary.root, 'two.git');
    const down = await deadBrokerEnv();
    const r = await pullrep(['--config', primary.configFile, 'backfill'], { env: down });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('repositories found: 2, published: 0, spooled: 2, failed: 0\n');
    const flushed = await pullrep(['--config', primary.configFile, 'spool', 'flush']);
    expect(flushed.stdout).toBe('2 files sent\n');
    const events = await topicEvents(kafka, primary.topic);
    expect(events.map((e) => e.event.repo).sort()).toEqual(['one.git', 'two.git']);
  });
});
