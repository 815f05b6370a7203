import { describe, expect, it } from 'vitest';
import {
  EventDecodeError,
  UnsupportedEventVersionError,
  decodeEvent,
  encodeEvent,
  makeEvent,
  refNameProblem,
  repoNameProblem,
  type FullSyncEvent,
  type RefsUpdatedEvent,
} from '../../src/events/index.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

function refsEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    id: '5f0c6c1e-8d6a-4a43-9a53-0e0b8f1f2a11',
    kind: 'refs-updated',
    repo: 'group/app.git',
    origin: 'primary-eu',
    publishedAt: '2026-11-21T06:00:00.000Z',
    refs: [{ ref: 'refs/heads/main', old: A, new: B }],
    ...over,
  };
}

describe('event codec', () => {
  it('round-trips every kind', () => {
    const events = [
      makeEvent<RefsUpdatedEvent>({ kind: 'refs-updated', repo: 'a.git', origin: 'p', refs: [{ ref: 'refs/tags/v1', old: Z, new: A }] }),
      makeEvent({ kind: 'repo-created', repo: 'x/y.git', origin: 'p' }),
      makeEvent({ kind: 'repo-deleted', repo: 'x/y.git', origin: 'p' }),
      makeEvent<FullSyncEvent>({ kind: 'full-sync', repo: 'x/y.git', origin: 'p', reason: 'backfill' }),
    ];
    for (const event of events) expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it('accepts 64-character (SHA-256) object ids', () => {
    const e = decodeEvent(JSON.stringify(refsEvent({ refs: [{ ref: 'refs/heads/x', old: 'c'.repeat(64), new: Z + Z.slice(0, 24) }] })));
    expect(e.kind).toBe('refs-updated');
  });

  it('drops unknown fields instead of passing them on', () => {
    const e = decodeEvent(JSON.stringify(refsEvent({ url: 'ext::sh -c evil', extra: 1 })));
    expect(e).not.toHaveProperty('url');
    expect(e).not.toHaveProperty('extra');
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['no version', JSON.stringify(refsEvent({ v: undefined })), /event\.v is missing/],
    ['unknown kind', JSON.stringify(refsEvent({ kind: 'explode' })), /event\.kind "explode"/],
    ['absolute repo', JSON.stringify(refsEvent({ repo: '/etc/passwd' })), /event\.repo.*relative/],
    ['escaping repo', JSON.stringify(refsEvent({ repo: 'a/../../b' })), /event\.repo.*'\.\.'/],
    ['leading-dash repo', JSON.stringify(refsEvent({ repo: '--upload-pack=x' })), /event\.repo.*"-"/],
    ['ref with ..', JSON.stringify(refsEvent({ refs: [{ ref: 'refs/heads/a..b', old: A, new: B }] })), /refs\[0\]\.ref.*"\.\."/],
    ['ref with leading dash', JSON.stringify(refsEvent({ refs: [{ ref: '-refs/heads/x', old: A, new: B }] })), /refs\/"/],
    ['short oid', JSON.stringify(refsEvent({ refs: [{ ref: 'refs/heads/a', old: 'abc', new: B }] })), /refs\[0\]\.old/],
    ['upper-case oid', JSON.stringify(refsEvent({ refs: [{ ref: 'refs/heads/a', old: A.toUpperCase(), new: B }] })), /refs\[0\]\.old/],
    ['empty refs', JSON.stringify(refsEvent({ refs: [] })), /non-empty/],
    ['bad time', JSON.stringify(refsEvent({ publishedAt: 'yesterday' })), /publishedAt/],
    ['bad part', JSON.stringify(refsEvent({ part: { index: 2, count: 2 } })), /event\.part/],
  ])('rejects %s with a clear error', (_what, raw, message) => {
    expect(() => decodeEvent(raw)).toThrow(EventDecodeError);
    expect(() => decodeEvent(raw)).toThrow(message);
  });

  it('names an unsupported version', () => {
    expect(() => decodeEvent(JSON.stringify(refsEvent({ v: 7 })))).toThrow(UnsupportedEventVersionError);
    expect(() => decodeEvent(JSON.stringify(refsEvent({ v: 7 })))).toThrow('unsupported event version 7');
  });

  it('refuses to encode an invalid event', () => {
    expect(() => encodeEvent(refsEvent({ repo: '../x' }) as never)).toThrow(EventDecodeError);
  });
});

describe('names', () => {
  it.each([
    ['refs/heads/main', undefined],
    ['refs/heads/feature/x-1', undefined],
    ['refs/tags/v1.0', undefined],
    ['HEAD', 'must start with "refs/"'],
    ['refs/heads/a b', 'must not contain spaces'],
    ['refs/heads/a~1', 'must not contain spaces'],
    ['refs/heads/x.lock', 'ending with ".lock"'],
    ['refs/heads/.hidden', 'starting with "."'],
    ['refs/heads/a@{1}', '"@{"'],
    ['refs/heads//a', '"//"'],
    ['refs/heads/a.', 'end with "."'],
    ['refs/heads/a\\b', 'must not contain spaces'],
  ])('ref %s', (ref, problem) => {
    const got = refNameProblem(ref);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  it.each([
    ['app.git', undefined],
    ['group/sub/app.git', undefined],
    ['', 'is empty'],
    ['a//b', 'empty path segment'],
    ['.git', 'starting with "."'],
    ['a/./b', "'.' segment"],
    ['a\nb', 'may hold only'],
    ['a'.repeat(300), 'longer than'],
  ])('repository %j', (name, problem) => {
    const got = repoNameProblem(name);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});
