import { describe, expect, it } from 'vitest';
import { makeEvent, type RefEvent } from '../../src/events/index.js';
import { coalesce } from '../../src/consumer/coalesce.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function rec(offset: number, event: RefEvent) {
  return { offset: String(offset), event, raw: offset };
}
const refs = (repo: string, updates: Array<[string, string]>, publishedAt = '2026-01-01T00:00:00.000Z') =>
  makeEvent<RefEvent & { kind: 'refs-updated' }>({ kind: 'refs-updated', repo, origin: 'p', publishedAt, refs: updates.map(([ref, n]) => ({ ref, old: A, new: n })) });
const other = (repo: string, kind: 'full-sync' | 'repo-created' | 'repo-deleted') => makeEvent<RefEvent>({ kind, repo, origin: 'p' } as never);

describe('coalesce', () => {
  it('makes one sync per repository with the union of refs and the latest hints', () => {
    const works = coalesce(
      [
        rec(1, refs('x', [['refs/heads/main', B]])),
        rec(2, refs('y', [['refs/heads/dev', A]])),
        rec(3, refs('x', [['refs/heads/main', C], ['refs/tags/v1', A]], '2026-01-02T00:00:00.000Z')),
      ],
      { applyDeletes: false },
    );
    expect(works.map((w) => [w.repo, w.action, w.refs, w.records.map((r) => r.raw)])).toEqual([
      ['x', 'refs', ['refs/heads/main', 'refs/tags/v1'], [1, 3]],
      ['y', 'refs', ['refs/heads/dev'], [2]],
    ]);
    expect(works[0]?.hints).toEqual({ 'refs/heads/main': C, 'refs/tags/v1': A });
    expect(works[0]?.publishedAt.toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it('syncs the whole repository when a full sync or creation is among the records', () => {
    const works = coalesce([rec(1, refs('x', [['refs/heads/main', B]])), rec(2, other('x', 'full-sync'))], { applyDeletes: false });
    expect(works[0]?.action).toBe('repository');
    expect(coalesce([rec(1, other('x', 'repo-created'))], { applyDeletes: false })[0]?.action).toBe('repository');
  });

  it('applies a deletion only when configured and it is the latest word', () => {
    expect(coalesce([rec(1, other('x', 'repo-deleted'))], { applyDeletes: false })[0]?.action).toBe('ignore');
    expect(coalesce([rec(1, other('x', 'repo-deleted'))], { applyDeletes: true })[0]?.action).toBe('delete');
    const recreated = coalesce([rec(1, other('x', 'repo-deleted')), rec(2, refs('x', [['refs/heads/main', B]]))], { applyDeletes: true });
    expect(recreated[0]?.action).toBe('repository');
    const ignored = coalesce([rec(1, other('x', 'repo-deleted')), rec(2, refs('x', [['refs/heads/main', B]]))], { applyDeletes: false });
    expect(ignored[0]?.action).toBe('refs');
  });
});
