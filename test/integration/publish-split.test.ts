import { describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { git, readRefs, WorkClone } from '../helpers/git.js';
import { gitRun, installHook, minimalEnv, primaryWithRepo, topicEvents } from './publish-helpers.js';

const REFS = 30_000;

describe('a mirror push of many refs', () => {
  it('is split into several events, each under publish.maxEventBytes, carrying every ref once', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('mirror.git');
    await installHook(primary, bare);
    const work = await WorkClone.of(bare);
    const commit = await work.commit();
    const lines = Array.from({ length: REFS }, (_, i) => `create refs/heads/m/${String(i).padStart(5, '0')} ${commit}\n`).join('');
    await git(['update-ref', '--stdin'], { cwd: work.dir, input: lines });

    const push = await gitRun(['push', '--quiet', 'origin', 'refs/heads/*:refs/heads/*'], work.dir, minimalEnv(primary.base));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toBe('');
    expect(Object.keys(await readRefs(bare))).toHaveLength(REFS + 1);

    const events = await topicEvents(kafka, primary.topic);
    const parts = events.map((e) => e.event as RefsUpdatedEvent);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, index) => ({ index, count: parts.length })));
    for (const e of events) {
      expect(e.key).toBe('mirror.git');
      expect(e.bytes).toBeLessThan(256 * 1024);
    }
    const refs = parts.flatMap((p) => p.refs.map((r) => r.ref));
    expect(refs).toHaveLength(REFS + 1);
    expect(new Set(refs).size).toBe(REFS + 1);
    expect(parts.flatMap((p) => p.refs).every((r) => r.new === commit && /^0+$/.test(r.old))).toBe(true);
  });
});
