import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessIdentity } from '../os/processes.js';

export { runningProcess, type ProcessIdentity } from '../os/processes.js';

/** A member slot this process holds; release it on shutdown. */
export interface MemberSlot {
  slot: number;
  release(): Promise<void>;
}

export interface SlotDeps {
  /** Directory of the slot files (one replica's, under replica.root). */
  dir: string;
  host: string;
  /** This process: its pid and what tells it apart from an earlier process with the same pid. */
  self: ProcessIdentity;
  /** The identity of the process running with this pid now, or undefined when none does. */
  running(pid: number): ProcessIdentity | undefined;
  /** Slots tried before giving up. */
  maxSlots?: number;
  /** How long a fresh claim is left before it is read back (a contender taking the same stale slot shows by then). */
  settleMs?: number;
}


/**
 * Claims the lowest free member slot of this replica: a file `<dir>/<slot>` holding
 * "host pid start". A process that restarts after a crash finds its old slot free and takes it
 * again, so an identity derived from the slot (the transactional id) is stable across restarts,
 * while two live processes never share one. A slot is free when its process is gone: no process
 * has that pid, or the one that has it started at another time (a pid reused after a reboot, or
 * this very process in a container whose pid is always 1). A slot written by another host counts
 * as taken. Two processes taking over the same stale slot at once are told apart by reading the
 * claim back after `settleMs`: the one that finds another's claim there tries the next slot.
 */
export async function claimMemberSlot(deps: SlotDeps): Promise<MemberSlot> {
  await mkdir(deps.dir, { recursive: true });
  const maxSlots = deps.maxSlots ?? 256;
  const mine = `${deps.host} ${deps.self.pid} ${deps.self.start}`;
  for (let slot = 0; slot < maxSlots; slot++) {
    const path = join(deps.dir, String(slot));
    const claimed = (await create(path, mine)) || ((await takeOverIfStale(path, deps)) && (await create(path, mine)));
    if (!claimed) continue;
    await new Promise((resolve) => setTimeout(resolve, deps.settleMs ?? 200));
    if ((await readFile(path, 'utf8').catch(() => '')).trim() !== mine) continue;
    return {
      slot,
      release: async () => {
        if ((await readFile(path, 'utf8').catch(() => '')).trim() === mine) await rm(path, { force: true });
      },
    };
  }
  throw new Error(`no free member slot in ${deps.dir} (${maxSlots} taken)`);
}

async function create(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(`${content}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Moves a slot file aside when its process (on this host) is gone. */
async function takeOverIfStale(path: string, deps: SlotDeps): Promise<boolean> {
  const [host, pidText, start = ''] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number(pidText);
  if (host !== deps.host || !Number.isInteger(pid) || pid <= 0) return false;
  if (alive(pid, start, deps)) return false;
  const aside = `${path}.stale-${deps.self.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch {
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

/** Whether the process that wrote a slot (pid and start time) is still running. */
function alive(pid: number, start: string, deps: SlotDeps): boolean {
  // Our own pid: a claim of this very process, or of an earlier one that had the same pid.
  if (pid === deps.self.pid) return start === deps.self.start;
  const now = deps.running(pid);
  if (now === undefined) return false;
  // The pid is in use: by the same process unless both start times are known and differ.
  return start === '' || now.start === '' || now.start === start;
}
