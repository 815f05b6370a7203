import { readFileSync } from 'node:fs';

/** A process of this host, and what tells it apart from an earlier process with the same pid. */
export interface ProcessIdentity {
  pid: number;
  /** When the process started (clock ticks since boot, with the boot's id); '' when unknown. */
  start: string;
}

/**
 * The process running with `pid` on this host, if any: on Linux with its start time and the
 * boot's id (so a reused pid is a different process); elsewhere by its pid alone.
 */
export function runningProcess(pid: number): ProcessIdentity | undefined {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, start: startOf(pid) };
}

function startOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): state is field 3, starttime field 22.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start ? `${boot}/${start}` : '';
  } catch {
    return '';
  }
}
