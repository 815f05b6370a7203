import { execFileSync } from 'node:child_process';

/** Whether a program this machine may lack (promtool, systemd-analyze) runs here. */
export function available(program: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(program, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
