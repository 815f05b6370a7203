import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A member slot this process holds; release it on shutdown. */
export interface MemberSlot {
  slot: number;
  release(): Promise<void>;
}

export interface SlotDeps {
  /** Directory of the slot files (one replica's, under replica.root). */
  dir: string;
  host: string;
  pid: number;
  /** Whether a process of this host is still running. */
  isAlive(pid: number): boolean;
  /** Slots tried before giving up. */
  maxSlots?: number;
}

/**
 * Claims the lowest free member slot of this replica: a file `<dir>/<slot>` holding "host pid".
 * A process that restarts after a crash finds its old slot free (its pid is gone) and takes it
 * again, so an identity derived from the slot (the transactional id) is stable across restarts
 * while two live processes never share one. A slot written by another host counts as taken.
 */
export async function claimMemberSlot(deps: SlotDeps): Promise<MemberSlot> {
  await mkdir(deps.dir, { recursive: true });
  const maxSlots = deps.maxSlots ?? 256;
  for (let slot = 0; slot < maxSlots; slot++) {
    const path = join(deps.dir, String(slot));
    if ((await create(path, deps)) || ((await takeOverIfStale(path, deps)) && (await create(path, deps)))) {
      return {
        slot,
        release: async () => {
          if ((await readFile(path, 'utf8').catch(() => '')).trim() === `${deps.host} ${deps.pid}`) await rm(path, { force: true });
        },
      };
    }
  }
  throw new Error(`no free member slot in ${deps.dir} (${maxSlots} taken)`);
}

async function create(path: string, deps: SlotDeps): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(`${deps.host} ${deps.pid}\n`);
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

/** Moves a slot file aside when its process (on this host) is gone; only one contender's rename succeeds. */
async function takeOverIfStale(path: string, deps: SlotDeps): Promise<boolean> {
  const [host, pidText] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number(pidText);
  if (host !== deps.host || !Number.isInteger(pid) || pid <= 0 || deps.isAlive(pid)) return false;
  const aside = `${path}.stale-${deps.pid}`;
  try {
    await rename(path, aside);
  } catch {
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

/** Whether a process of this host runs (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
