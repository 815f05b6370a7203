import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimMemberSlot, runningProcess, type ProcessIdentity } from '../../src/replica/member-slot.js';
import { tempDir } from '../helpers/git.js';

/** A host whose processes are the given pid → start time entries. */
function host(processes: Map<number, string>, dir: string) {
  return (pid: number, name = 'h1') => ({
    dir,
    host: name,
    self: { pid, start: processes.get(pid) ?? '' },
    running: (p: number): ProcessIdentity | undefined => (processes.has(p) ? { pid: p, start: processes.get(p) ?? '' } : undefined),
    settleMs: 5,
  });
}

describe('member slots', () => {
  it('gives two live processes two slots, and a restarted one its old slot back', async () => {
    const dir = await tempDir('pullrep-slots-');
    const processes = new Map([
      [100, 'b1/10'],
      [200, 'b1/20'],
    ]);
    const deps = host(processes, dir);
    const a = await claimMemberSlot(deps(100));
    const b = await claimMemberSlot(deps(200));
    expect([a.slot, b.slot]).toEqual([0, 1]);
    // 100 is killed; its successor (a new pid) takes slot 0 again, not slot 2.
    processes.delete(100);
    processes.set(300, 'b1/30');
    const c = await claimMemberSlot(deps(300));
    expect(c.slot).toBe(0);
    expect(await readFile(join(dir, '0'), 'utf8')).toBe('h1 300 b1/30\n');
    // A slot of another host (shared storage) is never taken over.
    await writeFile(join(dir, '2'), 'h2 999 x\n');
    processes.set(400, 'b1/40');
    expect((await claimMemberSlot(deps(400))).slot).toBe(3);
    // Releasing frees only one's own slot.
    await b.release();
    processes.set(500, 'b1/50');
    expect((await claimMemberSlot(deps(500))).slot).toBe(1);
    await a.release();
    expect(await readFile(join(dir, '0'), 'utf8')).toBe('h1 300 b1/30\n');
  });

  it('takes back a slot whose pid now belongs to another process, or to itself (a container whose pid is always 1)', async () => {
    const dir = await tempDir('pullrep-slots-');
    // Before a restart: pid 1 started at tick 5. After it: pid 1 again, started at tick 9.
    await writeFile(join(dir, '0'), 'h1 1 boot1/5\n');
    // And a pid reused by an unrelated process after a reboot.
    await writeFile(join(dir, '1'), 'h1 77 boot1/7\n');
    const processes = new Map([
      [1, 'boot2/9'],
      [77, 'boot2/3'],
      [88, 'boot2/4'],
    ]);
    const deps = host(processes, dir);
    expect((await claimMemberSlot(deps(1))).slot).toBe(0);
    expect((await claimMemberSlot(deps(88))).slot).toBe(1);
  });

  it('two processes taking over the same stale slot at once end with two slots', async () => {
    const dir = await tempDir('pullrep-slots-');
    await writeFile(join(dir, '0'), 'h1 42 b/1\n');
    const processes = new Map([
      [100, 'b/2'],
      [200, 'b/3'],
    ]);
    const deps = host(processes, dir);
    const [a, b] = await Promise.all([claimMemberSlot(deps(100)), claimMemberSlot(deps(200))]);
    expect(new Set([a.slot, b.slot]).size).toBe(2);
    const holders = await Promise.all([a, b].map((s) => readFile(join(dir, String(s.slot)), 'utf8')));
    expect(holders.sort()).toEqual(['h1 100 b/2\n', 'h1 200 b/3\n']);
  });

  it("knows this process's start time on this host", () => {
    const self = runningProcess(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(runningProcess(process.pid)?.start).toBe(self?.start);
  });
});
