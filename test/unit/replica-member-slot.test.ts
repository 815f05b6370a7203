import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimMemberSlot } from '../../src/replica/member-slot.js';
import { tempDir } from '../helpers/git.js';

describe('member slots', () => {
  it('gives two live processes two slots, and a restarted one its old slot back', async () => {
    const dir = await tempDir('pullrep-slots-');
    const alive = new Set([100, 200]);
    const deps = (pid: number, host = 'h1') => ({ dir, host, pid, isAlive: (p: number) => alive.has(p) });
    const a = await claimMemberSlot(deps(100));
    const b = await claimMemberSlot(deps(200));
    expect([a.slot, b.slot]).toEqual([0, 1]);
    // 100 is killed; its successor (a new pid) takes slot 0 again, not slot 2.
    alive.delete(100);
    alive.add(300);
    const c = await claimMemberSlot(deps(300));
    expect(c.slot).toBe(0);
    expect(await readFile(join(dir, '0'), 'utf8')).toBe('h1 300\n');
    // A slot of another host (shared storage) is never taken over.
    await writeFile(join(dir, '2'), 'h2 999\n');
    alive.add(400);
    expect((await claimMemberSlot(deps(400))).slot).toBe(3);
    // Releasing frees only one's own slot.
    await b.release();
    expect((await claimMemberSlot(deps(500))).slot).toBe(1);
    await a.release();
    expect(await readFile(join(dir, '0'), 'utf8')).toBe('h1 300\n');
  });
});
