import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent, type RefsUpdatedEvent } from '../../src/events/index.js';
import { Spool, SpoolError, SpoolLock } from '../../src/publish/index.js';

const dir = () => mkdtemp(join(tmpdir(), 'pullrep-spool-'));
const event = (repo: string) =>
  makeEvent<RefsUpdatedEvent>({ kind: 'refs-updated', repo, origin: 'primary', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: 'a'.repeat(40) }] });
const record = (repo: string) => ({ topic: 'git.ref-updates', key: repo, value: encodeEvent(event(repo)) });

describe('Spool', () => {
  it('keeps events in the order they were written, across clock ties', async () => {
    const spool = new Spool(join(await dir(), 'spool'), () => 1_700_000_000_000);
    const first = await spool.append([record('a'), record('b')]);
    const second = await spool.append([record('c')]);
    expect(await spool.names()).toEqual([...first, ...second]);
    const items = await spool.list();
    expect(items.map((i) => [i.repo, i.refs, i.kind])).toEqual([
      ['a', 1, 'refs-updated'],
      ['b', 1, 'refs-updated'],
      ['c', 1, 'refs-updated'],
    ]);
    expect(items[0]?.spooledAt.getTime()).toBe(1_700_000_000_000);
  });

  it('reads back exactly what was written and forgets removed events', async () => {
    const spool = new Spool(await dir());
    const r = record('x/y.git');
    const [name] = await spool.append([r]);
    if (!name) throw new Error('nothing written');
    const back = await spool.read(name);
    expect(back.records[0]?.value).toBe(r.value.toString());
    expect(back.records[0]?.key).toBe('x/y.git');
    await spool.remove(name);
    await spool.remove(name);
    expect(await spool.names()).toEqual([]);
  });

  it('leaves no temporary files and lists nothing for a missing directory', async () => {
    const base = await dir();
    const spool = new Spool(base);
    await spool.append([record('a')]);
    expect((await readdir(base)).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await new Spool(join(base, 'nope')).names()).toEqual([]);
  });

  it('refuses a tampered file with a typed error and moves it aside on request', async () => {
    const base = await dir();
    const spool = new Spool(base);
    const name = '000000000000001-000001-1-deadbeef.event';
    await writeFile(join(base, name), JSON.stringify({ topic: 't', key: 'a', value: '{"v":1,"kind":"refs-updated"}' }));
    await expect(spool.read(name)).rejects.toBeInstanceOf(SpoolError);
    const listed = await spool.list();
    expect(listed[0]?.problem).toMatch(/is invalid/);
    await spool.quarantine(name);
    expect(await spool.names()).toEqual([]);
    expect(await readdir(base)).toEqual([`${name}.invalid`]);
  });
});

describe('SpoolLock', () => {
  it('is exclusive until released', async () => {
    const path = join(await dir(), 'lock');
    const a = new SpoolLock({ path, staleMs: 60_000 });
    const b = new SpoolLock({ path, staleMs: 60_000 });
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(await b.acquire(Date.now() + 50)).toBe(false);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
  });

  it('takes over the lock of a holder that died', async () => {
    const path = join(await dir(), 'lock');
    const dead = new SpoolLock({ path, staleMs: 60_000 });
    await dead.tryAcquire();
    const next = new SpoolLock({ path, staleMs: 60_000, isAlive: () => false });
    expect(await next.tryAcquire()).toBe(true);
    // the old holder's release must not free the new holder's lock
    await dead.release();
    expect(await new SpoolLock({ path, staleMs: 60_000 }).tryAcquire()).toBe(false);
  });

  it('takes over a lock not refreshed for staleMs', async () => {
    const path = join(await dir(), 'lock');
    await new SpoolLock({ path, staleMs: 60_000 }).tryAcquire();
    const later = new SpoolLock({ path, staleMs: 60_000, now: () => Date.now() + 61_000 });
    expect(await later.tryAcquire()).toBe(true);
  });

  it('stops waiting when told the work was done by the holder', async () => {
    const path = join(await dir(), 'lock');
    await new SpoolLock({ path, staleMs: 60_000 }).tryAcquire();
    const started = Date.now();
    expect(await new SpoolLock({ path, staleMs: 60_000 }).acquire(Date.now() + 5_000, async () => true)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
